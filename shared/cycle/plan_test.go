package cycle

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/strategy"
)

var usd = money.MustCurrency("USD")

// fakeLedger serves one tenant's accounts and checks it is asked for them.
type fakeLedger struct {
	t        *testing.T
	accounts map[string]ledger.Account
}

func (f fakeLedger) Account(_ context.Context, tenant ledger.TenantID, customer string) (ledger.Account, bool, error) {
	if tenant != "acme" {
		f.t.Errorf("Account asked for tenant %q", tenant)
	}
	a, ok := f.accounts[customer]
	return a, ok, nil
}

type fakeHistory struct {
	t    *testing.T
	snap dispatch.Snapshot
	err  error
}

func (f fakeHistory) Load(_ context.Context, tenant ledger.TenantID, customer string, since time.Time) (dispatch.Snapshot, error) {
	if tenant != "acme" || customer != "C1" || since.IsZero() {
		f.t.Errorf("Load(%s, %s, %s)", tenant, customer, since)
	}
	return f.snap, f.err
}

type fakeConsent []consent.Status

func (f fakeConsent) ForCustomer(context.Context, ledger.TenantID, string) ([]consent.Status, error) {
	return f, nil
}

func account(invoices ...ledger.Invoice) ledger.Account {
	return ledger.Account{
		Customer: ledger.Customer{Tenant: "acme", ID: "C1", Name: "Pat Doe", Kind: ledger.Business, Currency: usd},
		Contacts: []ledger.ContactPoint{
			{Tenant: "acme", Customer: "C1", ID: "P1", Kind: ledger.ContactPhone, Phone: &ledger.Phone{E164: "+16175550142", Line: ledger.LineMobile}},
			{Tenant: "acme", Customer: "C1", ID: "E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "pat@example.com"}},
		},
		Invoices: invoices,
	}
}

func invoice(id string, due time.Time, open int64) ledger.Invoice {
	return ledger.Invoice{Tenant: "acme", ID: id, Customer: "C1", InvoiceDate: due.AddDate(0, 0, -30), DueDate: due,
		Amount: money.New(open, usd), Open: money.New(open, usd)}
}

func TestPlanRoutes(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC) // a Tuesday, 10:00 in New York
	overdue := invoice("I1", ledger.Date(2026, 2, 20), 50000)
	tel, _ := consent.NormalisePhone("+16175550142")
	mail, _ := consent.NormaliseEmail("pat@example.com")
	tests := []struct {
		name      string
		acct      ledger.Account
		snap      dispatch.Snapshot
		states    []consent.Status
		wantRoute string
		wantWait  int64 // 0: do not check
		check     func(t *testing.T, p Plan)
	}{
		{name: "overdue, never contacted: act now", acct: account(overdue), wantRoute: RouteAct, wantWait: 3600,
			check: func(t *testing.T, p Plan) {
				if p.Outcome != strategy.OutcomeAct || len(p.Invoices) != 1 || p.Channel == "" {
					t.Errorf("decision %+v, want an action on I1 on some channel", p.Decision)
				}
			}},
		{name: "nothing open: the cycle ends", acct: account(invoice("I1", ledger.Date(2026, 2, 20), 0)), wantRoute: RouteClose},
		{name: "not yet due: park until the day after it falls due", acct: account(invoice("I1", ledger.Date(2026, 3, 20), 50000)),
			wantRoute: RoutePark, wantWait: int64(ledger.Date(2026, 3, 21).Sub(now) / time.Second)},
		{name: "handed off with a balance still open: the cycle ends", acct: account(overdue),
			snap: dispatch.Snapshot{Attempts: []dispatch.Attempt{{ID: "h1", At: now.Add(-24 * time.Hour), Channel: compliance.ChannelLetter,
				Decision: compliance.Allow, Step: "hand_off"}}},
			wantRoute: RouteClose,
			check: func(t *testing.T, p Plan) {
				if !p.HandedOff {
					t.Errorf("decision %+v, want handed off", p.Decision)
				}
			}},
		{name: "hardship recorded: a person reviews", acct: account(overdue),
			snap: dispatch.Snapshot{Standing: dispatch.Standing{Flags: []compliance.Flag{compliance.FlagHardship}}}, wantRoute: RouteReview},
		{name: "contacted an hour ago by this plan: wait for the step's wait", acct: account(overdue),
			snap: dispatch.Snapshot{Attempts: []dispatch.Attempt{{ID: "a1", At: now.Add(-time.Hour), Channel: compliance.ChannelEmail,
				Decision: compliance.Allow, Step: "reminder", Outcome: compliance.OutcomeDelivered}}},
			wantRoute: RoutePark,
			check: func(t *testing.T, p Plan) {
				if p.Outcome != strategy.OutcomeWait || p.WaitSeconds < 24*3600 {
					t.Errorf("decision %+v wait %d s, want a wait of days after the reminder", p.Decision, p.WaitSeconds)
				}
			}},
		{name: "email refused an hour ago under a standing rule: act now on another channel", acct: account(overdue),
			snap: dispatch.Snapshot{Attempts: []dispatch.Attempt{{ID: "b1", At: now.Add(-time.Hour), Channel: compliance.ChannelEmail,
				Decision: compliance.Block, Rules: []string{"REGF-WORK-EMAIL"}, Step: "reminder"}}},
			wantRoute: RouteAct,
			check: func(t *testing.T, p Plan) {
				if p.Channel == consent.Email || len(p.Trace.Facts.Blocked) != 1 {
					t.Errorf("planned on %s, blocked %v: want another channel than the refused email", p.Channel, p.Trace.Facts.Blocked)
				}
			}},
		{name: "a STOP on the mobile and the email revoked: no automated channel is planned", acct: account(overdue),
			states: []consent.Status{{Address: tel, Channel: consent.SMS, Consent: consent.Revoked}, {Address: tel, Channel: consent.VoiceAI, Consent: consent.Revoked},
				{Address: mail, Channel: consent.Email, Consent: consent.Revoked}},
			check: func(t *testing.T, p Plan) {
				if p.Channel == consent.SMS || p.Channel == consent.VoiceAI || p.Channel == consent.Email {
					t.Errorf("planned on %s after its revocation: %+v", p.Channel, p.Decision)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Planner{
				Accounts: fakeLedger{t, map[string]ledger.Account{"C1": tc.acct}},
				History:  fakeHistory{t: t, snap: tc.snap},
				Consent:  fakeConsent(tc.states),
				Config:   func(context.Context, ledger.TenantID) (*strategy.Config, error) { return strategy.DefaultConfig(), nil },
				Now:      func() time.Time { return now },
			}
			got, err := p.Plan(context.Background(), PlanInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Mode: ModeLive})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantRoute != "" && got.Route != tc.wantRoute {
				t.Errorf("route %s, want %s; decision %+v", got.Route, tc.wantRoute, got.Decision)
			}
			if tc.wantWait != 0 && got.WaitSeconds != tc.wantWait {
				t.Errorf("wait %d s, want %d", got.WaitSeconds, tc.wantWait)
			}
			if got.WaitSeconds < 1 && got.Route != RouteClose {
				t.Errorf("wait %d s: Park needs at least 1", got.WaitSeconds)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			t.Logf("route %s wait %d: %s %s on %s: %s", got.Route, got.WaitSeconds, got.Outcome, got.Action, got.Channel, got.Reason)
		})
	}
}

func TestBlocked(t *testing.T) {
	at := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	tel, _ := consent.NormalisePhone("+16175550142")
	block := func(id string, ago time.Duration, ch compliance.Channel, rules ...string) dispatch.Attempt {
		return dispatch.Attempt{ID: id, At: at.Add(-ago), Channel: ch, Decision: compliance.Block, Rules: rules}
	}
	tests := []struct {
		name     string
		attempts []dispatch.Attempt
		states   []consent.Status
		want     []strategy.Block
	}{
		{name: "nothing refused"},
		{name: "a text without consent stands",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelSMS, "TCPA-CONSENT")},
			want:     []strategy.Block{{Channel: consent.SMS, Rule: "TCPA-CONSENT", At: at.Add(-time.Hour)}}},
		{name: "the standing rule among others is named",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelAIVoice, "REGF-TIME", "TCPA-CONSENT")},
			want:     []strategy.Block{{Channel: consent.VoiceAI, Rule: "TCPA-CONSENT", At: at.Add(-time.Hour)}}},
		{name: "a refusal for the hour passes",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelSMS, "REGF-TIME")}},
		{name: "allowed attempts are no refusal",
			attempts: []dispatch.Attempt{{ID: "a", At: at, Channel: compliance.ChannelSMS, Decision: compliance.Allow}}},
		{name: "the latest refusal of a channel",
			attempts: []dispatch.Attempt{block("a", 48*time.Hour, compliance.ChannelSMS, "TCPA-CONSENT"), block("b", time.Hour, compliance.ChannelSMS, "TCPA-REVOCATION"),
				block("c", 24*time.Hour, compliance.ChannelEmail, "REGF-MEDIUM-REFUSED")},
			want: []strategy.Block{{Channel: consent.Email, Rule: "REGF-MEDIUM-REFUSED", At: at.Add(-24 * time.Hour)},
				{Channel: consent.SMS, Rule: "TCPA-REVOCATION", At: at.Add(-time.Hour)}}},
		{name: "consent given since lifts it",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelSMS, "TCPA-CONSENT")},
			states:   []consent.Status{{Address: tel, Channel: consent.SMS, Consent: consent.Granted, Since: at}}},
		{name: "consent given before does not",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelSMS, "TCPA-CONSENT")},
			states:   []consent.Status{{Address: tel, Channel: consent.SMS, Consent: consent.Granted, Since: at.Add(-2 * time.Hour)}},
			want:     []strategy.Block{{Channel: consent.SMS, Rule: "TCPA-CONSENT", At: at.Add(-time.Hour)}}},
		{name: "consent to another channel does not",
			attempts: []dispatch.Attempt{block("a", time.Hour, compliance.ChannelSMS, "TCPA-CONSENT")},
			states:   []consent.Status{{Address: tel, Channel: consent.VoiceAI, Consent: consent.Granted, Since: at}},
			want:     []strategy.Block{{Channel: consent.SMS, Rule: "TCPA-CONSENT", At: at.Add(-time.Hour)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Blocked(tc.attempts, tc.states)); diff != "" {
				t.Errorf("Blocked (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStandingRulesInPolicy: every rule Blocked reads is one the default
// policy has, so a renamed rule fails here instead of silently ending the
// lesson.
func TestStandingRulesInPolicy(t *testing.T) {
	p, err := compliance.DefaultPolicy()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range p.Rules {
		ids[r.ID] = true
	}
	for id := range standingRules {
		if !ids[id] {
			t.Errorf("standing rule %s is not in the default policy %s", id, p.Version)
		}
	}
}

func TestPlanRefuses(t *testing.T) {
	p := &Planner{
		Accounts: fakeLedger{t, map[string]ledger.Account{}},
		History:  fakeHistory{t: t},
		Consent:  fakeConsent(nil),
		Config:   func(context.Context, ledger.TenantID) (*strategy.Config, error) { return strategy.DefaultConfig(), nil },
		Now:      time.Now,
	}
	for _, tc := range []struct {
		name string
		in   PlanInput
	}{
		{"no tenant", PlanInput{Ref: Ref{Customer: "C1"}, Mode: ModeLive}},
		{"a customer id with the key separator", PlanInput{Ref: Ref{Tenant: "acme", Customer: "C#1"}, Mode: ModeLive}},
		{"unknown mode", PlanInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Mode: "loud"}},
		{"customer not in the ledger", PlanInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Mode: ModeLive}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Plan(context.Background(), tc.in)
			if !errors.Is(err, ErrInput) {
				t.Errorf("Plan error %v, want ErrInput", err)
			}
		})
	}
}

// The plan's JSON is what the state machine routes on: route, outcome,
// requires_approval and wait_seconds at the top level of $.decision.
func TestPlanJSONShape(t *testing.T) {
	p := Plan{Decision: strategy.Decision{Tenant: "acme", Customer: "C1", Outcome: strategy.OutcomeAct, RequiresApproval: true},
		Route: RouteAct, WaitSeconds: 3600}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"route": top["route"], "outcome": top["outcome"], "requires_approval": top["requires_approval"], "wait_seconds": top["wait_seconds"]}
	want := map[string]any{"route": "act", "outcome": "act", "requires_approval": true, "wait_seconds": 3600.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("top-level fields (-want +got):\n%s", diff)
	}
}
