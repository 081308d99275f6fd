package dynamics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/d365sim"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// The adapter is what write-back delivers through.
var _ writeback.ERP = (*Client)(nil)

const tokenPath = "/recoup-sim/oauth2/v2.0/token"

// seed is the simulator's data for most tests: C-1 with two invoices and
// a look-alike of the first ("inv-1": F&O matches case-insensitively),
// C-2 on hold with a euro invoice, C-3 never on hold.
var seed = []d365sim.CustomerSeed{
	{Account: "C-1", Currency: "USD", Invoices: []string{"INV-1", "INV-2", "inv-1"}},
	{Account: "C-2", Currency: "EUR", OnHoldStatus: "All", Invoices: []string{"INV-9"}},
	{Account: "C-3", OnHoldStatus: "Never"},
}

// newSim serves the simulator with seed and returns it with a client.
func newSim(t *testing.T, edit func(*Config)) (*d365sim.Server, *Client) {
	t.Helper()
	sim := d365sim.New(d365sim.Config{})
	if _, err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, newClient(t, srv.URL, edit)
}

func newClient(t *testing.T, base string, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, TokenURL: base + tokenPath, ClientID: "recoup-d365", ClientSecret: "recoup-secret",
		Company: "USMF", Timeout: 2 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var at = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func act(kind erp.Kind, customer, trx string, edit func(*erp.Action)) erp.Action {
	a := erp.New("acme", kind, "test:"+string(kind)+customer+trx, erp.Target{Customer: customer, Transaction: trx}, at)
	if edit != nil {
		edit(&a)
	}
	return a
}

var usd = &erp.Money{Minor: 18000, Currency: "USD"}

// TestApplyEveryKind: each action passes the simulator's checks of
// headers, keys, filters and bodies, is found by its read-back, and lands
// as F&O would hold it, once.
func TestApplyEveryKind(t *testing.T) {
	sim, c := newSim(t, nil)
	tests := []struct {
		name string
		a    erp.Action
		ref  string
	}{
		{"hold", act(erp.KindCreditHold, "C-1", "", func(a *erp.Action) { a.Text = "91 days past due" }),
			"CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')"},
		{"release of a held customer", act(erp.KindCreditRelease, "C-2", "", nil), "CustomersV3(dataAreaId='usmf',CustomerAccount='C-2')"},
		{"note", act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "Left a voicemail." }),
			"CustomerAttachments(dataAreaId='usmf',DocumentId=00000001-0000-4000-8000-00000000d365)"},
		{"long note", act(erp.KindNote, "C-2", "", func(a *erp.Action) { a.Text = strings.Repeat("é", 15000) }),
			"CustomerAttachments(dataAreaId='usmf',DocumentId=00000002-0000-4000-8000-00000000d365)"},
		{"task", act(erp.KindTask, "C-1", "", func(a *erp.Action) {
			a.Subject, a.Text, a.Date = "Call back about the overdue invoices", "Asked for Friday.", "2026-11-06"
		}), "Activities(dataAreaId='usmf',ActivityNumber='ACT-000001')"},
		{"dunning letter", act(erp.KindDunningLetter, "C-1", "", func(a *erp.Action) { a.Subject, a.Text = "Overdue", "Please pay." }),
			"Activities(dataAreaId='usmf',ActivityNumber='ACT-000002')"},
		{"promise", act(erp.KindPromise, "C-1", "INV-1", func(a *erp.Action) { a.Amount, a.Date, a.Text = usd, "2026-11-13", "By phone." }),
			"CustDisputes(dataAreaId='usmf',SysRecId=5637200001)"},
		{"dispute on the promised invoice", act(erp.KindDispute, "C-1", "INV-1", func(a *erp.Action) {
			a.Amount, a.Text = &erp.Money{Minor: 4550, Currency: "USD"}, "Damaged goods.\nPhotos sent."
		}), "CustDisputes(dataAreaId='usmf',SysRecId=5637200001)"},
		{"dispute in euros", act(erp.KindDispute, "C-2", "INV-9", func(a *erp.Action) {
			a.Amount, a.Text = &erp.Money{Minor: 1, Currency: "EUR"}, "Wrong price."
		}), "CustDisputes(dataAreaId='usmf',SysRecId=5637200002)"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, found, err := c.Find(ctx, tt.a); err != nil || found {
				t.Fatalf("before: found %v, %v", found, err)
			}
			ref, err := c.Apply(ctx, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if ref != tt.ref {
				t.Errorf("ref %q, want %q", ref, tt.ref)
			}
			got, found, err := c.Find(ctx, tt.a)
			if err != nil || !found || got != tt.ref {
				t.Fatalf("read-back: %q %v %v", got, found, err)
			}
			isHold := tt.a.Kind == erp.KindCreditHold || tt.a.Kind == erp.KindCreditRelease
			if n := sim.Applied()[tt.a.Key]; !isHold && n != 1 {
				t.Errorf("applied %d times", n)
			}
			// Applying again after the read-back found it is not what
			// delivery does, but for a hold it must still change nothing.
			if isHold {
				if _, err := c.Apply(ctx, tt.a); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	st := sim.State()
	c1, _ := sim.Customer("usmf", "C-1")
	c2, _ := sim.Customer("usmf", "C-2")
	if c1.OnHoldStatus != "All" || c1.HoldUpdates != 1 || c2.OnHoldStatus != "No" || c2.HoldUpdates != 1 {
		t.Errorf("holds: C-1 %s after %d updates, C-2 %s after %d", c1.OnHoldStatus, c1.HoldUpdates, c2.OnHoldStatus, c2.HoldUpdates)
	}
	if d := cmp.Diff(d365sim.Attachment{DocumentID: "00000001-0000-4000-8000-00000000d365", TypeID: "Note",
		Name: "recoup:" + tests[2].a.Key, Notes: "Left a voicemail."}, c1.Attachments[0]); d != "" {
		t.Errorf("note (-want +got):\n%s", d)
	}
	wantTask := d365sim.Activity{Company: "usmf", Number: "ACT-000001", Category: "Task",
		Purpose:       cut("recoup:"+tests[4].a.Key+" Call back about the overdue invoices", 60),
		Notes:         "Customer C-1: Call back about the overdue invoices\n\nAsked for Friday.",
		StartDateTime: "2026-11-02T09:30:00Z", EndDateTime: "2026-11-06T12:00:00Z", Closed: "No"}
	if d := cmp.Diff(wantTask, st.Activities[0]); d != "" {
		t.Errorf("task (-want +got):\n%s", d)
	}
	if got := st.Activities[1]; got.Category != "Action" || got.StartDateTime != "2026-11-02T09:30:00Z" || got.EndDateTime != got.StartDateTime {
		t.Errorf("dunning letter: %+v", got)
	}
	d := c1.Transactions[0].Dispute
	wantNote := "2026-11-02 recoup:" + tests[6].a.Key + " Promise to pay 180.00 USD by 2026-11-13: By phone.\n" +
		"2026-11-02 recoup:" + tests[7].a.Key + " Disputed 45.50 USD: Damaged goods. Photos sent."
	if d == nil || d.Status != "Disputed" || d.AmountCur != "45.50" || d.Note != wantNote || d.FollowUpDate != "2026-11-13T12:00:00Z" {
		t.Errorf("dispute row of INV-1: %+v", d)
	}
	if d := c2.Transactions[0].Dispute; d == nil || d.AmountCur != "0.01" || d.Status != "Disputed" {
		t.Errorf("dispute row of INV-9: %+v", d)
	}
}

func TestHoldPolicy(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		kind     erp.Kind
		customer string
		want     string
		updates  int
	}{
		{"invoice hold on a free customer", HoldInvoice, erp.KindCreditHold, "C-1", "Invoice", 1},
		{"invoice hold leaves a stronger hold", HoldInvoice, erp.KindCreditHold, "C-2", "All", 0},
		{"all hold", "", erp.KindCreditHold, "C-3", "All", 1},
		{"release of a never-held customer", "", erp.KindCreditRelease, "C-3", "Never", 0},
		{"release of a free customer", "", erp.KindCreditRelease, "C-1", "No", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := newSim(t, func(cfg *Config) { cfg.HoldStatus = tt.policy })
			a := act(tt.kind, tt.customer, "", nil)
			if _, err := c.Apply(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if _, found, err := c.Find(context.Background(), a); !found || err != nil {
				t.Errorf("read-back: %v %v", found, err)
			}
			got, _ := sim.Customer("usmf", tt.customer)
			if got.OnHoldStatus != tt.want || got.HoldUpdates != tt.updates {
				t.Errorf("%s after %d updates, want %s after %d", got.OnHoldStatus, got.HoldUpdates, tt.want, tt.updates)
			}
		})
	}
}

// failure asserts err is an *erp.Error of the class, code and sent-ness
// given, and answers it.
func failure(t *testing.T, err error, class erp.Class, code string, notSent bool) *erp.Error {
	t.Helper()
	var e *erp.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v (%T) is not an *erp.Error", err, err)
	}
	if e.Class != class || e.Code != code || e.NotSent != notSent {
		t.Fatalf("got %s %q notSent=%v (%s), want %s %q notSent=%v", e.Class, e.Code, e.NotSent, e.Message, class, code, notSent)
	}
	return e
}

func TestApplyRefusals(t *testing.T) {
	note := func(customer string) erp.Action {
		return act(erp.KindNote, customer, "", func(a *erp.Action) { a.Text = "x" })
	}
	promise := func(trx string, m *erp.Money) erp.Action {
		return act(erp.KindPromise, "C-1", trx, func(a *erp.Action) { a.Amount, a.Date = m, "2026-11-13" })
	}
	tests := []struct {
		name    string
		cfg     func(*Config)
		a       erp.Action
		code    string
		notSent bool
		says    string // in the message
	}{
		{name: "unknown customer", a: note("C-404"), code: "unknown_customer", notSent: true, says: "customer account C-404 not found in company usmf"},
		{name: "unknown invoice", a: promise("INV-404", usd), code: "unknown_transaction", notSent: true, says: "invoice INV-404 of customer C-1"},
		{name: "a wildcard is not an invoice", a: promise("INV-*", usd), code: "unknown_transaction", notSent: true, says: "INV-*"},
		{name: "promise in another currency", a: promise("INV-2", &erp.Money{Minor: 100, Currency: "EUR"}), code: "currency", notSent: true, says: "EUR"},
		{name: "promise without an invoice", a: promise("", usd), code: "no_transaction", notSent: true},
		{name: "payment applied", a: act(erp.KindPaymentApplied, "C-1", "INV-1", func(a *erp.Action) { a.Amount, a.Receipt = usd, "R-1" }),
			code: "unsupported", notSent: true, says: "not supported by the Dynamics adapter: settle in D365"},
		{name: "invalid action", a: act(erp.KindNote, "C-1", "", nil), code: "invalid_action", notSent: true},
		{name: "unknown note type", cfg: func(c *Config) { c.NoteType = "Memo" }, a: note("C-1"), code: "400", says: "document type does not exist"},
		{name: "wrong secret", cfg: func(c *Config) { c.ClientSecret = "nope" }, a: note("C-1"), code: "token_invalid_client", notSent: true, says: "AADSTS7000215"},
		{name: "wrong scope", cfg: func(c *Config) { c.Scope = "https://other.example/.default" }, a: note("C-1"), code: "token_invalid_scope", notSent: true},
		{name: "wrong company", cfg: func(c *Config) { c.Company = "demf" }, a: note("C-1"), code: "unknown_customer", notSent: true, says: "company demf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := newSim(t, tt.cfg)
			_, err := c.Apply(context.Background(), tt.a)
			e := failure(t, err, erp.ClassPermanent, tt.code, tt.notSent)
			if !strings.Contains(e.Message, tt.says) {
				t.Errorf("message %q does not say %q", e.Message, tt.says)
			}
			// Only a refused secret is the credentials' fault (a rotation
			// writeback.Reconnecting may mend by reading them again).
			if want := tt.name == "wrong secret"; e.Credentials != want {
				t.Errorf("credentials refused = %v, want %v", e.Credentials, want)
			}
			if n := len(sim.Applied()); n != 0 {
				t.Errorf("%d keys applied", n)
			}
		})
	}
	t.Run("payment applied is never found and never sent", func(t *testing.T) {
		sim, c := newSim(t, nil)
		a := act(erp.KindPaymentApplied, "C-1", "INV-1", func(a *erp.Action) { a.Amount, a.Receipt = usd, "R-1" })
		if ref, found, err := c.Find(context.Background(), a); ref != "" || found || err != nil {
			t.Fatalf("find: %q %v %v", ref, found, err)
		}
		if st := sim.Stats(); len(st.Requests) != 0 || st.Tokens != 0 {
			t.Errorf("requests were sent: %+v", st)
		}
	})
}

