package ebssim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeedIsIdempotent(t *testing.T) {
	ts := serve(t, New(Config{}))
	var first, again struct {
		Accounts []Account `json:"accounts"`
	}
	seed := func(body string, into any) {
		t.Helper()
		r, _ := http.NewRequest(http.MethodPost, ts+"/_sim/accounts", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("seed: %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	seed(`{"accounts":[{"number":"C-1","currency":"USD","transactions":["INV-1","INV-2"]},{"number":"C-2","credit_hold":"Y"}]}`, &first)
	want := []Account{
		{Number: "C-1", Currency: "USD", CustAccountID: 1001, PartyID: 5001, CustAccountProfileID: 7001, CreditHold: "N", ObjectVersionNumber: 1,
			Transactions: []Transaction{{"INV-1", 20001, 30001, "USD"}, {"INV-2", 20002, 30002, "USD"}},
			Notes:        []Object{}, Tasks: []Object{}, Promises: []Object{}, Disputes: []Object{}, DunningRequests: []Object{}, Applications: []Object{}},
		{Number: "C-2", Currency: "USD", CustAccountID: 1002, PartyID: 5002, CustAccountProfileID: 7002, CreditHold: "Y", ObjectVersionNumber: 1,
			Transactions: []Transaction{}, Notes: []Object{}, Tasks: []Object{}, Promises: []Object{}, Disputes: []Object{}, DunningRequests: []Object{}, Applications: []Object{}},
	}
	if d := cmp.Diff(want, first.Accounts); d != "" {
		t.Errorf("seeded (-want +got):\n%s", d)
	}
	seed(`{"accounts":[{"number":"C-1","currency":"USD","transactions":["INV-2","INV-3"]}]}`, &again)
	want[0].Transactions = append(want[0].Transactions, Transaction{"INV-3", 20003, 30003, "USD"})
	if d := cmp.Diff(want[:1], again.Accounts); d != "" {
		t.Errorf("seeded again (-want +got):\n%s", d)
	}

	var state struct {
		Accounts []Account `json:"accounts"`
	}
	getJSON(t, ts+"/_sim/state", &state)
	if len(state.Accounts) != 2 {
		t.Errorf("state has %d accounts", len(state.Accounts))
	}
	getJSON(t, ts+"/_sim/state?account=C-2", &state)
	if d := cmp.Diff(want[1:], state.Accounts); d != "" {
		t.Errorf("state of C-2 (-want +got):\n%s", d)
	}
}

func TestControlRefusals(t *testing.T) {
	ts := serve(t, New(Config{}))
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/_sim/accounts", `{"accounts":[{"currency":"USD"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"number":"C-1","currency":"usd"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"number":"C-1","credit_hold":"yes"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"number":"C-1","transactions":[""]}]}`, 400},
		{"POST", "/_sim/accounts", `{"acounts":[]}`, 400},
		{"POST", "/_sim/accounts", `{`, 400},
		{"GET", "/_sim/accounts", ``, 405},
		{"POST", "/_sim/state", ``, 405},
		{"GET", "/_sim/state?account=C-9", ``, 404},
		{"GET", "/_sim/nothing", ``, 404},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(c.method, ts+c.path, strings.NewReader(c.body))
		status, out := do(t, nil, r)
		if status != c.status || out["error"] == "" {
			t.Errorf("%s %s %s: %d %v, want %d", c.method, c.path, c.body, status, out, c.status)
		}
	}
}

func TestStatsAndReset(t *testing.T) {
	s, ts := newSim(t)
	tok := loginToken(t, ts.URL)
	call(t, ts, "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})
	call(t, ts, "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})
	call(t, ts, "jtf_notes", "secure_create_note", noteIn("k-1"))
	setFaults(t, ts.URL, `{"rate":1,"kinds":["business_error"]}`)
	call(t, ts, "jtf_tasks", "create_task", taskIn("k-2"))

	var stats Stats
	getJSON(t, ts.URL+"/_sim/stats", &stats)
	want := Stats{Requests: map[string]int{"xx_recoup/find_account": 2, "jtf_notes/secure_create_note": 1, "jtf_tasks/create_task": 1},
		Faults: map[FaultKind]int{FaultBusinessError: 1}}
	if d := cmp.Diff(want, stats); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}

	if status, _ := postJSON(t, ts.URL+"/_sim/reset", ``); status != 200 {
		t.Fatalf("reset: %d", status)
	}
	if got := s.State(); len(got) != 0 {
		t.Errorf("state after reset: %v", got)
	}
	if got := applied(t, ts); len(got) != 0 {
		t.Errorf("applied after reset: %v", got)
	}
	if d := cmp.Diff(Stats{Requests: map[string]int{}, Faults: map[FaultKind]int{}}, s.Stats()); d != "" {
		t.Errorf("stats after reset:\n%s", d)
	}
	r := request(ts.URL, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}))
	r.Header.Del("Authorization")
	r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: tok})
	if status, _ := do(t, nil, r); status != 401 {
		t.Errorf("token after reset: %d", status)
	}
	// faults are off: the ERP answers, and the account is gone.
	if _, out := call(t, ts, "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}); out["X_MSG_DATA"] != "HZ_API_NO_RECORD: no account C-1" {
		t.Errorf("after reset: %v", out)
	}
}
