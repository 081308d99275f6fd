package cycle

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// batchLedger serves a generated portfolio as the ledger.
type batchLedger struct{ b *ingest.Batch }

func (l batchLedger) Customers(context.Context, ledger.TenantID) ([]ledger.Customer, error) {
	return l.b.Customers, nil
}
func (l batchLedger) Invoices(context.Context, ledger.TenantID) ([]ledger.Invoice, error) {
	return l.b.Invoices, nil
}
func (l batchLedger) Payments(context.Context, ledger.TenantID) ([]ledger.Payment, error) {
	return l.b.Payments, nil
}
func (l batchLedger) Disputes(context.Context, ledger.TenantID) ([]ledger.Dispute, error) {
	return nil, nil
}
func (l batchLedger) Promises(context.Context, ledger.TenantID) ([]ledger.PromiseToPay, error) {
	return nil, nil
}
func (l batchLedger) ContactPoints(context.Context, ledger.TenantID) ([]ledger.ContactPoint, error) {
	return l.b.Contacts, nil
}

type noEngagement struct{}

func (noEngagement) Features(context.Context, ledger.TenantID, []string) (map[string]engagement.Features, error) {
	return nil, nil
}

type fixedModel struct{ m *ranking.Model }

func (f fixedModel) Champion(context.Context, ledger.TenantID) (*ranking.Model, string, error) {
	return f.m, "v1", nil
}

// TestLister: the daily list holds every customer with an open balance
// once, most valuable first, with the pilot segments in shadow mode, and
// stops at the limit with the rest counted for tomorrow.
// TestItemBytes: an item's size bounds both what the list holds for it
// and what Wake's result for it holds, for ordinary and for the longest
// ids, with the cycle's ARN known or not.
func TestItemBytes(t *testing.T) {
	at := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	gov := "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:" + strings.Repeat("M", 80)
	for _, tc := range []struct {
		name, tenant, customer, machine string
	}{
		{"ordinary", "demo", "C002530", "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-cycle"},
		{"ordinary, machine unknown", "demo", "C002530", ""},
		{"longest ids, machine unknown", strings.Repeat("t", 64), strings.Repeat("c", 64), ""},
		{"longest ids, GovCloud", strings.Repeat("t", 64), strings.Repeat("c", 64), gov},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := WakeInput{Ref: Ref{Tenant: ledger.TenantID(tc.tenant), Customer: tc.customer}, Mode: ModeShadow, Reason: "daily run", AsOf: at, Start: true}
			prefix := arnAllowance
			if tc.machine != "" {
				prefix = len(strings.Replace(tc.machine, ":stateMachine:", ":execution:", 1)) + 1
			}
			machine := tc.machine
			if machine == "" {
				machine = gov
			}
			arn := strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + ExecutionName(in.Tenant, in.Customer, at)
			listed, _ := json.Marshal(in)
			result, _ := json.Marshal(Woken{Action: "running", Execution: arn, Customer: in.Customer})
			got := itemBytes(in, prefix)
			if got < len(listed)+1 || got < len(result)+1 {
				t.Errorf("itemBytes = %d, but the item takes %d and its result %d (+1 for the comma)", got, len(listed), len(result))
			}
		})
	}
}

