package strategy

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
)

// testConfigJSON is a small strategy: a consumer segment and a default
// sequence of every action, in New York business hours (Mon-Fri 9-17).
const testConfigJSON = `{
  "schema": "recoup.strategy/1",
  "version": "test-1",
  "business_hours": {"zone": "America/New_York", "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]},
  "approval": {"balance_at_least": {"USD": 1000000}, "actions": ["hand_off"]},
  "promise": {"follow_up_days": 1, "broken_after_days": 3},
  "max_contacts_per_week": 3,
  "risk": {"horizon_days": 30, "bands": [{"name": "low", "min_pay_probability": 0.6}, {"name": "high", "min_pay_probability": 0}]},
  "segments": [
    {"id": "consumer", "match": {"kind": ["consumer"]}, "tone": "empathetic", "steps": [
      {"id": "nudge", "action": "friendly_reminder", "min_days_past_due": 3, "wait_days": 7},
      {"id": "final", "action": "final_notice", "min_days_past_due": 30, "channel": "letter", "wait_days": 14}]},
    {"id": "standard", "default": true, "steps": [
      {"id": "reminder", "action": "friendly_reminder", "min_days_past_due": 3, "channel": "email", "tone": "friendly", "wait_days": 7},
      {"id": "firm", "action": "firm_reminder", "min_days_past_due": 14, "tone": "firm", "wait_days": 7},
      {"id": "call", "action": "call", "min_days_past_due": 21, "channel": "voice", "wait_days": 3, "attempts": 2, "escalate_to": "final"},
      {"id": "hold", "action": "credit_hold", "min_days_past_due": 28, "wait_days": 7},
      {"id": "final", "action": "final_notice", "min_days_past_due": 35, "channel": "letter", "tone": "formal", "wait_days": 14},
      {"id": "hand_off", "action": "hand_off", "min_days_past_due": 50}]}
  ]
}`

// now is Wednesday 11 March 2026, 11:00 in New York (EDT since 8 March).
var (
	now = time.Date(2026, 3, 11, 15, 0, 0, 0, time.UTC)
	usd = money.MustCurrency("USD")
	eur = money.MustCurrency("EUR")
)

func testConfig(t testing.TB) *Config {
	t.Helper()
	c, err := ParseConfig([]byte(testConfigJSON))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// daysAgo is the calendar date n days before now.
func daysAgo(n int) time.Time { return ledger.Date(2026, 3, 11).AddDate(0, 0, -n) }

// utc is 2026-03-d at h:00 UTC.
func utc(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

func invoice(id string, dpd int, minor int64) ledger.Invoice {
	return ledger.Invoice{Tenant: "t1", ID: id, Customer: "C1", InvoiceDate: daysAgo(dpd + 30), DueDate: daysAgo(dpd),
		Amount: money.New(minor, usd), Open: money.New(minor, usd)}
}

func input(invoices ...ledger.Invoice) Input {
	return Input{
		Tenant:    "t1",
		Customer:  ledger.Customer{Tenant: "t1", ID: "C1", Kind: ledger.Business, Currency: usd},
		Invoices:  invoices,
		Preferred: preference.Choice{Channel: preference.SMS, P: 0.3},
		Reachable: []consent.Channel{consent.Email, consent.SMS, consent.Voice, consent.Letter},
		Now:       now,
	}
}

func sent(at time.Time, step string, act Action, res engagement.Signal) Contact {
	return Contact{At: at, Channel: consent.Email, Step: step, Action: act, Result: res}
}

// summary is what the tables compare: the decision without its wording.
type summary struct {
	Outcome  Outcome
	Action   Action
	Step     string
	Segment  string
	Channel  consent.Channel
	When     time.Time
	Tone     Tone
	Level    int
	Invoices []string
	Approval []string
	Handed   bool
}

func summarize(d Decision) summary {
	s := summary{Outcome: d.Outcome, Action: d.Action, Step: d.Step, Segment: d.Segment, Channel: d.Channel,
		When: d.When, Tone: d.Tone, Level: d.DunningLevel, Invoices: d.Invoices, Handed: d.HandedOff}
	for _, a := range d.Approval {
		s.Approval = append(s.Approval, a.Code)
	}
	return s
}

func decide(t *testing.T, cfg *Config, in Input) Decision {
	t.Helper()
	d, err := Decide(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason == "" || len(d.Trace.Path) == 0 || d.Trace.ConfigHash != cfg.Hash() || d.Trace.ConfigVersion != "test-1" {
		t.Errorf("decision without reason or trace: %+v", d)
	}
	return d
}

type engineCase struct {
	name string
	in   Input
	want summary
}

func runCases(t *testing.T, cases []engineCase) {
	t.Helper()
	cfg := testConfig(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, cfg, tc.in)
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("decision (-want +got):\n%s\nreason: %s\npath: %q", diff, d.Reason, d.Trace.Path)
			}
		})
	}
}

