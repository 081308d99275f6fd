package cycle

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/llm/bedrock"
	"github.com/recoup-dev/recoup/shared/llm/bedrock/fakeconverse"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/strategy"
	"github.com/recoup-dev/recoup/shared/tenant"
)

type profiles struct{ p *tenant.Profile }

func (f profiles) Profile(_ context.Context, t ledger.TenantID) (*tenant.Profile, error) {
	if t != "acme" {
		return nil, errors.New("unknown tenant " + string(t))
	}
	return f.p, nil
}

func acmeProfile(t *testing.T) *tenant.Profile {
	t.Helper()
	p, err := tenant.Parse([]byte(strings.Replace(string(tenant.DemoJSON()), `"tenant": "demo"`, `"tenant": "acme"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newDraftStep drafts through the real Bedrock client and the fake
// Converse service, so the guardrails see what a model would write.
func newDraftStep(t *testing.T, acct ledger.Account) (*DraftStep, *fakeconverse.Server) {
	t.Helper()
	fake := fakeconverse.New("test.model-v1:0")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	m, err := bedrock.New(bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}), "test.model-v1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := drafting.NewDrafter(m, drafting.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &DraftStep{Accounts: fakeLedger{t: t, accounts: map[string]ledger.Account{"C1": acct}},
		Profiles: profiles{acmeProfile(t)}, Drafter: d}, fake
}

func actOn(ch consent.Channel, action strategy.Action, level int, invoices ...string) Plan {
	return Plan{Route: RouteAct, Decision: strategy.Decision{Tenant: "acme", Customer: "C1", Outcome: strategy.OutcomeAct,
		Action: action, Channel: ch, DunningLevel: level, Tone: strategy.ToneFirm, Invoices: invoices}}
}

// TestDraftStep: every channel drafts on the model path from the
// ledger's facts; a bad draft is caught and replaced; the facts never
// state a paid invoice.
func TestDraftStep(t *testing.T) {
	due := ledger.Date(2026, 2, 20)
	acct := account(invoice("I1", due, 123456), invoice("I2", due.AddDate(0, 0, 5), 7890), invoice("I3", due, 0))
	for _, tc := range []struct {
		name     string
		plan     Plan
		script   []fakeconverse.Behaviour
		source   string
		rejected []string
	}{
		{"email", actOn(consent.Email, strategy.ActionFirmReminder, 2, "I1", "I2"), nil, "model", nil},
		{"sms", actOn(consent.SMS, strategy.ActionFriendlyReminder, 1, "I1"), nil, "model", nil},
		{"call", actOn(consent.Voice, strategy.ActionCall, 3, "I1", "I2"), nil, "model", nil},
		{"letter, final notice", actOn(consent.Letter, strategy.ActionFinalNotice, 4, "I1", "I2"), nil, "model", nil},
		{"wrong amount, then good", actOn(consent.Email, strategy.ActionFirmReminder, 2, "I1"),
			[]fakeconverse.Behaviour{fakeconverse.WrongAmount()}, "model_retry", []string{"amount"}},
		{"threat twice: the template", actOn(consent.Email, strategy.ActionFirmReminder, 2, "I1"),
			[]fakeconverse.Behaviour{fakeconverse.Threat(), fakeconverse.Threat()}, "template", []string{"banned_phrase"}},
		{"throttled: the template", actOn(consent.SMS, strategy.ActionFirmReminder, 2, "I1"),
			[]fakeconverse.Behaviour{fakeconverse.Throttle()}, "template", []string{"model:ThrottlingException"}},
		{"a paid invoice is left out", actOn(consent.Email, strategy.ActionFirmReminder, 2, "I1", "I3"), nil, "model", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, fake := newDraftStep(t, acct)
			fake.Enqueue(tc.script...)
			m, err := s.Draft(context.Background(), DraftInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Decision: tc.plan})
			if err != nil {
				t.Fatal(err)
			}
			if m.Source != tc.source || !slices.Equal(m.Rejected, tc.rejected) || m.Channel != tc.plan.Channel {
				t.Errorf("source %s rejected %v channel %s, want %s %v %s", m.Source, m.Rejected, m.Channel, tc.source, tc.rejected, tc.plan.Channel)
			}
			f, err := Facts(acmeProfile(t), acct, tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			if vs := drafting.CheckDraft(f, m.Subject, m.Body); len(vs) != 0 {
				t.Errorf("the step returned a draft that fails the guardrails: %v\n%s", vs, m.Body)
			}
			if strings.Contains(m.Body, "I3") {
				t.Errorf("the draft asks for the paid invoice I3:\n%s", m.Body)
			}
		})
	}
}

func TestFacts(t *testing.T) {
	due := ledger.Date(2026, 2, 20)
	eur := money.MustCurrency("EUR")
	other := invoice("E1", due, 5000)
	other.Open, other.Amount = money.New(5000, eur), money.New(5000, eur)
	acct := account(invoice("I1", due, 123456), other)
	acct.Customer.Name = "Pat Doe"
	p := acmeProfile(t)
	plan := actOn(consent.SMS, strategy.ActionPromiseFollowUp, 1, "I1", "E1")
	plan.Trace.Facts.Promise = &strategy.PromiseFact{ID: "P1", State: strategy.PromisePending, Due: due.AddDate(0, 0, 30),
		Amount: strategy.Amount{Amount: money.New(60000, usd)}}
	f, err := Facts(p, acct, plan)
	if err != nil {
		t.Fatal(err)
	}
	if f.Creditor != "Northwind Supply" || f.Customer != "Pat Doe" || len(f.Invoices) != 1 || f.Invoices[0].Number != "I1" ||
		f.Promise == nil || f.Promise.Amount.Minor != 60000 || f.Disclosures.OptOut != p.Disclosures.OptOut {
		t.Errorf("facts %+v", f)
	}
	for _, tc := range []struct {
		name string
		plan Plan
		want string
	}{
		{"unknown invoice", actOn(consent.Email, strategy.ActionFirmReminder, 1, "I9"), "I9"},
		{"nothing open", actOn(consent.Email, strategy.ActionFirmReminder, 1), "still open"},
	} {
		if _, err := Facts(p, acct, tc.plan); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrInput naming %q", tc.name, err, tc.want)
		}
	}
	s, _ := newDraftStep(t, acct)
	for _, tc := range []struct {
		name string
		in   DraftInput
	}{
		{"no tenant", DraftInput{Ref: Ref{Customer: "C1"}, Decision: actOn(consent.Email, strategy.ActionFirmReminder, 1, "I1")}},
		{"a park has no message", DraftInput{Ref: Ref{Tenant: "acme", Customer: "C1"}, Decision: Plan{Route: RoutePark}}},
		{"unknown customer", DraftInput{Ref: Ref{Tenant: "acme", Customer: "C9"}, Decision: actOn(consent.Email, strategy.ActionFirmReminder, 1, "I1")}},
	} {
		if _, err := s.Draft(context.Background(), tc.in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", tc.name, err)
		}
	}
}
