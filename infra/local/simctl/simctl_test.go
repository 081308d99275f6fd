package simctl

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRouteAndDecode(t *testing.T) {
	routes := map[string]string{"/_sim/faults": http.MethodPost, "/_sim/state": http.MethodGet}
	tests := []struct {
		method, path, body string
		status             int
		want               string // substring of the answer
	}{
		{http.MethodPost, "/_sim/faults", `{"rate":0.2}`, http.StatusOK, `"rate":0.2`},
		{http.MethodPost, "/_sim/faults", ``, http.StatusOK, `"rate":0`},
		{http.MethodGet, "/_sim/faults", ``, http.StatusMethodNotAllowed, "/_sim/faults is POST"},
		{http.MethodGet, "/_sim/nope", ``, http.StatusNotFound, "see /_sim/faults, state"},
		{http.MethodPost, "/_sim/faults", `{"rte":0.2}`, http.StatusBadRequest, `unknown field \"rte\"`},
		{http.MethodPost, "/_sim/faults", `{"rate":0.2}{}`, http.StatusBadRequest, "data after the JSON object"},
		{http.MethodPost, "/_sim/faults", strings.Repeat(" ", 200) + `{}`, http.StatusBadRequest, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body[:min(len(tc.body), 12)], func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			var in struct {
				Rate float64 `json:"rate"`
			}
			if Route(w, r, routes) && Decode(w, r, &in, 100) {
				JSON(w, http.StatusOK, in)
			}
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("%d %s, want %d with %q", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	var slow, hang time.Duration
	to := map[string]*time.Duration{"slow": &slow, "hang": &hang}
	if err := Durations(map[string]string{"slow": "300ms", "hang": ""}, to); err != nil || slow != 300*time.Millisecond || hang != 0 {
		t.Fatalf("slow %s hang %s, %v", slow, hang, err)
	}
	if err := Durations(map[string]string{"hang": "soon"}, to); err == nil || !strings.HasPrefix(err.Error(), "hang: ") {
		t.Fatalf("error %v, want one naming hang", err)
	}
}

func TestServeOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "localhost:0", "nonsense"} {
		if err := Serve(addr, http.NotFoundHandler(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "-addr") {
			t.Errorf("Serve(%q) = %v, want a refusal naming -addr", addr, err)
		}
	}
	if _, err := Logger("loud"); err == nil {
		t.Error("an unknown log level was accepted")
	}
}
