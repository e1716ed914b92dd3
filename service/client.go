package service

import (
	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/credentials"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// build makes the API client a configuration asks for: apiclient.Client
// behind a pacer.Pacer, which also offers CloudQueryTask for discovery.
// The pacer's limiter comes from the service's registry, so a reload with
// the same access key keeps the bucket (and the slowdown after
// throttling) instead of granting a fresh burst.
func (s *Service) build(cfg *config.Config) (*pacer.Pacer, error) {
	creds, err := credentials.FromConfig(cfg.Credentials)
	if err != nil {
		return nil, err
	}
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    cfg.Endpoint,
		Credentials: creds,
		Location:    cfg.Location,
		HTTPClient:  s.o.HTTPClient,
		Observe:     s.apiMetrics.Attempt,
	})
	if err != nil {
		return nil, err
	}
	// An id read from a file is keyed by the file (Credentials.KeyName):
	// it keeps its bucket when the file rotates, as the default chain
	// keeps one bucket whatever key it finds, and the quota is the
	// account's anyway.
	key := pacer.DefaultChainKey
	if cfg.Credentials != nil {
		key = cfg.Credentials.KeyName()
	}
	lim := s.limiters.Get(key, pacer.LimiterConfig{
		RequestsPerSecond: cfg.API.RequestsPerSecond,
		Burst:             cfg.API.Burst,
		// Always on until config has a switch (api.adaptive): slowing
		// down when the server says so is what a shared quota needs.
		Adaptive: true,
	})
	return pacer.New(c, lim, pacer.Config{MaxRetries: cfg.API.MaxRetries, MinInterval: cfg.API.MinInterval}, s.apiMetrics), nil
}
