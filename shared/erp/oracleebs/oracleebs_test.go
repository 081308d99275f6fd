package oracleebs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/shared/erp"
)

var simContext = Context{Responsibility: "RECEIVABLES_MANAGER", RespApplication: "AR", SecurityGroup: "STANDARD", NLSLanguage: "AMERICAN", OrgID: "204"}

// newSim starts the simulator with two accounts and returns it with a
// client logged in as configured.
func newSim(t *testing.T, token bool, password string) (*ebssim.Server, *Client) {
	t.Helper()
	sim := ebssim.New(ebssim.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if _, err := sim.Seed([]ebssim.AccountSeed{{Number: "C-1", Currency: "USD", Transactions: []string{"INV-1", "INV-2"}},
		{Number: "C-2", Currency: "USD", CreditHold: "Y"}}); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: srv.URL, User: "RECOUP_ISG", Password: password, Token: token, Context: simContext,
		Resource: "100001", NoteType: "IEX_COLLECTIONS", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

var at = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func act(kind erp.Kind, customer, trx string, edit func(*erp.Action)) erp.Action {
	a := erp.New("acme", kind, "test:"+string(kind)+customer+trx, erp.Target{Customer: customer, Transaction: trx}, at)
	if edit != nil {
		edit(&a)
	}
	return a
}

// TestApplyEveryKind: each action goes through the simulator's checks of
// the envelope and parameters, is found by its read-back, and lands as the
// ERP would hold it.
func TestApplyEveryKind(t *testing.T) {
	usd := &erp.Money{Minor: 18000, Currency: "USD"}
	long := strings.Repeat("é", 2100) // over P_NOTES' 2,000 characters: goes whole to P_NOTES_DETAIL
	tests := []struct {
		name string
		a    erp.Action
	}{
		{"hold", act(erp.KindCreditHold, "C-1", "", func(a *erp.Action) { a.Text = "91 days past due" })},
		{"release of a held account", act(erp.KindCreditRelease, "C-2", "", nil)},
		{"note", act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "Left a voicemail." })},
		{"long note", act(erp.KindNote, "C-2", "", func(a *erp.Action) { a.Text = long })},
		{"task", act(erp.KindTask, "C-1", "", func(a *erp.Action) { a.Subject, a.Text, a.Date = "Call back", "Asked for Friday.", "2026-11-06" })},
		{"promise", act(erp.KindPromise, "C-1", "INV-1", func(a *erp.Action) { a.Amount, a.Date, a.Text = usd, "2026-11-13", "By phone." })},
		{"dispute", act(erp.KindDispute, "C-1", "INV-2", func(a *erp.Action) { a.Amount, a.Text = usd, "Damaged goods." })},
		{"dunning letter", act(erp.KindDunningLetter, "C-1", "", func(a *erp.Action) { a.Subject, a.Text = "Overdue", "Please pay." })},
		{"payment applied", act(erp.KindPaymentApplied, "C-1", "INV-1", func(a *erp.Action) { a.Amount, a.Receipt = usd, "R-77" })},
	}
	for _, token := range []bool{false, true} {
		sim, c := newSim(t, token, "welcome1")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				if _, found, err := c.Find(ctx, tt.a); err != nil || found {
					t.Fatalf("before: found %v, %v", found, err)
				}
				ref, err := c.Apply(ctx, tt.a)
				if err != nil {
					t.Fatal(err)
				}
				got, found, err := c.Find(ctx, tt.a)
				if err != nil || !found || got == "" {
					t.Fatalf("read-back: %q %v %v", got, found, err)
				}
				if tt.a.Kind != erp.KindCreditHold && tt.a.Kind != erp.KindCreditRelease && sim.Applied()[tt.a.Key] != 1 {
					t.Errorf("applied %d times", sim.Applied()[tt.a.Key])
				}
				if ref == "" {
					t.Error("no reference")
				}
			})
		}
		acc, _ := sim.Account("C-1")
		if acc.CreditHold != "Y" || acc.ProfileUpdates != 1 {
			t.Errorf("C-1 hold %s after %d updates", acc.CreditHold, acc.ProfileUpdates)
		}
		acc2, _ := sim.Account("C-2")
		if acc2.CreditHold != "N" || len(acc2.Notes) != 1 {
			t.Errorf("C-2 hold %s, %d notes", acc2.CreditHold, len(acc2.Notes))
		}
		// Holding a held account changes nothing.
		if _, err := c.Apply(context.Background(), tests[0].a); err != nil {
			t.Fatal(err)
		}
		if acc, _ := sim.Account("C-1"); acc.ProfileUpdates != 1 {
			t.Errorf("a second hold updated the profile again (%d updates)", acc.ProfileUpdates)
		}
	}
}

func TestApplyRefusals(t *testing.T) {
	usd := &erp.Money{Minor: 100, Currency: "USD"}
	tests := []struct {
		name     string
		password string
		a        erp.Action
		code     string
	}{
		{"unknown account", "welcome1", act(erp.KindNote, "C-404", "", func(a *erp.Action) { a.Text = "x" }), "HZ_API_NO_RECORD"},
		{"unknown invoice", "welcome1", act(erp.KindPromise, "C-1", "INV-404", func(a *erp.Action) { a.Amount, a.Date = usd, "2026-11-13" }), "AR_TRX_NOT_FOUND"},
		{"promise in another currency", "welcome1", act(erp.KindPromise, "C-1", "INV-1", func(a *erp.Action) {
			a.Amount, a.Date = &erp.Money{Minor: 100, Currency: "EUR"}, "2026-11-13"
		}), "currency"},
		{"promise without an invoice", "welcome1", act(erp.KindPromise, "C-1", "", func(a *erp.Action) { a.Amount, a.Date = usd, "2026-11-13" }), "no_transaction"},
		{"wrong password", "nope", act(erp.KindNote, "C-1", "", func(a *erp.Action) { a.Text = "x" }), "FND_SOA_AUTHENTICATION_FAILURE"},
	}
	for _, token := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, c := newSim(t, token, tt.password)
				_, err := c.Apply(context.Background(), tt.a)
				var e *erp.Error
				if !errors.As(err, &e) || e.Class != erp.ClassPermanent || e.Code != tt.code {
					t.Fatalf("got %#v, want permanent %s", err, tt.code)
				}
			})
		}
	}
}
