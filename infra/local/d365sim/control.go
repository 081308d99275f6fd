package d365sim

import (
	"net/http"
	"time"

	"github.com/recoup-dev/recoup/infra/local/simctl"
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
//
// controlRoutes are the control endpoints and their methods.
var controlRoutes = map[string]string{"/_sim/accounts": http.MethodPost, "/_sim/faults": http.MethodPost,
	"/_sim/state": http.MethodGet, "/_sim/applied": http.MethodGet, "/_sim/stats": http.MethodGet,
	"/_sim/reset": http.MethodPost}

func (s *Server) control(w *recorder, r *http.Request) {
	if !simctl.Route(w, r, controlRoutes) {
		w.outcome = "control_error"
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
		simctl.JSON(w, http.StatusOK, map[string]any{"accounts": out})
	case "/_sim/faults":
		s.controlFaults(w, r)
	case "/_sim/state":
		acct := r.URL.Query().Get("account")
		if acct == "" {
			simctl.JSON(w, http.StatusOK, s.State())
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
		simctl.JSON(w, http.StatusOK, map[string]any{"customers": []Customer{c}})
	case "/_sim/applied":
		simctl.JSON(w, http.StatusOK, s.Applied())
	case "/_sim/stats":
		simctl.JSON(w, http.StatusOK, s.Stats())
	case "/_sim/reset":
		s.Reset()
		simctl.JSON(w, http.StatusOK, map[string]any{})
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
	if err := simctl.Durations(map[string]string{"slow": in.Slow, "hang": in.Hang},
		map[string]*time.Duration{"slow": &f.Slow, "hang": &f.Hang}); err != nil {
		controlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.SetFaults(f); err != nil {
		controlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.mu.Lock()
	f = s.faults
	s.mu.Unlock()
	simctl.JSON(w, http.StatusOK, faultsWire{Rate: f.Rate, Seed: f.Seed, Kinds: f.Kinds, Slow: f.Slow.String(), Hang: f.Hang.String(),
		RetryAfter: f.RetryAfter, Limit: f.Limit, Methods: f.Methods})
}

// decodeControl refuses unknown fields, so a misspelt option fails loudly
// instead of being ignored.
func decodeControl(w *recorder, r *http.Request, v any) bool {
	if !simctl.Decode(w, r, v, maxBody) {
		w.outcome = "control_error"
		return false
	}
	return true
}

func controlError(w *recorder, status int, format string, args ...any) {
	w.outcome = "control_error"
	simctl.Error(w, status, format, args...)
}
