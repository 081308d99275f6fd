package cycle_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/sms"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// TestIntegrationPlanSendRetryAndStop runs the Plan and Send steps on the
// real stores, gate and SMS adapter (against the outbox fake): the plan
// texts a consumer who prefers texts; the Send task delivered twice (a
// retry) texts once; then the customer replies STOP while the execution
// waits, and neither the next plan nor a send planned before the STOP
// reaches the phone.
func TestIntegrationPlanSendRetryAndStop(t *testing.T) {
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	led, err := dynamo.NewLedger(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := dynamo.NewConsent(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := dynamo.NewContacts(client, prefix, cs)
	if err != nil {
		t.Fatal(err)
	}
	sends, err := dynamo.NewSends(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	gate, err := dynamo.NewGate(client, prefix, engines)
	if err != nil {
		t.Fatal(err)
	}

	const mobile = "+16175550142"
	usd := money.MustCurrency("USD")
	now := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC) // a Tuesday, 11:00 in Boston
	clock := func() time.Time { return now }
	gate.Now = clock
	recs := []ledger.Record{
		ledger.Customer{Tenant: "acme", ID: "C4", Name: "Pat Doe", Kind: ledger.Consumer, Currency: usd},
		ledger.ContactPoint{Tenant: "acme", Customer: "C4", ID: "P1", Kind: ledger.ContactPhone, Phone: &ledger.Phone{E164: mobile, Line: ledger.LineMobile}},
		ledger.ContactPoint{Tenant: "acme", Customer: "C4", ID: "A1", Kind: ledger.ContactPostal,
			Postal: &ledger.PostalAddress{Line1: "1 Main St", City: "Boston", State: "MA", ZIP: "02108", Country: "US"}},
		ledger.Invoice{Tenant: "acme", ID: "INV-7", Customer: "C4", InvoiceDate: ledger.Date(2026, 2, 24), DueDate: ledger.Date(2026, 3, 26),
			Amount: money.New(12500, usd), Open: money.New(12500, usd)},
	}
	if _, err := led.Upsert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	tel, _ := consent.NormalisePhone(mobile)
	if _, err := cs.Record(ctx, "acme", "C4", consent.Grant{ID: "g1", Tenant: "acme", Address: tel, Channel: consent.SMS,
		Source: consent.SourceDirect, At: now.Add(-30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	box := filepath.Join(t.TempDir(), "outbox.jsonl")
	fake, err := outbox.New(outbox.Options{Path: box})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	smsClient := sms.NewClient(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *pinpointsmsvoicev2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	texts, err := sms.New(smsClient, sms.Options{OriginationIdentity: "+16175550100"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sender.NewDeliverer(gate, sends, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: texts})
	if err != nil {
		t.Fatal(err)
	}
	d.Now = clock

	planner := &cycle.Planner{Accounts: led, History: hist, Consent: cs, Now: clock,
		Config: func(context.Context, ledger.TenantID) (*strategy.Config, error) { return strategy.DefaultConfig(), nil }}
	send := &cycle.Sender{Accounts: led, Deliverer: d, Now: clock,
		Collector: func(ledger.TenantID) ledger.CollectorType { return ledger.FirstParty }}
	ref := cycle.Ref{Tenant: "acme", Customer: "C4", Execution: "arn:aws:states:us-east-1:000000000000:execution:recoup-cycle:acme-C4"}
	prefersText := cycle.Score{Open: true, Channel: preference.Choice{Channel: preference.SMS, P: 0.4}}

	plan, err := planner.Plan(ctx, cycle.PlanInput{Ref: ref, Mode: cycle.ModeLive, Score: prefersText})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Route != cycle.RouteAct || plan.Channel != consent.SMS || plan.RequiresApproval {
		t.Fatalf("first plan: route %s, %+v; want a text now, no approval", plan.Route, plan.Decision)
	}
	draft := cycle.Message{Channel: consent.SMS, Source: "template",
		Body: "Pat Doe, invoice INV-7 for $125.00 was due Mar 26, 2026. Reply STOP to opt out."}
	entered := now
	in := cycle.SendInput{Ref: ref, Entered: entered, Decision: plan, Draft: draft}
	first, err := send.Send(ctx, in)
	if err != nil || first.Status != sender.StatusSent {
		t.Fatalf("first send: %+v, %v", first, err)
	}
	retry, err := send.Send(ctx, in) // the task delivered again
	if err != nil || retry.Status != sender.StatusSent || !retry.Repeat || retry.MessageID != first.MessageID {
		t.Fatalf("retried send: %+v, %v; want the first send's answer, nothing new", retry, err)
	}
	if entries, _ := outbox.Read(box); len(entries) != 1 {
		t.Fatalf("outbox holds %d texts after a retry, want 1", len(entries))
	}

	// The customer replies STOP while the execution waits; a week later
	// it plans again.
	if _, err := cs.Record(ctx, "acme", "C4", consent.Revoke{ID: "stop-1", Tenant: "acme", Address: tel,
		Via: consent.ViaSMSReply, At: now.Add(time.Hour), Text: "STOP"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(7 * 24 * time.Hour)
	again, err := planner.Plan(ctx, cycle.PlanInput{Ref: ref, Mode: cycle.ModeLive, Score: prefersText})
	if err != nil {
		t.Fatal(err)
	}
	if again.Channel == consent.SMS || again.Channel == consent.VoiceAI {
		t.Errorf("plan after STOP: %s on %s; want no automated channel", again.Action, again.Channel)
	}
	// A text planned before the STOP and sent now is blocked by the gate.
	stale, err := send.Send(ctx, cycle.SendInput{Ref: ref, Entered: now, Decision: plan, Draft: draft})
	if err != nil {
		t.Fatal(err)
	}
	if stale.Status != sender.StatusBlocked || stale.Decision != compliance.Block {
		t.Errorf("stale text after STOP: %+v; want blocked", stale)
	}
	if entries, _ := outbox.Read(box); len(entries) != 1 {
		t.Errorf("outbox holds %d texts after the STOP, want still 1", len(entries))
	}
	t.Logf("after STOP: %s; stale text: %s %v", again.Reason, stale.Status, stale.Rules)
}
