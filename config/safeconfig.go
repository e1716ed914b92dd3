package config

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// SafeConfig holds the configuration in force. A reload swaps it whole, so
// a scrape that has taken a *Config keeps a consistent view even while a
// new file is being loaded, and a broken file never replaces a working one.
type SafeConfig struct {
	mu  sync.RWMutex
	cfg *Config

	// The gauges let an alert catch a reload that failed silently, the
	// usual way a typo goes unnoticed until the next restart.
	lastReloadSuccess     prometheus.Gauge
	lastReloadSuccessTime prometheus.Gauge
}

// NewSafeConfig registers the reload gauges with reg (nil: not registered).
// It holds no configuration until the first successful Reload.
func NewSafeConfig(reg prometheus.Registerer) *SafeConfig {
	f := promauto.With(reg)
	return &SafeConfig{
		lastReloadSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "dyvms_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or failed and the previous configuration is still in force (0).",
		}),
		lastReloadSuccessTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "dyvms_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Time of the last successful configuration reload, in seconds since the Unix epoch.",
		}),
	}
}

// Reload loads path and, only if it is valid, makes it the configuration
// in force. On error the previous configuration stays.
func (sc *SafeConfig) Reload(path string) error {
	cfg, err := Load(path)
	if err != nil {
		sc.lastReloadSuccess.Set(0)
		return err
	}
	sc.mu.Lock()
	sc.cfg = cfg
	sc.mu.Unlock()
	sc.lastReloadSuccess.Set(1)
	sc.lastReloadSuccessTime.SetToCurrentTime()
	return nil
}

// Get returns the configuration in force, nil before the first successful
// Reload. The value is shared: do not modify it.
func (sc *SafeConfig) Get() *Config {
	sc.mu.RLock()
	defer sc.mu.RUnlock()
	return sc.cfg
}
