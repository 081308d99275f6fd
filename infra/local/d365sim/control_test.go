package d365sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeedIsIdempotent(t *testing.T) {
	ts := serve(t, New(Config{}))
	var first, again struct {
		Accounts []Customer `json:"accounts"`
	}
	seed := func(body string, into any) {
		t.Helper()
		resp, err := http.Post(ts+"/_sim/accounts", "application/json", strings.NewReader(body))
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
	seed(`{"accounts":[{"account":"C-1","currency":"USD","invoices":["INV-1","INV-2"]},{"company":"demf","account":"C-1","on_hold":"Invoice"}]}`, &first)
	want := []Customer{
		{Company: "usmf", Account: "C-1", OnHoldStatus: "No", Currency: "USD", Version: 1,
			Transactions: []Transaction{{RecID: 5637144576, Invoice: "INV-1", Currency: "USD"}, {RecID: 5637144577, Invoice: "INV-2", Currency: "USD"}},
			Attachments:  []Attachment{}},
		{Company: "demf", Account: "C-1", OnHoldStatus: "Invoice", Currency: "USD", Version: 1, Transactions: []Transaction{}, Attachments: []Attachment{}},
	}
	if d := cmp.Diff(want, first.Accounts); d != "" {
		t.Errorf("seeded (-want +got):\n%s", d)
	}
	seed(`{"accounts":[{"account":"C-1","invoices":["INV-2","INV-3"]}]}`, &again)
	want[0].Transactions = append(want[0].Transactions, Transaction{RecID: 5637144578, Invoice: "INV-3", Currency: "USD"})
	if d := cmp.Diff(want[:1], again.Accounts); d != "" {
		t.Errorf("seeded again (-want +got):\n%s", d)
	}

	var state State
	getJSON(t, ts+"/_sim/state", &state)
	if len(state.Customers) != 2 || state.Activities == nil {
		t.Errorf("state: %+v", state)
	}
	getJSON(t, ts+"/_sim/state?company=demf&account=c-1", &state)
	if d := cmp.Diff(want[1:], state.Customers); d != "" {
		t.Errorf("state of demf C-1 (-want +got):\n%s", d)
	}
}

func TestControlRefusals(t *testing.T) {
	ts := serve(t, New(Config{}))
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/_sim/accounts", `{"accounts":[{"account":""}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"account":"C","company":"USMF1"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"account":"C","on_hold":"Yes"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"account":"C","currency":"usd"}]}`, 400},
		{"POST", "/_sim/accounts", `{"accounts":[{"account":"C","invoice":["I"]}]}`, 400},
		{"GET", "/_sim/accounts", ``, 405},
		{"GET", "/_sim/state?account=C-404", ``, 404},
		{"GET", "/_sim/nothing", ``, 404},
	} {
		r, _ := http.NewRequest(tt.method, ts+tt.path, strings.NewReader(tt.body))
		if status, out := do(t, r); status != tt.status || out["error"] == nil {
			t.Errorf("%s %s %s: %d %v, want %d", tt.method, tt.path, tt.body, status, out, tt.status)
		}
	}
}

func TestResetAndHealth(t *testing.T) {
	s, ts := newSim(t)
	tok := newToken(t, ts.URL)
	do(t, request(ts.URL, tok, "POST", "CustomerAttachments", noteBody(markerA)))
	if status, _ := postJSON(t, ts.URL+"/_sim/reset", ``); status != 200 {
		t.Fatal(status)
	}
	if st := s.State(); len(st.Customers) != 0 || len(s.Applied()) != 0 || s.Stats().Tokens != 0 {
		t.Errorf("after reset: %+v %v %+v", st, s.Applied(), s.Stats())
	}
	if status, _ := do(t, request(ts.URL, tok, "GET", customer1, nil)); status != 401 {
		t.Errorf("a token survived the reset: %d", status)
	}
	resp, err := http.Get(ts.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("health: %d %q", resp.StatusCode, b)
	}
}
