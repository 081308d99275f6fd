package portfolio

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Contacted is one contact the gate allowed: what a day of engagement
// reacts to.
type Contacted struct {
	Tenant    ledger.TenantID
	AttemptID string
	Customer  string
	Channel   events.Channel // email, sms or voice
	To        string         // E.164 number or e-mail address
	Debt      string
	Open      money.Amount // the debt's open balance
	At        time.Time
}

// EngagementDay makes the engagement events that follow a day's contacts,
// in time order, from a seed: deliveries and bounces, opens and clicks,
// text replies (some of them STOP), call outcomes, payments, promises to
// pay, and exactly one written dispute, one hardship statement and one
// written cease request. The same seed and contacts give the same events.
func EngagementDay(seed int64, contacted []Contacted) []events.Event {
	r := rand.New(rand.NewPCG(uint64(seed), 0xe1a9))
	var out []events.Event
	n := 0
	add := func(c Contacted, after time.Duration, ch events.Channel, cp string, p events.Payload) {
		n++
		ev := events.Event{ID: fmt.Sprintf("demo-%06d", n), Tenant: c.Tenant, Customer: c.Customer, Debt: c.Debt,
			Channel: ch, ContactPoint: cp, OccurredAt: c.At.Add(after).Truncate(time.Second), Source: "demo", Payload: p}
		out = append(out, ev)
	}
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Minute }
	var dispute, hardship, cease bool
	for _, c := range contacted {
		switch c.Channel {
		case events.ChannelEmail:
			if permille(r, 40) {
				add(c, minutes(1, 5), events.ChannelEmail, c.To, events.EmailBounced{BounceType: events.BouncePermanent,
					Diagnostic: "550 5.1.1 user unknown", AttemptID: c.AttemptID})
				continue
			}
			add(c, minutes(1, 5), events.ChannelEmail, c.To, events.EmailDelivered{AttemptID: c.AttemptID})
			if permille(r, 450) {
				add(c, minutes(10, 240), events.ChannelEmail, c.To, events.EmailOpened{AttemptID: c.AttemptID})
				if permille(r, 250) {
					add(c, minutes(241, 300), events.ChannelWeb, "", events.PaymentLinkClicked{Invoices: []string{c.Debt}, AttemptID: c.AttemptID})
				}
			}
			if permille(r, 5) {
				add(c, minutes(301, 400), events.ChannelEmail, c.To, events.EmailComplained{FeedbackType: "abuse", AttemptID: c.AttemptID})
			}
			if !dispute && permille(r, 50) {
				dispute = true
				add(c, minutes(401, 480), events.ChannelEmail, c.To, events.DisputeRaised{Invoice: c.Debt, Written: true,
					Reason: "goods returned, credit note not issued"})
			}
		case events.ChannelSMS:
			if permille(r, 30) {
				add(c, minutes(1, 3), events.ChannelSMS, c.To, events.SMSFailed{Reason: "UNREACHABLE", AttemptID: c.AttemptID})
				continue
			}
			add(c, minutes(1, 3), events.ChannelSMS, c.To, events.SMSDelivered{AttemptID: c.AttemptID})
			switch x := r.IntN(1000); {
			case x < 40:
				add(c, minutes(5, 120), events.ChannelSMS, c.To, events.SMSInbound{Text: pick(r, []string{"STOP", "stop", "Stop texting me", "UNSUBSCRIBE"})})
			case x < 90:
				add(c, minutes(5, 120), events.ChannelSMS, c.To, events.SMSInbound{Text: "I'll pay on Friday"})
			}
		case events.ChannelVoice:
			outcomes := []events.Outcome{events.OutcomeNoAnswer, events.OutcomeNoAnswer, events.OutcomeVoicemail, events.OutcomeVoicemail,
				events.OutcomeBusy, events.OutcomeConnected, events.OutcomeConversation, events.OutcomeConversation, events.OutcomeNotInService}
			o := pick(r, outcomes)
			dur := 0
			if o == events.OutcomeConversation {
				dur = 60 + r.IntN(400)
			}
			add(c, minutes(1, 10), events.ChannelVoice, c.To, events.CallOutcome{Outcome: o, DurationSeconds: dur, AttemptID: c.AttemptID})
			if o == events.OutcomeConversation {
				switch {
				case !hardship:
					hardship = true
					add(c, minutes(11, 12), events.ChannelVoice, c.To, events.HardshipStated{Note: "lost a major contract"})
				case permille(r, 400):
					add(c, minutes(11, 12), events.ChannelVoice, c.To, events.PromiseMade{Amount: c.Open,
						PromisedDate: ledger.Date(c.At.Year(), c.At.Month(), c.At.Day()).AddDate(0, 0, 7+r.IntN(14)), Invoices: []string{c.Debt}})
				}
			}
		}
		// Payments arrive from the processor whatever the channel.
		if permille(r, 80) {
			add(c, minutes(60, 600), events.ChannelPayment, "", events.PaymentReceived{Amount: c.Open, Invoices: []string{c.Debt},
				Reference: fmt.Sprintf("pi_demo_%06d", n)})
		}
		if !cease && c.Channel == events.ChannelEmail && permille(r, 20) {
			cease = true
			add(c, minutes(300, 600), events.ChannelLetter, "", events.CeaseRequested{Written: true, Text: "Please stop contacting me about this account."})
		}
	}
	slices.SortStableFunc(out, func(a, b events.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return out
}
