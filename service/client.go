package service

import (
	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// build makes the API client a configuration asks for.
func (s *Service) build(cfg *config.Config) (collector.MonitorAPI, error) {
	creds, err := cfg.CredentialsProvider()
	if err != nil {
		return nil, err
	}
	return apiclient.New(apiclient.Options{
		Endpoint:    cfg.Endpoint,
		Credentials: creds,
		Location:    cfg.Location,
		HTTPClient:  s.o.HTTPClient,
		Observe:     s.apiMetrics.Observe,
	})
}
