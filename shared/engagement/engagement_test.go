package engagement

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
)

func sample(t testing.TB, name string) events.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "samples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.Decode(b)
	if err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return ev
}

// planned gives the customer of ev a set of open actions on every channel.
func planned(ev events.Event) State {
	tel, mail := consent.Address("tel:+16175550123"), consent.Address("mailto:pat@example.com")
	mk := func(id string, ch consent.Channel, to consent.Address, inv ...string) Action {
		return Action{Tenant: ev.Tenant, Customer: ev.Customer, ID: id, Channel: ch, To: to, Invoices: inv, Status: ActionPending}
	}
	return State{Pending: []Action{
		mk("a-sms", consent.SMS, tel, "INV-2025-0402"),
		mk("a-ai", consent.VoiceAI, tel, "INV-2025-0402"),
		mk("a-voice", consent.Voice, tel, "INV-2025-0402"),
		mk("a-email", consent.Email, mail, "INV-2025-0402", "INV-2025-0999"),
		mk("a-letter", consent.Letter, ""),
	}}
}

func TestEffectsActionsAndStanding(t *testing.T) {
	tests := []struct {
		sample   string
		edit     func(*events.Event)
		actions  map[string]ActionStatus // id -> new status
		standing *dispatch.Standing
		consent  int
		ledger   int
		outcome  compliance.Outcome
		replan   bool
	}{
		{sample: "sms.inbound", edit: func(e *events.Event) { e.ContactPoint = "+16175550123" },
			actions: map[string]ActionStatus{"a-sms": ActionCancelled, "a-ai": ActionCancelled}, consent: 1, replan: true},
		{sample: "sms.inbound", edit: func(e *events.Event) { e.Payload = events.SMSInbound{Text: "ok will pay friday"} }},
		{sample: "consent.revoked", edit: func(e *events.Event) {
			e.ContactPoint = "+16175550123"
			e.Payload = events.ConsentRevoked{Channels: []events.Channel{events.ChannelVoiceAI}, Via: events.ViaCall}
		}, actions: map[string]ActionStatus{"a-sms": ActionCancelled, "a-ai": ActionCancelled}, consent: 1, replan: true},
		{sample: "cease.requested", edit: func(e *events.Event) { e.Payload = events.CeaseRequested{Written: true} },
			actions: map[string]ActionStatus{"a-sms": ActionCancelled, "a-ai": ActionCancelled, "a-voice": ActionCancelled,
				"a-email": ActionCancelled, "a-letter": ActionCancelled}, consent: 1, replan: true},
		{sample: "cease.requested", edit: func(e *events.Event) { e.Payload = events.CeaseRequested{Written: false} },
			actions: map[string]ActionStatus{"a-sms": ActionCancelled, "a-ai": ActionCancelled}, consent: 1, replan: true},
		{sample: "dispute.raised", edit: func(e *events.Event) {
			e.Debt = "INV-2025-0999"
			e.Payload = events.DisputeRaised{Invoice: "INV-2025-0999", Written: true}
		}, actions: map[string]ActionStatus{"a-email": ActionCancelled, "a-letter": ActionCancelled}, ledger: 1, replan: true,
			standing: &dispatch.Standing{Disputes: []dispatch.Dispute{{Debt: "INV-2025-0999", Written: true}}}},
		{sample: "hardship.stated", actions: map[string]ActionStatus{"a-sms": ActionReview, "a-ai": ActionReview,
			"a-voice": ActionReview, "a-email": ActionReview, "a-letter": ActionReview}, replan: true,
			standing: &dispatch.Standing{Flags: []compliance.Flag{compliance.FlagHardship}}},
		{sample: "promise.made", actions: map[string]ActionStatus{"a-sms": ActionPaused, "a-ai": ActionPaused, "a-voice": ActionPaused},
			ledger: 1, replan: true},
		{sample: "payment.received", edit: func(e *events.Event) {
			p := e.Payload.(events.PaymentReceived)
			p.Invoices = nil
			e.Payload = p
		}, actions: map[string]ActionStatus{"a-sms": ActionPaused, "a-ai": ActionPaused, "a-voice": ActionPaused,
			"a-email": ActionPaused, "a-letter": ActionPaused}, ledger: 1, replan: true},
		{sample: "email.bounced", edit: func(e *events.Event) {
			e.ContactPoint = "pat@example.com"
			e.Payload = events.EmailBounced{BounceType: events.BouncePermanent, AttemptID: "att-1"}
		}, actions: map[string]ActionStatus{"a-email": ActionCancelled}, outcome: compliance.OutcomeBounced, replan: true},
		{sample: "email.complained", edit: func(e *events.Event) { e.ContactPoint = "pat@example.com" },
			actions: map[string]ActionStatus{"a-email": ActionCancelled}, consent: 1, replan: true},
		{sample: "call.outcome", outcome: compliance.OutcomeVoicemail},
		{sample: "email.opened"},
		{sample: "consent.given", consent: 1, replan: true},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			ev := sample(t, tt.sample)
			if tt.edit != nil {
				tt.edit(&ev)
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("test event invalid: %v", err)
			}
			fx, err := planned(ev).Effects(ev)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]ActionStatus{}
			for _, ch := range fx.Actions {
				got[ch.ID] = ch.To
			}
			if tt.actions == nil {
				tt.actions = map[string]ActionStatus{}
			}
			if diff := cmp.Diff(tt.actions, got); diff != "" {
				t.Errorf("action changes (-want +got):\n%s", diff)
			}
			if tt.standing != nil && fx.Standing != nil {
				for i := range fx.Standing.Disputes {
					fx.Standing.Disputes[i].At, fx.Standing.Disputes[i].EventID = time.Time{}, ""
				}
			}
			if diff := cmp.Diff(tt.standing, fx.Standing); diff != "" {
				t.Errorf("standing (-want +got):\n%s", diff)
			}
			if len(fx.Consent) != tt.consent || len(fx.Ledger) != tt.ledger {
				t.Errorf("consent events %d, ledger records %d; want %d, %d", len(fx.Consent), len(fx.Ledger), tt.consent, tt.ledger)
			}
			var o compliance.Outcome
			if fx.Outcome != nil {
				o = fx.Outcome.Outcome
			}
			if o != tt.outcome {
				t.Errorf("outcome %q, want %q", o, tt.outcome)
			}
			if (fx.Replan != nil) != tt.replan {
				t.Errorf("replan %v, want %v", fx.Replan, tt.replan)
			}
			if fx.Features.Events != 1 {
				t.Errorf("features count %d events, want 1", fx.Features.Events)
			}
		})
	}
}