// Each fault the simulator injects, as the adapter classifies it, and what
// the ERP holds afterwards.
func TestFaultClassification(t *testing.T) {
	noteA := act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "Left a voicemail." })
	holdA := act(erp.KindCreditHold, "C-1", "", nil)
	tests := []struct {
		name    string
		faults  d365sim.Faults
		a       erp.Action
		class   erp.Class // "" for success
		code    string
		notSent bool
		says    string
		applied bool // the write landed: the read-back must find it
	}{
		{name: "500 before the write", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultError500}, Methods: []string{"POST"}},
			a: noteA, class: erp.ClassTransient, code: "500"},
		{name: "500 after commit", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultError500AfterCommit}, Methods: []string{"POST"}},
			a: noteA, class: erp.ClassTransient, code: "500", applied: true},
		{name: "timeout after commit", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultTimeoutAfterCommit}, Methods: []string{"POST"}, Hang: 5 * time.Second},
			a: noteA, class: erp.ClassTransient, code: "timeout", applied: true},
		{name: "malformed answer to a create", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultMalformed}, Methods: []string{"POST"}},
			a: noteA, class: erp.ClassTransient, code: "malformed_response", applied: true},
		{name: "malformed answer to a hold", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultMalformed}, Methods: []string{"PATCH"}},
			a: holdA, class: erp.ClassTransient, code: "malformed_response", applied: true},
		{name: "malformed answer to a read", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultMalformed}, Methods: []string{"GET"}},
			a: noteA, class: erp.ClassTransient, code: "malformed_response", notSent: true},
		{name: "500 on a read", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultError500}, Methods: []string{"GET"}},
			a: noteA, class: erp.ClassTransient, code: "500", notSent: true},
		{name: "throttled", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultThrottled}, Methods: []string{"POST"}, RetryAfter: 7},
			a: noteA, class: erp.ClassTransient, code: "429", notSent: true, says: "retry after 7s"},
		{name: "business error", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultBusinessError}, Methods: []string{"POST"}},
			a: noteA, class: erp.ClassPermanent, code: "400", says: "An error has occurred.: Infolog: Error: The record is locked for posting"},
		{name: "slow", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultSlow}, Slow: 30 * time.Millisecond},
			a: noteA, applied: true},
		{name: "expired token is renewed once", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultTokenExpired}, Methods: []string{"POST"}},
			a: noteA, applied: true},
		{name: "one concurrent update is re-read", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultConcurrentUpdate}},
			a: holdA, applied: true},
		{name: "two concurrent updates", faults: d365sim.Faults{Kinds: []d365sim.FaultKind{d365sim.FaultConcurrentUpdate}, Limit: 2},
			a: holdA, class: erp.ClassTransient, code: "etag_conflict", notSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := newSim(t, func(cfg *Config) { cfg.Timeout = 300 * time.Millisecond })
			ctx := context.Background()
			// A read first, so the token has been used before the fault.
			if _, _, err := c.Find(ctx, tt.a); err != nil {
				t.Fatal(err)
			}
			f := tt.faults
			f.Rate, f.Seed = 1, 1
			if f.Limit == 0 {
				f.Limit = 1
			}
			if err := sim.SetFaults(f); err != nil {
				t.Fatal(err)
			}
			_, err := c.Apply(ctx, tt.a)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
			} else {
				e := failure(t, err, tt.class, tt.code, tt.notSent)
				if !strings.Contains(e.Message, tt.says) {
					t.Errorf("message %q does not say %q", e.Message, tt.says)
				}
			}
			if got := sim.Stats().Faults; len(got) == 0 {
				t.Error("no fault was injected")
			}
			if err := sim.SetFaults(d365sim.Faults{}); err != nil {
				t.Fatal(err)
			}
			_, found, err := c.Find(ctx, tt.a)
			if err != nil || found != tt.applied {
				t.Errorf("read-back: found %v, want %v (%v)", found, tt.applied, err)
			}
			if tt.a.Kind == erp.KindNote {
				want := 0
				if tt.applied {
					want = 1
				}
				if n := sim.Applied()[tt.a.Key]; n != want {
					t.Errorf("applied %d times, want %d", n, want)
				}
			}
			if cu, _ := sim.Customer("usmf", "C-1"); tt.a.Kind == erp.KindCreditHold && tt.applied && cu.HoldUpdates != 1 {
				t.Errorf("hold updated %d times", cu.HoldUpdates)
			}
		})
	}
}

