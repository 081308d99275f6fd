package d365sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// control serves the simulator's own API under /_sim/. It has no
// authentication: the simulator only listens on 127.0.0.1.
//
//	POST /_sim/accounts  {"accounts":[{"company":"usmf","account":"C-1","on_hold":"No","currency":"USD","invoices":["INV-1"]}]}
//	POST /_sim/faults    {"rate":0.2,"seed":7,"kinds":["error_500"],"slow":"300ms","hang":"30s","retry_after":1,"limit":0,"methods":["POST"]}
//	GET  /_sim/state     every customer and activity; ?company=usmf&account=C-1 for one customer
//	GET  /_sim/applied   {"<key>": records written with its marker}
//	GET  /_sim/stats     {"requests":{"METHOD EntitySet":n},"faults":{"kind":n},"tokens":n}
//	POST /_sim/reset     forget everything
func (s *Server) control(w *recorder, r *http.Request) {
	want := map[string]string{"/_sim/accounts": http.MethodPost, "/_sim/faults": http.MethodPost,
		"/_sim/state": http.MethodGet, "/_sim/applied": http.MethodGet, "/_sim/stats": http.MethodGet,
		"/_sim/reset": http.MethodPost}[r.URL.Path]
	switch {
	case want == "":
		controlError(w, http.StatusNotFound, "no control endpoint %s: see /_sim/accounts, faults, state, applied, stats, reset", clip(r.URL.Path))
		return
	case r.Method != want:
		controlError(w, http.StatusMethodNotAllowed, "%s is %s", r.URL.Path, want)
		return
	}
	switch r.URL.Path {
	case "/_sim/accounts":
		var in struct {
			Accounts []CustomerSeed `json:"accounts"`
		}
		if !decodeControl(w, r, &in) {
			return
		}
		out, err := s.Seed(in.Accounts)
		if err != nil {
			controlError(w, http.StatusBadRequest, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
	case "/_sim/faults":
		s.controlFaults(w, r)
	case "/_sim/state":
		acct := r.URL.Query().Get("account")
		if acct == "" {
			writeJSON(w, http.StatusOK, s.State())
			return
		}
		company := r.URL.Query().Get("company")
		if company == "" {
			company = "usmf"
		}
		c, found := s.Customer(company, acct)
		if !found {
			controlError(w, http.StatusNotFound, "no customer %s in %s", clip(acct), clip(company))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"customers": []Customer{c}})
	case "/_sim/applied":
		writeJSON(w, http.StatusOK, s.Applied())
	case "/_sim/stats":
		writeJSON(w, http.StatusOK, s.Stats())
	case "/_sim/reset":
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// faultsWire is Faults as JSON, durations as Go duration strings.
type faultsWire struct {
	Rate       float64     `json:"rate"`
	Seed       uint64      `json:"seed"`
	Kinds      []FaultKind `json:"kinds"`
	Slow       string      `json:"slow,omitempty"`
	Hang       string      `json:"hang,omitempty"`
	RetryAfter int         `json:"retry_after,omitempty"`
	Limit      int         `json:"limit,omitempty"`
	Methods    []string    `json:"methods,omitempty"`
}

func (s *Server) controlFaults(w *recorder, r *http.Request) {
	var in faultsWire
	if !decodeControl(w, r, &in) {
		return
	}
	f := Faults{Rate: in.Rate, Seed: in.Seed, Kinds: in.Kinds, RetryAfter: in.RetryAfter, Limit: in.Limit, Methods: in.Methods}
	for _, d := range []struct {
		name, text string
		to         *time.Duration
	}{{"slow", in.Slow, &f.Slow}, {"hang", in.Hang, &f.Hang}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			controlError(w, http.StatusBadRequest, "%s: %v", d.name, err)
			return
		}
		*d.to = v
	}
	if err := s.SetFaults(f); err != nil {
		controlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.mu.Lock()
	f = s.faults
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, faultsWire{Rate: f.Rate, Seed: f.Seed, Kinds: f.Kinds, Slow: f.Slow.String(), Hang: f.Hang.String(),
		RetryAfter: f.RetryAfter, Limit: f.Limit, Methods: f.Methods})
}

// decodeControl refuses unknown fields, so a misspelt option fails loudly
// instead of being ignored.
func decodeControl(w *recorder, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		controlError(w, http.StatusBadRequest, "body: %v", err)
		return false
	}
	return true
}

func controlError(w *recorder, status int, format string, args ...any) {
	w.outcome = "control_error"
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}