func TestEffectsEverySampleHasEffects(t *testing.T) {
	for _, typ := range events.Types() {
		ev := sample(t, string(typ))
		if _, err := (State{}).Effects(ev); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestEffectsRepeatedStandingIsNoChange(t *testing.T) {
	ev := sample(t, "hardship.stated")
	st := State{Standing: dispatch.Standing{Flags: []compliance.Flag{compliance.FlagHardship}}}
	fx, err := st.Effects(ev)
	if err != nil {
		t.Fatal(err)
	}
	if fx.Standing != nil {
		t.Errorf("hardship stated twice changed the standing to %+v", *fx.Standing)
	}
	ev = sample(t, "dispute.raised")
	fx, err = State{}.Effects(ev)
	if err != nil {
		t.Fatal(err)
	}
	fx2, err := State{Standing: *fx.Standing}.Effects(ev)
	if err != nil {
		t.Fatal(err)
	}
	if fx2.Standing != nil {
		t.Errorf("the same dispute twice changed the standing to %+v", *fx2.Standing)
	}
}

func TestEffectsPausedActionsAreNotRevived(t *testing.T) {
	ev := sample(t, "promise.made")
	st := planned(ev)
	st.Pending[0].Status = ActionCancelled
	fx, err := st.Effects(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range fx.Actions {
		if ch.ID == "a-sms" {
			t.Errorf("a promise moved a cancelled action: %+v", ch)
		}
		if ch.To == ActionPaused && !ch.Until.Equal(ledger.Date(2025, 3, 15)) {
			t.Errorf("paused until %s, want the day after the promised date", ch.Until)
		}
	}
}

func TestEffectsFeaturesOutOfOrder(t *testing.T) {
	early, late := sample(t, "email.opened"), sample(t, "email.clicked")
	early.OccurredAt = late.OccurredAt.Add(-time.Hour)
	fx, err := State{}.Effects(late)
	if err != nil {
		t.Fatal(err)
	}
	fx2, err := State{Features: fx.Features}.Effects(early)
	if err != nil {
		t.Fatal(err)
	}
	if !fx2.Features.LastEventAt.Equal(late.OccurredAt) || !fx2.Features.LastResponse["email"].Equal(late.OccurredAt) {
		t.Errorf("an older event moved times back: %+v", fx2.Features)
	}
	want := map[Signal]int{SignalOpened: 1, SignalClicked: 1}
	if diff := cmp.Diff(want, fx2.Features.Counts["email"]); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if fx.Features.Counts["email"][SignalOpened] != 0 {
		t.Error("Effects changed the features it was given")
	}
}
