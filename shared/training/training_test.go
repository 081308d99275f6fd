package training

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// ledgerRecords is a Source over records in memory: the job's logic under
// test, the DynamoDB reads tested with the store.
type ledgerRecords struct {
	customers []ledger.Customer
	invoices  []ledger.Invoice
	payments  []ledger.Payment
}

func (l ledgerRecords) Customers(context.Context, ledger.TenantID) ([]ledger.Customer, error) {
	return l.customers, nil
}
func (l ledgerRecords) Invoices(context.Context, ledger.TenantID) ([]ledger.Invoice, error) {
	return l.invoices, nil
}
func (l ledgerRecords) Payments(context.Context, ledger.TenantID) ([]ledger.Payment, error) {
	return l.payments, nil
}
func (l ledgerRecords) Disputes(context.Context, ledger.TenantID) ([]ledger.Dispute, error) {
	return nil, nil
}
func (l ledgerRecords) Promises(context.Context, ledger.TenantID) ([]ledger.PromiseToPay, error) {
	return nil, nil
}

func TestChampionChallenger(t *testing.T) {
	ctx := context.Background()
	end := ledger.Date(2026, 11, 1)
	b, err := portfolio.Load(portfolio.Config{Seed: 3, Customers: 500, Invoices: 3000, AsOf: end, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	src := ledgerRecords{b.Customers, b.Invoices, b.Payments}
	reg := registry.Registry{Blobs: registry.Dir(t.TempDir())}
	clock := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	job := Job{Source: src, Registry: reg, Config: ranking.Config{Seed: 1}, Now: func() time.Time { return clock }}

	first, err := job.Run(ctx, "acme", end)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Promoted || !strings.HasPrefix(first.Reason, "first model") || first.Comparison != nil {
		t.Fatalf("first run: %+v", first)
	}
	champ, err := reg.Champion(ctx, "acme", Model)
	if err != nil || champ.Version != first.Version {
		t.Fatalf("champion %+v (%v), want %s", champ, err, first.Version)
	}

	// The same export again: no held-out row is new to the champion, so
	// there is nothing fair to compare on and the champion stays.
	clock = clock.AddDate(0, 0, 7)
	same, err := job.Run(ctx, "acme", end)
	if err != nil {
		t.Fatal(err)
	}
	if same.Promoted || same.Comparison != nil || !strings.Contains(same.Reason, "new to it") {
		t.Fatalf("same export: %+v", same)
	}
	if champ, _ := reg.Champion(ctx, "acme", Model); champ.Version != first.Version {
		t.Errorf("champion moved to %s", champ.Version)
	}

	// A champion trained six weeks earlier on scrambled outcomes loses to
	// a challenger trained on the truth, on the six weeks it never saw.
	clock = clock.AddDate(0, 0, 7)
	old := end.AddDate(0, 0, -42)
	weak := Job{Source: ledgerRecords{b.Customers, scrambled(b.Invoices), nil}, Registry: reg,
		Config: ranking.Config{Seed: 1}, Now: func() time.Time { return clock }}
	w, err := weak.Run(ctx, "acme", old)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote(ctx, "acme", Model, registry.Champion{Version: w.Version, PromotedAt: clock, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 7)
	better, err := job.Run(ctx, "acme", end)
	if err != nil {
		t.Fatal(err)
	}
	c := better.Comparison
	if !better.Promoted || c == nil || c.Rows < 100 || c.Champion.Score() <= c.Challenger.Score() || !c.From.After(old.AddDate(0, 0, -30)) {
		t.Fatalf("better challenger: %+v, comparison %+v", better, c)
	}

	// Every run left its artifact and its report.
	for _, v := range []string{first.Version, same.Version, w.Version, better.Version} {
		if _, err := reg.Artifact(ctx, "acme", Model, v); err != nil {
			t.Errorf("artifact %s: %v", v, err)
		}
		raw, err := reg.Blobs.Get(ctx, "acme/ranking/versions/"+v+".report.json")
		var rep Report
		if err != nil || json.Unmarshal(raw, &rep) != nil || rep.Version != v {
			t.Errorf("report of %s: %v", v, err)
		}
	}

	// A champion this build cannot read is replaced if the challenger is
	// any good.
	clock = clock.AddDate(0, 0, 7)
	junk := registry.Version(clock, []byte("old"))
	if err := reg.Save(ctx, "acme", Model, junk, []byte(`{"schema":"recoup.ranking/0"}`), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := reg.Promote(ctx, "acme", Model, registry.Champion{Version: junk}); err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 7)
	r, err := job.Run(ctx, "acme", end)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Promoted || !strings.Contains(r.Reason, "unusable") {
		t.Errorf("unreadable champion: %+v", r)
	}
}

// scrambled moves each invoice's settlement to another invoice: the
// outcomes no longer follow the customers' habits.
func scrambled(invs []ledger.Invoice) []ledger.Invoice {
	out := make([]ledger.Invoice, len(invs))
	for i, inv := range invs {
		src := invs[(i*7919)%len(invs)]
		inv.ClosedDate = time.Time{}
		if !src.ClosedDate.IsZero() {
			inv.ClosedDate = inv.InvoiceDate.Add(src.ClosedDate.Sub(src.InvoiceDate))
		}
		out[i] = inv
	}
	return out
}

func TestRunRefusesUnusableData(t *testing.T) {
	reg := registry.Registry{Blobs: registry.Dir(t.TempDir())}
	_, err := Job{Source: ledgerRecords{}, Registry: reg}.Run(context.Background(), "acme", ledger.Date(2026, 11, 1))
	if err == nil || !strings.Contains(err.Error(), "acme") {
		t.Errorf("empty ledger: %v", err)
	}
	if _, err := reg.Champion(context.Background(), "acme", Model); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("a failed run promoted something: %v", err)
	}
}
