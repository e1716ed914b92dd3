package simulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
)

// Stats counts what reached the gateway, so tests can assert on the calls
// an exporter makes (e.g. one CloudMonitorTask per task per scrape).
type Stats struct {
	// Requests counts every request, rejected ones included.
	Requests uint64 `json:"requests"`
	// Actions is per x-acs-action header value ("" when missing).
	Actions map[string]uint64 `json:"actions"`
	// Tasks counts CloudMonitorTask per "EnterpriseId/TaskId" as sent.
	Tasks map[string]uint64 `json:"tasks"`
	// Enterprises counts CloudQueryTask and CloudQueryPredictiveCallCdr per
	// EnterpriseId as sent.
	Enterprises map[string]uint64 `json:"enterprises"`
	// Codes is per answered Code ("OK", "Throttling.User", ...).
	Codes map[string]uint64 `json:"codes"`
	// Statuses is per HTTP status ("200", "400", ...).
	Statuses map[string]uint64 `json:"statuses"`
	// Faults is per injected fault kind.
	Faults map[string]uint64 `json:"faults"`
	// NonceEvictions counts nonces forgotten early because max_nonces was reached.
	NonceEvictions uint64 `json:"nonce_evictions"`
}

type statsCollector struct {
	mu sync.Mutex
	s  Stats
}

func (c *statsCollector) reset() {
	c.mu.Lock()
	c.s = Stats{
		Actions: map[string]uint64{}, Tasks: map[string]uint64{}, Enterprises: map[string]uint64{},
		Codes: map[string]uint64{}, Statuses: map[string]uint64{}, Faults: map[string]uint64{},
	}
	c.mu.Unlock()
}

func (c *statsCollector) begin(action string) {
	c.mu.Lock()
	c.s.Requests++
	c.s.Actions[action]++
	c.mu.Unlock()
}

func (c *statsCollector) task(key string) {
	c.mu.Lock()
	c.s.Tasks[key]++
	c.mu.Unlock()
}

func (c *statsCollector) enterprise(key string) {
	c.mu.Lock()
	c.s.Enterprises[key]++
	c.mu.Unlock()
}

func (c *statsCollector) finish(status int, code string, faults []string) {
	c.mu.Lock()
	c.s.Codes[code]++
	c.s.Statuses[strconv.Itoa(status)]++
	for _, f := range faults {
		c.s.Faults[f]++
	}
	c.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Simulator) Stats() Stats {
	s.stats.mu.Lock()
	out := s.stats.s
	out.Actions = maps.Clone(out.Actions)
	out.Tasks = maps.Clone(out.Tasks)
	out.Enterprises = maps.Clone(out.Enterprises)
	out.Codes = maps.Clone(out.Codes)
	out.Statuses = maps.Clone(out.Statuses)
	out.Faults = maps.Clone(out.Faults)
	s.stats.mu.Unlock()
	out.NonceEvictions = s.nonces.evicted()
	return out
}

// ResetStats zeroes the counters, so a test can count one phase only.
func (s *Simulator) ResetStats() { s.stats.reset() }

// AdminHandler serves the control endpoints, meant for loopback only (it
// has no authentication):
//
//	GET    /admin/          this list, as text
//	GET    /admin/faults    the fault rules in force (defaults filled in)
//	PUT    /admin/faults    replace them: {"rules":[{"kind":"throttle","probability":0.2}]}
//	POST   /admin/scenario  {"enterprise":7000002,"task":19,"name":"agents_pause"}
//	GET    /admin/stats     the request counters (Stats)
//	DELETE /admin/stats     zero them
func (s *Simulator) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, adminIndex)
	})
	mux.HandleFunc("GET /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if err := decodeJSON(r, &f); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.SetFaults(f); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /admin/scenario", func(w http.ResponseWriter, r *http.Request) {
		var sc Scenario
		if err := decodeJSON(r, &sc); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.Scenario(sc); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, sc)
	})
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("DELETE /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// adminIndex is what GET /admin/ answers: the address the demo logs.
const adminIndex = `dyvms simulator admin API (JSON in and out, no authentication: loopback only)

GET    /admin/faults    the fault rules in force (defaults filled in)
PUT    /admin/faults    replace them, e.g. {"rules":[{"kind":"throttle","probability":0.2}]}
                        kinds: throttle unavailable internal error latency malformed
                        truncated oversize strings duplicate_cno; {"rules":[]} clears
POST   /admin/scenario  switch a task now, e.g. {"enterprise":7000002,"task":19,"name":"agents_pause"}
                        names: agents_pause agents_resume agents_offline agents_online
                        task_pause task_run task_finish; an agents_* scenario with
                        "task":0 switches every task of the enterprise (its whole
                        floor, which also serves its inbound queues)
GET    /admin/stats     request counters
DELETE /admin/stats     zero them
`
