package service

import (
	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// newClient makes one account's API client: apiclient.Client behind a
// pacer.Pacer, which also offers CloudQueryTask for discovery and the call
// records. The pacer's limiter comes from the service's registry under
// key, so a reload that rebuilds the account keeps the bucket (and the
// slowdown after throttling) instead of granting a fresh burst. Its
// metrics are the account's own (accountmetrics.go).
func (s *Service) newClient(cfg *config.Config, name string, st accountSettings, creds apiclient.CredentialsProvider, key string) (*pacer.Pacer, error) {
	m := s.metricsFor(name)
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    st.Endpoint,
		Credentials: creds,
		Location:    cfg.Location,
		HTTPClient:  s.o.HTTPClient,
		Observe:     m.Attempt,
		Now:         s.o.Now,
	})
	if err != nil {
		return nil, err
	}
	lim := s.limiters.Get(key, pacer.LimiterConfig{
		RequestsPerSecond: st.API.RequestsPerSecond,
		Burst:             st.API.Burst,
		// Always on until config has a switch (api.adaptive): slowing
		// down when the server says so is what a shared quota needs.
		Adaptive: true,
	})
	return pacer.New(c, lim, pacer.Config{MaxRetries: st.API.MaxRetries, MinInterval: st.API.MinInterval}, m.Metrics), nil
}
