package ebssim

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

// Each fault kind, injected into every call, as the adapter sees it and as
// the ERP's state shows it afterwards.
func TestFaultKinds(t *testing.T) {
	cases := []struct {
		kind    FaultKind
		token   bool // call with the login token instead of Basic
		status  int
		code    string // ISGServiceFault code, or X_RETURN_STATUS
		invalid bool   // the answer is not JSON
		applied int
		counted FaultKind // the kind in Stats
	}{
		{kind: FaultError500, status: 500, code: "ISG_DB_CONNECTION_ERROR", applied: 0},
		{kind: FaultError500AfterCommit, status: 500, code: "ISG_DB_CONNECTION_ERROR", applied: 1},
		{kind: FaultMalformed, status: 200, invalid: true, applied: 1},
		{kind: FaultBusinessError, status: 200, code: "E", applied: 0},
		{kind: FaultUnexpectedError, status: 200, code: "U", applied: 0},
		{kind: FaultSlow, status: 200, code: "S", applied: 1},
		{kind: FaultTokenExpired, token: true, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE", applied: 0},
		{kind: FaultTokenExpired, status: 500, code: "ISG_DB_CONNECTION_ERROR", applied: 0, counted: FaultError500},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s token=%v", c.kind, c.token), func(t *testing.T) {
			s, ts := newSim(t)
			tok := ""
			if c.token {
				tok = loginToken(t, ts.URL)
			}
			setFaults(t, ts.URL, fmt.Sprintf(`{"rate":1,"seed":1,"kinds":[%q],"slow":"40ms"}`, c.kind))
			r := request(ts.URL, "jtf_notes", "secure_create_note", envelope("secure_create_note", noteIn("k-fault")))
			if c.token {
				r.Header.Del("Authorization")
				r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: tok})
			}
			start := time.Now()
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)

			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, b)
			}
			if json.Valid(b) == c.invalid {
				t.Fatalf("answer valid JSON %v, want %v: %s", json.Valid(b), !c.invalid, b)
			}
			if !c.invalid {
				var out map[string]any
				_ = json.Unmarshal(b, &out)
				code := faultCode(out)
				if op, isOut := out["OutputParameters"].(map[string]any); isOut {
					code, _ = op["X_RETURN_STATUS"].(string)
				}
				if code != c.code {
					t.Errorf("code %q, want %q: %s", code, c.code, b)
				}
			}
			if c.kind == FaultSlow && took < 40*time.Millisecond {
				t.Errorf("slow answered in %v", took)
			}
			if got := applied(t, ts)["k-fault"]; got != c.applied {
				t.Errorf("applied %d times, want %d", got, c.applied)
			}
			want := c.counted
			if want == "" {
				want = c.kind
			}
			if d := cmp.Diff(map[FaultKind]int{want: 1}, s.Stats().Faults); d != "" {
				t.Errorf("faults (-want +got):\n%s", d)
			}
			if c.token {
				setFaults(t, ts.URL, `{"rate":0}`)
				r := request(ts.URL, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}))
				r.Header.Del("Authorization")
				r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: tok})
				if status, _ := do(t, nil, r); status != 401 {
					t.Errorf("the expired token still works: %d", status)
				}
			}
		})
	}
}

// timeout_after_commit applies the call and never answers: the client
// times out and only a read-back shows the write happened.
func TestFaultTimeoutAfterCommit(t *testing.T) {
	_, ts := newSim(t)
	setFaults(t, ts.URL, `{"rate":1,"seed":1,"kinds":["timeout_after_commit"],"hang":"20s"}`)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	resp, err := client.Do(request(ts.URL, "jtf_notes", "secure_create_note", envelope("secure_create_note", noteIn("k-lost"))))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the client waited %v", took)
	}
	if got := applied(t, ts)["k-lost"]; got != 1 {
		t.Errorf("applied %d times, want 1", got)
	}
	setFaults(t, ts.URL, `{"rate":0}`)
	_, out := call(t, ts, "xx_recoup", "find_action", map[string]any{"P_KEY": "k-lost"})
	if out["X_FOUND"] != "Y" || out["X_OBJECT_ID"] != "10001" {
		t.Errorf("read-back: %v", out)
	}
}

// The hang ends on its own when the client waits longer than it.
func TestFaultTimeoutHangEnds(t *testing.T) {
	_, ts := newSim(t)
	setFaults(t, ts.URL, `{"rate":1,"seed":1,"kinds":["timeout_after_commit"],"hang":"50ms"}`)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(request(ts.URL, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
	if strings.Contains(err.Error(), "Timeout") {
		t.Errorf("the client timed out instead of the connection closing: %v", err)
	}
}

// The same seed and calls give the same faults; login and the control API
// never fail.
func TestFaultsReproducible(t *testing.T) {
	run := func() []string {
		_, ts := newSim(t)
		setFaults(t, ts.URL, `{"rate":0.5,"seed":7,"kinds":["error_500","business_error"]}`)
		r, _ := http.NewRequest(http.MethodGet, ts.URL+restPrefix+"login", nil)
		r.SetBasicAuth("RECOUP_ISG", "welcome1")
		if status, _ := do(t, nil, r); status != 200 {
			t.Fatalf("login under faults: %d", status)
		}
		var out []string
		for range 40 {
			status, op := call(t, ts, "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})
			out = append(out, fmt.Sprintf("%d %v", status, op["X_RETURN_STATUS"]))
		}
		return out
	}
	a, b := run(), run()
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("two runs differ:\n%s", d)
	}
	seen := map[string]int{}
	for _, o := range a {
		seen[o]++
	}
	for _, o := range []string{"200 S", "200 E", "500 <nil>"} {
		if seen[o] == 0 {
			t.Errorf("no %q in %v", o, seen)
		}
	}
}

func TestFaultsRefused(t *testing.T) {
	_, ts := newSim(t)
	for _, body := range []string{`{"rate":2}`, `{"rate":0.1,"kinds":["boom"]}`, `{"rate":0.1,"slow":"soon"}`, `{"rate":0.1,"rat":1}`, `{"rate":-1}`} {
		if status, _ := postJSON(t, ts.URL+"/_sim/faults", body); status != 400 {
			t.Errorf("%s: %d, want 400", body, status)
		}
	}
	status, out := postJSON(t, ts.URL+"/_sim/faults", `{"rate":0.25,"seed":3}`)
	if status != 200 || out["slow"] != "300ms" || out["hang"] != "30s" || len(out["kinds"].([]any)) != len(FaultKinds) {
		t.Errorf("defaults: %d %v", status, out)
	}
}

func setFaults(t testing.TB, base, body string) {
	t.Helper()
	if status, out := postJSON(t, base+"/_sim/faults", body); status != 200 {
		t.Fatalf("set faults %s: %d %v", body, status, out)
	}
}

func loginToken(t testing.TB, base string) string {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, base+restPrefix+"login", nil)
	r.SetBasicAuth("RECOUP_ISG", "welcome1")
	status, out := do(t, nil, r)
	if status != 200 {
		t.Fatalf("login: %d %v", status, out)
	}
	return out["response"].(map[string]any)["data"].(map[string]any)["accessToken"].(string)
}
