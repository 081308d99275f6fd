package dynamo

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// TestIntegrationCustomersByAddress: every customer on a number, whatever
// its spelling; none for a number nobody has; other tenants never.
func TestIntegrationCustomersByAddress(t *testing.T) {
	l, _ := integrationLedger(t)
	ctx := context.Background()
	phone := func(tenant ledger.TenantID, cust, id, e164 string) ledger.ContactPoint {
		return ledger.ContactPoint{Tenant: tenant, Customer: cust, ID: id, Kind: ledger.ContactPhone,
			Phone: &ledger.Phone{E164: e164, Line: ledger.LineMobile}}
	}
	recs := []ledger.Record{
		phone("acme", "C1", "C1-P1", "+16175550142"),
		phone("acme", "C2", "C2-P1", "+16175550142"), // a household number
		phone("acme", "C3", "C3-P1", "+16175550143"),
		phone("other", "C9", "C9-P1", "+16175550142"),
		ledger.ContactPoint{Tenant: "acme", Customer: "C3", ID: "C3-E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "Pat@Example.com"}},
	}
	if _, err := l.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		address string
		want    []string
	}{
		{"tel:+16175550142", []string{"C1", "C2"}},
		{"(617) 555-0142", []string{"C1", "C2"}},
		{"+16175550143", []string{"C3"}},
		{"mailto:pat@example.com", []string{"C3"}},
		{"+16175550100", nil},
	}
	for _, tt := range tests {
		var got []string
		deadline := time.Now().Add(5 * time.Second) // GSI3 is eventually consistent
		for {
			var err error
			got, err = l.CustomersByAddress(ctx, "acme", tt.address)
			if err != nil {
				t.Fatalf("%s: %v", tt.address, err)
			}
			if len(got) >= len(tt.want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.address, diff)
		}
	}
	if _, err := l.CustomersByAddress(ctx, "acme", "customer:C1"); err == nil {
		t.Error("a customer address was looked up")
	}
}