func TestLister(t *testing.T) {
	end := ledger.Date(2026, 11, 1)
	b, err := portfolio.Load(portfolio.Config{Seed: 5, Customers: 300, Invoices: 2000, AsOf: end, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ranking.Train(features.Snapshot{Customers: b.Customers, Invoices: b.Invoices, Payments: b.Payments}, end, ranking.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	prof := acmeProfile(t)
	prof.ShadowSegments = []string{b.Customers[0].Segment}
	open := map[string]bool{}
	for _, inv := range b.Invoices {
		if inv.IsOpen() {
			open[inv.Customer] = true
		}
	}
	segment := map[string]string{}
	for _, c := range b.Customers {
		segment[c.ID] = c.Segment
	}
	var logged bytes.Buffer
	l := &Lister{Ledger: batchLedger{b}, Engagement: noEngagement{}, Models: fixedModel{m}, Profiles: profiles{prof},
		Now: func() time.Time { return end }, Log: slog.New(slog.NewJSONHandler(&logged, nil))}
	at := end.Add(9 * time.Hour)
	got, err := l.List(context.Background(), DailyInput{Tenant: "acme", AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	// The deployment's drift alarm reads this line (infra/cdk).
	var line struct {
		Msg        string   `json:"msg"`
		Count      int      `json:"count"`
		DriftLevel string   `json:"drift_level"`
		DriftPSI   *float64 `json:"drift_psi"`
	}
	if err := json.Unmarshal(logged.Bytes(), &line); err != nil || line.Msg != "worklist built" || line.Count != got.Count ||
		line.DriftLevel == "" || line.DriftPSI == nil {
		t.Errorf("log line %q (%v): want one \"worklist built\" with the count, drift_level and drift_psi", logged.String(), err)
	}
	l.Log = nil
	if got.Count != len(open) || len(got.Items) != len(open) || got.Left != 0 || got.Model != "v1" {
		t.Fatalf("%d items (count %d, left %d, model %s), want all %d open customers", len(got.Items), got.Count, got.Left, got.Model, len(open))
	}
	seen := map[string]bool{}
	modes := map[string]int{}
	for _, it := range got.Items {
		if seen[it.Customer] || !open[it.Customer] {
			t.Errorf("customer %s listed twice or with nothing open", it.Customer)
		}
		seen[it.Customer] = true
		want := ModeLive
		if segment[it.Customer] == prof.ShadowSegments[0] {
			want = ModeShadow
		}
		if it.Mode != want || !it.Start || !it.AsOf.Equal(at) || it.Tenant != "acme" {
			t.Errorf("item %+v, want mode %s, a start as of %s", it, want, at)
		}
		modes[it.Mode]++
	}
	if modes[ModeShadow] == 0 || modes[ModeShadow] != got.Modes[ModeShadow] || modes[ModeLive] != got.Modes[ModeLive] {
		t.Errorf("modes %v, reported %v; want some customers in the pilot", modes, got.Modes)
	}
	l.Limit = 10
	capped, err := l.List(context.Background(), DailyInput{Tenant: "acme", AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(capped.Items) != 10 || capped.Left != len(open)-10 {
		t.Fatalf("capped list: %d items, %d left, want 10 and %d", len(capped.Items), capped.Left, len(open)-10)
	}
	for i, it := range capped.Items {
		if it.Customer != got.Items[i].Customer {
			t.Errorf("capped item %d is %s, want the full list's %s (most valuable first)", i, it.Customer, got.Items[i].Customer)
		}
	}
	// The byte budget cuts the list where the limit would not: room for
	// exactly ten items lists ten.
	l.Limit, l.Machine = 0, "arn:aws:states:us-east-1:000000000000:stateMachine:recoup-cycle"
	l.Budget = 0
	for _, it := range got.Items[:10] {
		l.Budget += itemBytes(it, len("arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:"))
	}
	tight, err := l.List(context.Background(), DailyInput{Tenant: "acme", AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(tight.Items) != 10 || tight.Left != len(open)-10 {
		t.Fatalf("list within %d bytes: %d items, %d left, want 10 and %d", l.Budget, len(tight.Items), tight.Left, len(open)-10)
	}
	l.Budget, l.Machine = 0, ""
	if _, err := l.List(context.Background(), DailyInput{Tenant: ""}); err == nil {
		t.Error("a list without a tenant was built")
	}

	// Cycles waiting for a time still to come are left to their timers;
	// one whose time has passed, one busy and one never started are listed.
	first, second, third, fourth := got.Items[0].Customer, got.Items[1].Customer, got.Items[2].Customer, got.Items[3].Customer
	runs := &memRuns{}
	for _, r := range []Run{
		{Customer: first, Execution: "e1", Token: "t1", Until: at.Add(48 * time.Hour)},
		{Customer: second, Execution: "e2", Token: "t2", Until: at.Add(-time.Minute)},
		{Customer: third, Execution: "e3"},
		{Customer: "C-NOT-OPEN", Execution: "e5", Token: "t5", Until: at.Add(time.Hour)},
	} {
		r.Tenant, r.At = "acme", end
		_ = runs.Put(context.Background(), r)
	}
	l.Limit, l.Runs = 0, runs
	left, err := l.List(context.Background(), DailyInput{Tenant: "acme", AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, it := range left.Items {
		listed[it.Customer] = true
	}
	if left.Waiting != 1 || len(left.Items) != len(open)-1 || listed[first] || !listed[second] || !listed[third] || !listed[fourth] {
		t.Errorf("with runs: %d listed, %d waiting; listed %s %t, %s %t, %s %t, %s %t; want all but the one waiting for its time",
			len(left.Items), left.Waiting, first, listed[first], second, listed[second], third, listed[third], fourth, listed[fourth])
	}
}
