package d365sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Each fault kind, injected into a note's POST, as a client sees it and as
// the state shows it afterwards.
func TestFaultKinds(t *testing.T) {
	cases := []struct {
		kind       FaultKind
		fresh      bool // the request's token has not been used before
		status     int
		invalid    bool // the answer is not JSON
		retryAfter string
		applied    int
		counted    FaultKind // the kind in Stats, when not kind
	}{
		{kind: FaultError500, status: 500},
		{kind: FaultError500AfterCommit, status: 500, applied: 1},
		{kind: FaultMalformed, status: 201, invalid: true, applied: 1},
		{kind: FaultThrottled, status: 429, retryAfter: "3"},
		{kind: FaultBusinessError, status: 400},
		{kind: FaultSlow, status: 201, applied: 1},
		{kind: FaultTokenExpired, status: 401},
		{kind: FaultTokenExpired, fresh: true, status: 500, counted: FaultError500},
		{kind: FaultConcurrentUpdate, status: 201, applied: 1, counted: "-"}, // POST is not touched
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s fresh=%v", c.kind, c.fresh), func(t *testing.T) {
			s, ts := newSim(t)
			tok := newToken(t, ts.URL)
			if !c.fresh {
				do(t, request(ts.URL, tok, "GET", customer1, nil))
			}
			setFaults(t, ts.URL, fmt.Sprintf(`{"rate":1,"seed":1,"kinds":[%q],"slow":"40ms","retry_after":3}`, c.kind))
			start := time.Now()
			resp, err := http.DefaultClient.Do(request(ts.URL, tok, "POST", "CustomerAttachments", noteBody(markerA)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, b)
			}
			if len(b) > 0 && json.Valid(b) == c.invalid {
				t.Errorf("answer valid JSON %v, want %v: %s", json.Valid(b), !c.invalid, b)
			}
			if got := resp.Header.Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, c.retryAfter)
			}
			if c.kind == FaultSlow && time.Since(start) < 40*time.Millisecond {
				t.Errorf("slow answered in %v", time.Since(start))
			}
			if got := s.Applied()[markerA[7:]]; got != c.applied {
				t.Errorf("applied %d times, want %d", got, c.applied)
			}
			want := map[FaultKind]int{c.kind: 1}
			switch c.counted {
			case "":
			case "-":
				want = map[FaultKind]int{}
			default:
				want = map[FaultKind]int{c.counted: 1}
			}
			if d := cmp.Diff(want, s.Stats().Faults); d != "" {
				t.Errorf("faults (-want +got):\n%s", d)
			}
			if c.kind == FaultTokenExpired && !c.fresh {
				setFaults(t, ts.URL, `{"rate":0}`)
				if status, _ := do(t, request(ts.URL, tok, "GET", customer1, nil)); status != 401 {
					t.Errorf("the expired token still works: %d", status)
				}
			}
		})
	}
}

// A concurrent update changes the customer just before the PATCH, which
// then fails its If-Match.
func TestFaultConcurrentUpdate(t *testing.T) {
	s, ts := newSim(t)
	tok := newToken(t, ts.URL)
	setFaults(t, ts.URL, `{"rate":1,"seed":1,"kinds":["concurrent_update"],"limit":1}`)
	hold := func(etag string) int {
		r := request(ts.URL, tok, "PATCH", customer1, map[string]any{"OnHoldStatus": "All"})
		r.Header.Set("If-Match", etag)
		status, _ := do(t, r)
		return status
	}
	if status := hold(`W/"1"`); status != 412 {
		t.Fatalf("first PATCH: %d, want 412", status)
	}
	if status := hold(`W/"2"`); status != 204 {
		t.Fatalf("PATCH with the new ETag: %d, want 204", status)
	}
	if c, _ := s.Customer("usmf", "C-1"); c.OnHoldStatus != "All" || c.HoldUpdates != 1 || c.Version != 3 {
		t.Errorf("customer: %+v", c)
	}
}

// timeout_after_commit runs the request and never answers: the client
// times out and only a read-back shows the write happened.
func TestFaultTimeoutAfterCommit(t *testing.T) {
	s, ts := newSim(t)
	tok := newToken(t, ts.URL)
	setFaults(t, ts.URL, `{"rate":1,"seed":1,"kinds":["timeout_after_commit"],"hang":"20s","methods":["POST"]}`)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	resp, err := client.Do(request(ts.URL, tok, "POST", "Activities", activityBody(markerA)))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the client waited %v", took)
	}
	if got := s.Applied()[markerA[7:]]; got != 1 {
		t.Errorf("applied %d times, want 1", got)
	}
	// Reads are not faulted (methods: POST): the read-back finds it.
	status, out := do(t, request(ts.URL, tok, "GET", "Activities?$filter="+filter("dataAreaId eq 'usmf' and Purpose eq '"+markerA+"*'"), nil))
	if rows, _ := out["value"].([]any); status != 200 || len(rows) != 1 {
		t.Errorf("read-back: %d %v", status, out)
	}
}

// The hang ends on its own when the client waits longer than it.
func TestFaultTimeoutHangEnds(t *testing.T) {
	_, ts := newSim(t)
	tok := newToken(t, ts.URL)
	setFaults(t, ts.URL, `{"rate":1,"seed":1,"kinds":["timeout_after_commit"],"hang":"50ms"}`)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(request(ts.URL, tok, "GET", customer1, nil))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if strings.Contains(err.Error(), "Timeout") {
		t.Errorf("the client timed out instead of the connection closing: %v", err)
	}
}

// The same seed and requests give the same faults; the token endpoint and
// the control API never fail; Limit stops injection.
func TestFaultsReproducible(t *testing.T) {
	run := func() []int {
		_, ts := newSim(t)
		setFaults(t, ts.URL, `{"rate":0.5,"seed":7,"kinds":["error_500","business_error","throttled"],"limit":10}`)
		tok := newToken(t, ts.URL)
		var out []int
		for range 40 {
			status, _ := do(t, request(ts.URL, tok, "GET", customer1, nil))
			out = append(out, status)
		}
		return out
	}
	a, b := run(), run()
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("two runs differ:\n%s", d)
	}
	seen, failed := map[int]int{}, 0
	for _, st := range a {
		seen[st]++
		if st != 200 {
			failed++
		}
	}
	if seen[500] == 0 || seen[400] == 0 || seen[429] == 0 || failed != 10 {
		t.Errorf("statuses %v, want 10 failures of each kind's status", seen)
	}
}

func TestFaultsRefused(t *testing.T) {
	_, ts := newSim(t)
	for _, body := range []string{`{"rate":2}`, `{"rate":0.1,"kinds":["boom"]}`, `{"rate":0.1,"slow":"soon"}`, `{"rate":0.1,"rat":1}`,
		`{"rate":-1}`, `{"rate":0.1,"methods":["DELETE"]}`, `{"rate":0.1,"limit":-1}`} {
		if status, _ := postJSON(t, ts.URL+"/_sim/faults", body); status != 400 {
			t.Errorf("%s: %d, want 400", body, status)
		}
	}
	status, out := postJSON(t, ts.URL+"/_sim/faults", `{"rate":0.25,"seed":3}`)
	if status != 200 || out["slow"] != "300ms" || out["hang"] != "30s" || out["retry_after"] != float64(1) || len(out["kinds"].([]any)) != len(FaultKinds) {
		t.Errorf("defaults: %d %v", status, out)
	}
}