// TestIntegrationPutActionsNeverRevives: re-storing a plan leaves an action
// an event changed as the event left it.
func TestIntegrationPutActionsNeverRevives(t *testing.T) {
	e := integrationEngagement(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	act := engagement.Action{Tenant: "acme", Customer: "C1", ID: "a1", Channel: consent.SMS, To: "tel:+16175550142",
		Invoices: []string{"INV-1"}, At: at}
	if n, err := e.PutActions(ctx, []engagement.Action{act}); err != nil || n != 1 {
		t.Fatalf("PutActions: %d, %v", n, err)
	}
	claim := engagement.Claim{Tenant: "acme", EventID: "stop", Customer: "C1", Type: "sms.inbound", Hash: "h", AppliedAt: at, Expires: at.Add(time.Hour), Outcome: "applied"}
	fx := engagement.Effects{Actions: []engagement.ActionChange{{ID: "a1", From: engagement.ActionPending, To: engagement.ActionCancelled, Reason: "opt-out"}},
		Replan: &engagement.Replan{Reason: "opt-out reply", At: at}}
	if err := e.Commit(ctx, claim, engagement.State{}, fx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.PutActions(ctx, []engagement.Action{act}); err != nil || n != 0 {
		t.Fatalf("PutActions again: %d, %v; want nothing added", n, err)
	}
	got, err := e.Actions(ctx, "acme", "C1")
	if err != nil {
		t.Fatal(err)
	}
	want := act
	want.Status, want.Reason, want.Cause = engagement.ActionCancelled, "opt-out", "stop"
	if diff := cmp.Diff([]engagement.Action{want}, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	// The same action change again fails its condition: the store reports a
	// conflict, so the consumer re-reads instead of overwriting.
	claim.EventID = "stop-2"
	if err := e.Commit(ctx, claim, engagement.State{}, fx); err == nil {
		t.Error("a change from a status the action no longer has was committed")
	}
	if err := e.Commit(ctx, engagement.Claim{Tenant: "acme", EventID: "stop", Customer: "C1", Expires: at}, engagement.State{}, engagement.Effects{}); err != engagement.ErrDuplicate {
		t.Errorf("claiming an applied event id again: %v, want ErrDuplicate", err)
	}
}

// TestIntegrationStaleStandingIsRefused: effects worked out from a standing
// that another event has changed since are refused (ErrConflict), never
// written over it; the consumer then loads and decides again.
func TestIntegrationStaleStandingIsRefused(t *testing.T) {
	e := integrationEngagement(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	stale, err := e.Load(ctx, "acme", "C1")
	if err != nil {
		t.Fatal(err)
	}
	claim := func(id string) engagement.Claim {
		return engagement.Claim{Tenant: "acme", EventID: id, Customer: "C1", Hash: id, AppliedAt: at, Expires: at.Add(time.Hour), Outcome: "applied"}
	}
	hardship := dispatch.Standing{Flags: []compliance.Flag{compliance.FlagHardship}}
	if err := e.Commit(ctx, claim("hardship"), stale, engagement.Effects{Standing: &hardship}); err != nil {
		t.Fatal(err)
	}
	dispute := dispatch.Standing{Disputes: []dispatch.Dispute{{Debt: "INV-1", At: at, EventID: "dispute"}}}
	if err := e.Commit(ctx, claim("dispute"), stale, engagement.Effects{Standing: &dispute}); !errors.Is(err, engagement.ErrConflict) {
		t.Fatalf("a dispute worked out from the standing before the hardship: %v, want ErrConflict", err)
	}
	fresh, err := e.Load(ctx, "acme", "C1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hardship, fresh.Standing); diff != "" || fresh.StandingVersion != 1 {
		t.Errorf("standing after the refused commit (version %d) (-want +got):\n%s", fresh.StandingVersion, diff)
	}
}

// TestIntegrationFeaturesOfMany: the worklist reads every customer's
// engagement features in batches; customers with none are absent, other
// tenants' never appear.
func TestIntegrationFeaturesOfMany(t *testing.T) {
	e := integrationEngagement(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	commit := func(tenant ledger.TenantID, customer, id string, f engagement.Features) {
		t.Helper()
		base, err := e.Load(ctx, tenant, customer)
		if err != nil {
			t.Fatal(err)
		}
		c := engagement.Claim{Tenant: tenant, EventID: id, Customer: customer, Hash: id, AppliedAt: at, Expires: at.Add(time.Hour), Outcome: "applied"}
		if err := e.Commit(ctx, c, base, engagement.Effects{Features: f}); err != nil {
			t.Fatal(err)
		}
	}
	reply := engagement.Features{Counts: map[string]map[engagement.Signal]int{"sms": {engagement.SignalDelivered: 1, engagement.SignalReplied: 1}},
		LastResponse: map[string]time.Time{"sms": at}, LastEventAt: at, Events: 2}
	commit("acme", "C1", "e1", reply)
	commit("other", "C2", "e2", reply)
	// 150 customers: more than one BatchGetItem of 100 keys.
	customers := []string{"C1", "C2"}
	for i := range 148 {
		customers = append(customers, "N"+strconv.Itoa(i))
	}
	got, err := e.Features(ctx, "acme", customers)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("features of %d customers, want only C1's: %v", len(got), got)
	}
	f := got["C1"]
	if f.Counts["sms"][engagement.SignalReplied] != 1 || !f.LastResponse["sms"].Equal(at) || f.Events != 2 {
		t.Errorf("C1's features: %+v", f)
	}
}

// integrationEngagement is the engagement store on the tables of a fresh
// integration ledger.
func integrationEngagement(t *testing.T) *Engagement {
	t.Helper()
	l, prefix := integrationLedger(t)
	e, err := NewEngagement(l.api.(*dynamodb.Client), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestIntegrationLettersSent: a letter the gate allowed is recorded with
// its attempt and read back with the features, in order; a blocked letter,
// another channel, a duplicate attempt and another tenant's letter are
// not; the consumer's later put of the features loses no letter, nor a
// letter the features.
func TestIntegrationLettersSent(t *testing.T) {
	l, prefix := integrationLedger(t)
	db := l.api.(*dynamodb.Client)
	ctx := context.Background()
	e, err := NewEngagement(db, prefix)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewConsent(db, prefix)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewContacts(db, prefix, cs)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	record := func(tenant ledger.TenantID, customer, id string, ch compliance.Channel, d compliance.Decision, when time.Time) error {
		t.Helper()
		base, err := h.Load(ctx, tenant, customer, when.AddDate(-1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return h.Commit(ctx, tenant, customer, base, dispatch.Attempt{ID: id, Channel: ch, Decision: d, At: when, To: "postal:1"}, nil)
	}
	for _, r := range []struct {
		tenant ledger.TenantID
		id     string
		ch     compliance.Channel
		d      compliance.Decision
		at     time.Time
	}{
		{"acme", "a1", compliance.ChannelLetter, compliance.Allow, at},
		{"acme", "a2", compliance.ChannelLetter, compliance.Block, at.Add(time.Hour)},
		{"acme", "a3", compliance.ChannelEmail, compliance.Allow, at.Add(2 * time.Hour)},
		{"acme", "a4", compliance.ChannelLetter, compliance.Allow, at.AddDate(0, 0, 20)},
		{"other", "a5", compliance.ChannelLetter, compliance.Allow, at},
	} {
		if err := record(r.tenant, "C1", r.id, r.ch, r.d, r.at); err != nil {
			t.Fatalf("attempt %s: %v", r.id, err)
		}
	}
	if err := record("acme", "C1", "a4", compliance.ChannelLetter, compliance.Allow, at.AddDate(0, 0, 21)); !errors.Is(err, dispatch.ErrDuplicate) {
		t.Fatalf("the same attempt again: %v, want ErrDuplicate", err)
	}
	// The consumer puts the features after the letters, and a letter
	// follows the put.
	base, err := e.Load(ctx, "acme", "C1")
	if err != nil {
		t.Fatal(err)
	}
	reply := engagement.Features{Counts: map[string]map[engagement.Signal]int{"letter": {engagement.SignalPaid: 1}}, LastEventAt: at, Events: 1}
	c := engagement.Claim{Tenant: "acme", EventID: "e1", Customer: "C1", Hash: "e1", AppliedAt: at, Expires: at.Add(time.Hour), Outcome: "applied"}
	if err := e.Commit(ctx, c, base, engagement.Effects{Features: reply}); err != nil {
		t.Fatal(err)
	}
	if err := record("acme", "C1", "a6", compliance.ChannelLetter, compliance.Allow, at.AddDate(0, 0, 40)); err != nil {
		t.Fatal(err)
	}
	if err := record("acme", "C2", "a7", compliance.ChannelLetter, compliance.Allow, at); err != nil {
		t.Fatal(err)
	}

	got, err := e.Features(ctx, "acme", []string{"C1", "C2", "C3"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]time.Time{"C1": {at, at.AddDate(0, 0, 20), at.AddDate(0, 0, 40)}, "C2": {at}}
	letters := map[string][]time.Time{}
	for c, f := range got {
		letters[c] = f.Letters
	}
	if d := cmp.Diff(want, letters); d != "" {
		t.Errorf("letters sent (-want +got):\n%s", d)
	}
	if n := got["C1"].Counts["letter"][engagement.SignalPaid]; n != 1 {
		t.Errorf("C1's letter payments = %d, want the consumer's 1", n)
	}
}