func with(in Input, f func(*Input)) Input { f(&in); return in }

func TestSequenceProgression(t *testing.T) {
	one := []string{"I1"}
	runCases(t, []engineCase{
		{"nothing overdue", input(invoice("I1", 0, 10000), invoice("I2", -10, 5000)),
			summary{Outcome: OutcomeNone}},
		{"paid invoices are not overdue", with(input(invoice("I1", 40, 10000)), func(in *Input) { in.Invoices[0].Open.Minor = 0 }),
			summary{Outcome: OutcomeNone}},
		{"first step once old enough", input(invoice("I1", 5, 10000)),
			summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
				When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
		// Due 10 March: 3 days past due on Friday 13 March, at 09:00 New York.
		{"first step waits for its days past due", input(invoice("I1", 1, 10000)),
			summary{Outcome: OutcomeWait, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
				When: utc(13, 13), Tone: ToneFriendly, Level: 1, Invoices: one}},
		{"next step once the wait is over", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "reminder", ActionFriendlyReminder, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeAct, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: now, Tone: ToneFirm, Level: 2, Invoices: one}},
		// The reminder went Monday 9 March 11:00 EDT; seven days later is
		// Monday 16 March 11:00 EDT.
		{"wait_days respected after a recent contact", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(9, 15), "reminder", ActionFriendlyReminder, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeWait, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: utc(16, 15), Tone: ToneFirm, Level: 2, Invoices: one}},
		// Due 1 March: 14 days past due on Sunday 15 March, so Monday 09:00.
		{"next step waits for its days past due", with(input(invoice("I1", 10, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(3, 15), "reminder", ActionFriendlyReminder, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeWait, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: utc(16, 13), Tone: ToneFirm, Level: 2, Invoices: one}},
		{"a call is tried again without a response", with(input(invoice("I1", 25, 10000)), func(in *Input) {
			in.Contacts = []Contact{
				sent(utc(1, 15), "firm", ActionFirmReminder, engagement.SignalDelivered),
				sent(utc(7, 15), "call", ActionCall, engagement.SignalUnanswered),
			}
		}), summary{Outcome: OutcomeAct, Action: ActionCall, Step: "call", Segment: "standard", Channel: consent.Voice,
			When: now, Tone: ToneNeutral, Level: 3, Invoices: one}},
		{"unanswered calls escalate", with(input(invoice("I1", 25, 10000)), func(in *Input) {
			in.Contacts = []Contact{
				sent(utc(4, 15), "call", ActionCall, engagement.SignalUnanswered),
				sent(utc(7, 15), "call", ActionCall, engagement.SignalUnanswered),
			}
		}), summary{Outcome: OutcomeEscalate, Action: ActionFinalNotice, Step: "final", Segment: "standard", Channel: consent.Letter,
			When: now, Tone: ToneFormal, Level: 5, Invoices: one}},
		{"an answered call moves on to the next step", with(input(invoice("I1", 30, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(7, 15), "call", ActionCall, engagement.SignalAnswered)}
		}), summary{Outcome: OutcomeAct, Action: ActionCreditHold, Step: "hold", Segment: "standard",
			When: now, Tone: ToneNeutral, Level: 4, Invoices: one}},
		{"a manual call counts as the call step", with(input(invoice("I1", 30, 10000)), func(in *Input) {
			in.Contacts = []Contact{{At: utc(7, 15), Channel: consent.Voice, Action: ActionCall, Result: engagement.SignalAnswered}}
		}), summary{Outcome: OutcomeAct, Action: ActionCreditHold, Step: "hold", Segment: "standard",
			When: now, Tone: ToneNeutral, Level: 4, Invoices: one}},
		{"the hand-off waits out the final notice and needs the tenant's approval", with(input(invoice("I1", 60, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "final", ActionFinalNotice, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeWait, Action: ActionHandOff, Step: "hand_off", Segment: "standard",
			When: utc(16, 13), Tone: ToneNeutral, Level: 6, Invoices: one, Approval: []string{ApprovalAction}}},
		{"handed off: nothing more", with(input(invoice("I1", 70, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "hand_off", ActionHandOff, "")}
		}), summary{Outcome: OutcomeNone, Segment: "standard", Invoices: one, Handed: true}},
		{"contacts of an earlier delinquency do not count", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "final", ActionFinalNotice, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
		{"consumer segment, its tone by default", with(input(invoice("I1", 5, 10000)), func(in *Input) { in.Customer.Kind = ledger.Consumer }),
			summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "nudge", Segment: "consumer", Channel: consent.SMS,
				When: now, Tone: ToneEmpathetic, Level: 1, Invoices: one}},
		{"a sequence that ends goes to a person", with(input(invoice("I1", 50, 10000)), func(in *Input) {
			in.Customer.Kind = ledger.Consumer
			in.Contacts = []Contact{sent(utc(1, 15), "final", ActionFinalNotice, engagement.SignalDelivered)}
		}), summary{Outcome: OutcomeReview, Segment: "consumer", Invoices: one, Approval: []string{ApprovalSequenceEnd}}},
		// Three contacts in the week: the oldest, Thursday 5 March 15:00,
		// leaves the window on Thursday 12 March 15:00.
		{"weekly contact limit defers the next contact", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Contacts = []Contact{{At: utc(5, 15)}, {At: utc(8, 15)}, {At: utc(10, 15)}}
		}), summary{Outcome: OutcomeWait, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: utc(12, 15), Tone: ToneFriendly, Level: 1, Invoices: one}},
	})
}

