package service

import (
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// build makes one account's API client: apiclient.Client behind a
// pacer.Pacer, which also offers CloudQueryTask for discovery and the call
// records. The pacer's limiter comes from the service's registry under
// key, so a reload that rebuilds the account keeps the bucket (and the
// slowdown after throttling) instead of granting a fresh burst.
func (s *Service) build(cfg *config.Config, name string, st accountSettings, creds apiclient.CredentialsProvider, key string) (*pacer.Pacer, error) {
	pc, m := s.pc, s.metricsFor(name)
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    st.Endpoint,
		Credentials: creds,
		Location:    cfg.Location,
		HTTPClient:  s.o.HTTPClient,
		Observe: func(operation, code string, d time.Duration) {
			m.api.Observe(operation, code, d)
			m.pacer.ObserveDuration(operation, d)
		},
	})
	if err != nil {
		return nil, err
	}
	lim := pc.limiters.Get(key, pacer.LimiterConfig{
		RequestsPerSecond: st.API.RequestsPerSecond,
		Burst:             st.API.Burst,
		// Always on until config has a switch (api.adaptive): slowing
		// down when the server says so is what a shared quota needs.
		Adaptive: true,
	})
	return pacer.New(c, lim, pacer.Config{MaxRetries: st.API.MaxRetries, MinInterval: st.API.MinInterval}, m.pacer), nil
}

// pacing is what every client a Service builds shares for the life of
// the Service: the limiter per credential or account.
type pacing struct {
	limiters *pacer.Limiters
}