func TestTokenRenewal(t *testing.T) {
	sim, c := newSim(t, nil)
	ctx := context.Background()
	a := act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "x" })
	if _, err := c.Apply(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(d365sim.Faults{Rate: 1, Seed: 1, Kinds: []d365sim.FaultKind{d365sim.FaultTokenExpired}, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.Find(ctx, a); err != nil || !found {
		t.Fatalf("find after the token expired: %v %v", found, err)
	}
	if got := sim.Stats().Tokens; got != 2 {
		t.Errorf("%d tokens issued, want 2 (one renewal)", got)
	}
}

// stub serves the simulator's token endpoint and answers data requests
// with data, or the token endpoint with token when set.
func stub(t *testing.T, token, data http.HandlerFunc) string {
	t.Helper()
	sim := d365sim.New(d365sim.Config{})
	if _, err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == tokenPath && token != nil:
			token(w, r)
		case strings.HasPrefix(r.URL.Path, "/data/") && data != nil:
			data(w, r)
		default:
			sim.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestTransportAndAuthFailures(t *testing.T) {
	a := act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "x" })
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + l.Addr().String()
		l.Close()
		c := newClient(t, base, nil)
		_, err = c.Apply(context.Background(), a)
		failure(t, err, erp.ClassTransient, "token_unavailable", true)
		// With a token in hand, the data request itself is refused.
		tokens := stub(t, nil, nil)
		c = newClient(t, tokens, func(cfg *Config) { cfg.BaseURL, cfg.Scope = base, tokens+"/.default" })
		_, err = c.Apply(context.Background(), a)
		var e *erp.Error
		if !errors.As(err, &e) || e.Class != erp.ClassTransient || !e.NotSent || (e.Code != "connection_refused" && e.Code != "dial") {
			t.Fatalf("got %+v", err)
		}
	})
	t.Run("401 with a new token", func(t *testing.T) {
		calls := 0
		base := stub(t, nil, func(w http.ResponseWriter, r *http.Request) { calls++; w.WriteHeader(http.StatusUnauthorized) })
		_, err := newClient(t, base, nil).Apply(context.Background(), a)
		failure(t, err, erp.ClassPermanent, "unauthorized", true)
		if calls != 2 {
			t.Errorf("%d data requests, want 2 (one with a new token)", calls)
		}
	})
	t.Run("token endpoint down", func(t *testing.T) {
		base := stub(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, nil)
		_, err := newClient(t, base, nil).Apply(context.Background(), a)
		failure(t, err, erp.ClassTransient, "token_unavailable", true)
	})
	t.Run("proxy page instead of JSON", func(t *testing.T) {
		base := stub(t, nil, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>Bad Gateway</html>"))
		})
		_, err := newClient(t, base, nil).Apply(context.Background(), a)
		e := failure(t, err, erp.ClassTransient, "502", true) // the customer read failed: nothing written
		if !strings.Contains(e.Message, "Bad Gateway") {
			t.Errorf("message %q", e.Message)
		}
	})
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{BaseURL: "https://contoso.operations.dynamics.com/", TokenURL: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
		ClientID: "id", ClientSecret: "s", Company: "USMF"}
	c, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	want := ok
	want.BaseURL, want.Company, want.Scope = "https://contoso.operations.dynamics.com", "usmf", "https://contoso.operations.dynamics.com/.default"
	want.HoldStatus, want.NoteType, want.Timeout = HoldAll, "Note", 30*time.Second
	if d := cmp.Diff(want, c.cfg); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	if c.Name() != "dynamics-365" {
		t.Errorf("name %q", c.Name())
	}
	tests := []struct {
		name string
		edit func(*Config)
		says []string
	}{
		{"empty", func(c *Config) { *c = Config{} }, []string{"BaseURL", "TokenURL", "ClientID", "ClientSecret", "Company"}},
		{"relative base", func(c *Config) { c.BaseURL = "contoso.operations.dynamics.com" }, []string{"BaseURL", "absolute"}},
		{"base with /data", func(c *Config) { c.BaseURL += "/data" }, []string{"BaseURL", "has a path"}},
		{"company too long", func(c *Config) { c.Company = "usmf1" }, []string{"Company", "dataAreaId"}},
		{"hold policy", func(c *Config) { c.HoldStatus = "Payment" }, []string{"HoldStatus", "All", "Invoice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%v does not say %s", err, s)
				}
			}
		})
	}
}