func TestPromises(t *testing.T) {
	one := []string{"I1"}
	promise := func(status ledger.PromiseStatus, made, due time.Time) ledger.PromiseToPay {
		return ledger.PromiseToPay{Tenant: "t1", ID: "P1", Customer: "C1", Invoices: []string{"I1"},
			Amount: money.New(10000, usd), MadeAt: made, Due: due, Status: status}
	}
	reminded := []Contact{sent(utc(1, 15), "reminder", ActionFriendlyReminder, engagement.SignalDelivered)}
	runCases(t, []engineCase{
		// Promised for Friday 13 March: follow up a day later, Saturday, so
		// Monday 16 March at 09:00 EDT; no firm reminder meanwhile.
		{"a pending promise replaces reminders with a follow-up", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = reminded
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseOpen, utc(10, 15), ledger.Date(2026, 3, 13))}
		}), summary{Outcome: OutcomeFollowUp, Action: ActionPromiseFollowUp, Segment: "standard", Channel: consent.SMS,
			When: utc(16, 13), Tone: ToneFriendly, Invoices: one}},
		// Promised for 9 March, followed up on 10 March: nothing until it
		// counts as broken, 12 March (09:00 EDT).
		{"after the follow-up, wait for the promise to break", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = append(slices.Clone(reminded), sent(utc(10, 15), "", ActionPromiseFollowUp, engagement.SignalDelivered))
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseOpen, utc(5, 15), ledger.Date(2026, 3, 9))}
		}), summary{Outcome: OutcomeWait, Segment: "standard", When: utc(12, 13), Invoices: one}},
		{"a broken promise escalates to the next step at once", with(input(invoice("I1", 10, 10000)), func(in *Input) {
			in.Contacts = reminded
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseBroken, utc(2, 15), ledger.Date(2026, 3, 6))}
		}), summary{Outcome: OutcomeEscalate, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: now, Tone: ToneFirm, Level: 2, Invoices: one}},
		{"an open promise unpaid past its grace is broken and follows escalate_to", with(input(invoice("I1", 25, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "call", ActionCall, engagement.SignalPromised)}
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseOpen, utc(1, 15), ledger.Date(2026, 3, 5))}
		}), summary{Outcome: OutcomeEscalate, Action: ActionFinalNotice, Step: "final", Segment: "standard", Channel: consent.Letter,
			When: now, Tone: ToneFormal, Level: 5, Invoices: one}},
		{"a broken promise escalates once", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = append(slices.Clone(reminded), sent(utc(9, 15), "firm", ActionFirmReminder, engagement.SignalDelivered))
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseOpen, utc(2, 15), ledger.Date(2026, 3, 5))}
		}), summary{Outcome: OutcomeWait, Action: ActionCall, Step: "call", Segment: "standard", Channel: consent.Voice,
			When: utc(16, 15), Tone: ToneNeutral, Level: 3, Invoices: one}},
		{"a promise paid on time is kept: the sequence goes on", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Contacts = reminded
			in.Promises = []ledger.PromiseToPay{promise(ledger.PromiseOpen, utc(2, 15), ledger.Date(2026, 3, 5))}
			in.Payments = []ledger.Payment{{Tenant: "t1", ID: "PAY1", Customer: "C1", Amount: money.New(10000, usd), ReceivedAt: utc(5, 12)}}
		}), summary{Outcome: OutcomeAct, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: now, Tone: ToneFirm, Level: 2, Invoices: one}},
		{"a promise of an earlier delinquency is ignored", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			p := promise(ledger.PromiseBroken, utc(1, 15), ledger.Date(2026, 3, 2))
			p.Invoices = []string{"I0"}
			in.Promises = []ledger.PromiseToPay{p}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
	})
}

func TestApprovals(t *testing.T) {
	three := []ledger.Invoice{invoice("I1", 5, 10000), invoice("I2", 8, 20000), invoice("I3", 6, 30000)}
	runCases(t, []engineCase{
		{"an open dispute leaves its invoice out and needs approval", with(input(three...), func(in *Input) {
			in.Disputes = []ledger.Dispute{{Tenant: "t1", ID: "D1", Customer: "C1", Invoice: "I2", Status: ledger.DisputeOpen, OpenedAt: utc(9, 15)}}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I1", "I3"}, Approval: []string{ApprovalDispute}}},
		{"an invoice the ERP marks disputed is left out too", with(input(three...), func(in *Input) {
			in.Invoices = slices.Clone(in.Invoices)
			in.Invoices[0].Disputed = true
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I2", "I3"}, Approval: []string{ApprovalDispute}}},
		{"a resolved dispute is no reason", with(input(three...), func(in *Input) {
			in.Disputes = []ledger.Dispute{{ID: "D1", Customer: "C1", Invoice: "I2", Status: ledger.DisputeResolved}}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I1", "I2", "I3"}}},
		{"every invoice disputed: route to a person", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Disputes = []ledger.Dispute{{ID: "D1", Customer: "C1", Invoice: "I1", Status: ledger.DisputeOpen}}
		}), summary{Outcome: OutcomeReview, Approval: []string{ApprovalDispute}}},
		{"a dispute of the whole account: route to a person", with(input(three...), func(in *Input) {
			in.Disputes = []ledger.Dispute{{ID: "D1", Customer: "C1", Status: ledger.DisputeOpen}}
		}), summary{Outcome: OutcomeReview, Approval: []string{ApprovalDispute}}},
		{"hardship: route to a person", with(input(three...), func(in *Input) {
			in.Flags = []compliance.Flag{compliance.FlagHardship}
		}), summary{Outcome: OutcomeReview, Invoices: []string{"I1", "I2", "I3"}, Approval: []string{"hardship"}}},
		{"key account, first contact", with(input(three...), func(in *Input) { in.Customer.KeyAcct = true }),
			summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
				When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I1", "I2", "I3"}, Approval: []string{ApprovalKeyAccount}}},
		{"key account, contacted before in this delinquency", with(input(invoice("I1", 20, 10000)), func(in *Input) {
			in.Customer.KeyAcct = true
			in.Contacts = []Contact{sent(utc(1, 15), "reminder", ActionFriendlyReminder, engagement.SignalReplied)}
		}), summary{Outcome: OutcomeAct, Action: ActionFirmReminder, Step: "firm", Segment: "standard", Channel: consent.SMS,
			When: now, Tone: ToneFirm, Level: 2, Invoices: []string{"I1"}}},
		{"a balance at the tenant's threshold", input(invoice("I1", 5, 600000), invoice("I2", 5, 400000)),
			summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
				When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I1", "I2"}, Approval: []string{ApprovalHighBalance}}},
		{"just under the threshold", input(invoice("I1", 5, 600000), invoice("I2", 5, 399999)),
			summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Email,
				When: now, Tone: ToneFriendly, Level: 1, Invoices: []string{"I1", "I2"}}},
	})
}

func TestChannels(t *testing.T) {
	one := []string{"I1"}
	runCases(t, []engineCase{
		{"a named channel not reachable: the preferred one", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Reachable = []consent.Channel{consent.SMS, consent.Letter}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.SMS,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
		{"no preference: the first reachable fallback", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Reachable = []consent.Channel{consent.Voice, consent.Letter}
			in.Preferred = preference.Choice{}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Letter,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
		{"a call never goes by email", with(input(invoice("I1", 25, 10000)), func(in *Input) {
			in.Contacts = []Contact{sent(utc(1, 15), "firm", ActionFirmReminder, engagement.SignalDelivered)}
			in.Reachable = []consent.Channel{consent.Email, consent.VoiceAI}
			in.Preferred = preference.Choice{Channel: preference.Email}
		}), summary{Outcome: OutcomeAct, Action: ActionCall, Step: "call", Segment: "standard", Channel: consent.VoiceAI,
			When: now, Tone: ToneNeutral, Level: 3, Invoices: one}},
		{"the model's ai_voice is consent's voice_ai", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Customer.Kind = ledger.Consumer
			in.Reachable = []consent.Channel{consent.VoiceAI, consent.Email}
			in.Preferred = preference.Choice{Channel: preference.AIVoice}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "nudge", Segment: "consumer", Channel: consent.VoiceAI,
			When: now, Tone: ToneEmpathetic, Level: 1, Invoices: one}},
		{"the preferred channel refused for want of consent: the first fallback", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Reachable = []consent.Channel{consent.SMS, consent.Letter}
			in.Blocked = []Block{{Channel: consent.SMS, Rule: "TCPA-CONSENT", At: utc(1, 15)}}
		}), summary{Outcome: OutcomeAct, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard", Channel: consent.Letter,
			When: now, Tone: ToneFriendly, Level: 1, Invoices: one}},
		{"every channel refused: a person finds a way", with(input(invoice("I1", 5, 10000)), func(in *Input) {
			in.Reachable = []consent.Channel{consent.SMS, consent.VoiceAI}
			in.Blocked = []Block{{Channel: consent.VoiceAI, Rule: "TCPA-CONSENT", At: utc(1, 15)}, {Channel: consent.SMS, Rule: "TCPA-CONSENT", At: utc(1, 16)}}
		}), summary{Outcome: OutcomeReview, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard",
			Tone: ToneFriendly, Level: 1, Invoices: one, Approval: []string{ApprovalNoChannel}}},
		{"nothing reachable: a person finds a way", with(input(invoice("I1", 5, 10000)), func(in *Input) { in.Reachable = nil }),
			summary{Outcome: OutcomeReview, Action: ActionFriendlyReminder, Step: "reminder", Segment: "standard",
				Tone: ToneFriendly, Level: 1, Invoices: one, Approval: []string{ApprovalNoChannel}}},
	})
}

// TestBlockedInTrace: a refused channel is named in the decision's facts
// and path, and one that was not reachable anyway is not.
func TestBlockedInTrace(t *testing.T) {
	in := with(input(invoice("I1", 5, 10000)), func(in *Input) {
		in.Reachable = []consent.Channel{consent.SMS, consent.Letter}
		in.Blocked = []Block{{Channel: consent.VoiceAI, Rule: "TCPA-CONSENT", At: utc(1, 14)}, {Channel: consent.SMS, Rule: "TCPA-CONSENT", At: utc(1, 15)}}
	})
	d, err := Decide(testConfig(t), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{{Channel: consent.SMS, Rule: "TCPA-CONSENT", At: utc(1, 15)}}
	if diff := cmp.Diff(want, d.Trace.Facts.Blocked); diff != "" {
		t.Errorf("facts.blocked (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]consent.Channel{consent.Letter}, d.Trace.Facts.Reachable); diff != "" {
		t.Errorf("facts.reachable (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(d.Trace.Path, func(p string) bool {
		return strings.Contains(p, "channel sms left out: the gate refused it under TCPA-CONSENT")
	}) {
		t.Errorf("path %q does not name the refused channel", d.Trace.Path)
	}
}

// TestOneDecisionPerCustomer checks that one message covers every overdue
// invoice, whatever the currency, and that closed and not yet due invoices
// stay out.
func TestOneDecisionPerCustomer(t *testing.T) {
	cfg := testConfig(t)
	euro := invoice("I3", 9, 50000)
	euro.Amount, euro.Open = money.New(50000, eur), money.New(50000, eur)
	closed := invoice("I4", 30, 70000)
	closed.Open.Minor, closed.ClosedDate = 0, daysAgo(2)
	in := input(invoice("I5", -3, 90000), invoice("I2", 12, 150000), closed, euro, invoice("I1", 4, 50000))
	d := decide(t, cfg, in)
	if diff := cmp.Diff([]string{"I1", "I2", "I3"}, d.Invoices); diff != "" {
		t.Errorf("invoices (-want +got):\n%s", diff)
	}
	want := []Amount{{money.New(50000, eur)}, {money.New(200000, usd)}}
	if diff := cmp.Diff(want, d.Totals, cmp.Comparer(func(a, b money.Amount) bool { return a == b })); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if f := d.Trace.Facts; f.DaysPastDue != 12 || f.OverdueInvoices != 3 || !f.EpisodeStart.Equal(daysAgo(12)) {
		t.Errorf("facts: %d days past due, %d overdue, episode from %s", f.DaysPastDue, f.OverdueInvoices, f.EpisodeStart)
	}
	if !strings.Contains(d.Reason, "3 overdue invoices totalling 500.00 EUR and 2000.00 USD, the oldest 12 days past due") {
		t.Errorf("reason %q does not describe the demand", d.Reason)
	}

	other := input(invoice("I9", 5, 100))
	other.Customer.ID, other.Invoices[0].Customer = "C2", "C2"
	plan := Plan(cfg, []Input{in, other, in})
	if len(plan) != 3 {
		t.Fatalf("%d decisions for 3 inputs", len(plan))
	}
	if plan[0].Customer != "C1" || plan[1].Customer != "C2" || plan[0].Outcome != OutcomeAct || plan[1].Outcome != OutcomeAct {
		t.Errorf("plan: %+v, %+v", summarize(plan[0]), summarize(plan[1]))
	}
	if plan[2].Outcome != OutcomeReview || plan[2].Approval[0].Code != ApprovalInput || !strings.Contains(plan[2].Reason, "one decision per customer") {
		t.Errorf("a customer given twice: %s %q", plan[2].Outcome, plan[2].Reason)
	}
}

func TestBadInput(t *testing.T) {
	cfg := testConfig(t)
	foreign := input(invoice("I1", 5, 100))
	foreign.Invoices[0].Customer = "C2"
	for name, in := range map[string]Input{
		"an invoice of another customer": foreign,
		"no planning time":               with(input(), func(in *Input) { in.Now = time.Time{} }),
		"an invoice given twice":         input(invoice("I1", 5, 100), invoice("I1", 5, 100)),
	} {
		if _, err := Decide(cfg, in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: got %v, want ErrInput", name, err)
		}
	}
	if _, err := Decide(&Config{}, input()); !errors.Is(err, ErrConfig) {
		t.Errorf("a config never validated: got %v, want ErrConfig", err)
	}
	d := Plan(cfg, []Input{foreign})[0]
	if d.Outcome != OutcomeReview || !d.RequiresApproval || d.Trace.ConfigHash != cfg.Hash() {
		t.Errorf("bad input in a batch: %+v", d)
	}
}

func TestBusinessHoursPlacement(t *testing.T) {
	cfg := testConfig(t)
	tokyo, err := ParseConfig([]byte(strings.Replace(strings.Replace(testConfigJSON, "America/New_York", "Asia/Tokyo", 1),
		`{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}`,
		`{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "13:00", "end": "18:00"},
		 {"days": ["fri", "thu", "wed", "tue", "mon"], "start": "09:00", "end": "12:00"}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cfg      *Config
		at, want time.Time
	}{
		{"inside the window", cfg, now, now},
		{"before opening", cfg, utc(11, 11), utc(11, 13)},
		{"at closing time: the next morning", cfg, utc(11, 21), utc(12, 13)},
		// Saturday 7 March is EST; Monday 9 March is EDT: 09:00 is 13:00 UTC.
		{"a weekend across the clock change", cfg, utc(7, 15), utc(9, 13)},
		{"Friday evening to Monday", cfg, time.Date(2026, 3, 13, 21, 30, 0, 0, time.UTC), utc(16, 13)},
		{"Tokyo lunch break", tokyo, time.Date(2026, 3, 11, 3, 30, 0, 0, time.UTC), utc(11, 4)},
		{"Tokyo Friday evening to Monday", tokyo, utc(13, 10), utc(16, 0)},
		{"Sunday in UTC is Monday in Tokyo", tokyo, utc(15, 23), utc(16, 0)},
	}
	for _, tt := range tests {
		if got := tt.cfg.c.inBusinessHours(tt.at); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: %s → %s, want %s", tt.name, tt.at, got, tt.want)
		}
	}

	// A date becomes "today" when it has begun both in UTC and in the
	// tenant's zone.
	for zone, want := range map[string]time.Time{
		"America/New_York": time.Date(2026, 3, 13, 4, 0, 0, 0, time.UTC),
		"Pacific/Honolulu": time.Date(2026, 3, 13, 10, 0, 0, 0, time.UTC),
		"Pacific/Auckland": time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC),
	} {
		loc, _ := time.LoadLocation(zone)
		c := compiled{loc: loc}
		if got := c.dayStart(ledger.Date(2026, 3, 13)); !got.Equal(want) {
			t.Errorf("start of 13 March for %s: %s, want %s", zone, got, want)
		}
	}

	// Planned on a Saturday: the reminder goes on Monday morning.
	d := decide(t, cfg, with(input(invoice("I1", 10, 10000)), func(in *Input) { in.Now = utc(7, 15) }))
	if d.Outcome != OutcomeAct || !d.When.Equal(utc(9, 13)) {
		t.Errorf("planned on Saturday: %s at %s, want act on Monday 13:00 UTC", d.Outcome, d.When)
	}
	if !strings.Contains(d.Reason, "Mon 9 Mar 2026 09:00 EDT") {
		t.Errorf("reason %q does not show the local time", d.Reason)
	}
}

// fullInput is a customer with something of everything: five invoices, one
// disputed, contacts, a kept promise, a score and a value.
func fullInput() Input {
	in := input(invoice("I1", 31, 125000), invoice("I2", 24, 8050), invoice("I3", 17, 43000), invoice("I4", 10, 99999), invoice("I5", 3, 120000))
	in.Customer.KeyAcct = false
	in.Disputes = []ledger.Dispute{{ID: "D1", Customer: "C1", Invoice: "I4", Status: ledger.DisputeOpen, OpenedAt: utc(2, 10)}}
	in.Contacts = []Contact{
		sent(time.Date(2026, 2, 10, 15, 0, 0, 0, time.UTC), "reminder", ActionFriendlyReminder, engagement.SignalDelivered),
		sent(time.Date(2026, 2, 24, 15, 0, 0, 0, time.UTC), "firm", ActionFirmReminder, engagement.SignalOpened),
		{At: utc(2, 16), Channel: consent.Voice, Step: "call", Action: ActionCall, Result: engagement.SignalUnanswered},
		{At: utc(6, 16), Channel: consent.Voice, Step: "call", Action: ActionCall, Result: engagement.SignalUnanswered},
	}
	in.Promises = []ledger.PromiseToPay{{ID: "P1", Customer: "C1", Invoices: []string{"I2"}, Amount: money.New(8050, usd),
		MadeAt: time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC), Due: ledger.Date(2026, 2, 27), Status: ledger.PromiseKept}}
	in.Score = &ranking.CustomerScore{Customer: "C1", Open: money.New(396049, usd), Invoices: 5, OldestDaysPastDue: 31,
		PayWithin: [3]float64{0.08, 0.19, 0.41}, ExpectedDays: 37.5}
	v := money.New(12345, usd)
	in.Value = &v
	in.Flags = nil
	return in
}

func TestDeterminism(t *testing.T) {
	cfg := testConfig(t)
	in := fullInput()
	first, err := Decide(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		again := fullInput()
		shuffle := func(n int, swap func(i, j int)) { r.Shuffle(n, swap) }
		shuffle(len(again.Invoices), func(i, j int) { again.Invoices[i], again.Invoices[j] = again.Invoices[j], again.Invoices[i] })
		shuffle(len(again.Contacts), func(i, j int) { again.Contacts[i], again.Contacts[j] = again.Contacts[j], again.Contacts[i] })
		shuffle(len(again.Reachable), func(i, j int) { again.Reachable[i], again.Reachable[j] = again.Reachable[j], again.Reachable[i] })
		d, err := Decide(cfg, again)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		if string(a) != string(b) {
			t.Fatalf("run %d differs:\n%s\n%s", i, a, b)
		}
	}
	// The decision reads back from JSON as it was: it travels through
	// Step Functions to the drafting and approval functions.
	var back Decision
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, back, cmp.Comparer(func(a, b money.Amount) bool { return a == b })); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	want := summary{Outcome: OutcomeEscalate, Action: ActionFinalNotice, Step: "final", Segment: "standard", Channel: consent.Letter,
		When: now, Tone: ToneFormal, Level: 5, Invoices: []string{"I1", "I2", "I3", "I5"}, Approval: []string{ApprovalDispute}}
	if diff := cmp.Diff(want, summarize(first)); diff != "" {
		t.Errorf("decision (-want +got):\n%s", diff)
	}
	f := first.Trace.Facts
	if f.RiskBand != "high" || f.PayProbability == nil || *f.PayProbability != 0.41 || f.PayHorizonDays != 30 ||
		f.LastStep != "call" || f.Attempts != 2 || f.Responded || f.Promise == nil || f.Promise.State != PromiseKept {
		t.Errorf("facts: %s", a)
	}
}

// TestDefaultConfig plays the sample strategy the demo uses.
func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.Version != "default-2026-01" || len(cfg.Hash()) != 64 {
		t.Fatalf("default config %q, hash %q", cfg.Version, cfg.Hash())
	}
	in := fullInput()
	in.Score.PayWithin[2] = 0.2
	d, err := Decide(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	// 2960.50 USD is not a large balance: the business segment, where the
	// unanswered calls escalate to the final notice.
	if d.Segment != "business" || d.Step != "final" || d.Outcome != OutcomeEscalate || d.Channel != consent.Letter {
		t.Errorf("default config: %+v\n%s", summarize(d), d.Reason)
	}
	key := input(invoice("I1", 2, 10000))
	key.Customer.KeyAcct = true
	d, err = Decide(cfg, key)
	if err != nil {
		t.Fatal(err)
	}
	if d.Segment != "key_accounts" || d.Tone != ToneFormal || !d.RequiresApproval || d.Approval[0].Code != ApprovalKeyAccount {
		t.Errorf("key account: %+v", summarize(d))
	}
}

func BenchmarkDecide(b *testing.B) {
	cfg := testConfig(b)
	in := fullInput()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := Decide(cfg, in); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "plans/s")
}
