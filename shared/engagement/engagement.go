// Package engagement applies engagement events (deliveries, replies, call
// outcomes, payments, promises, disputes, hardship, consent) to what the
// rest of Recoup reads: the consent ledger, the contact history the dispatch
// gate reads, the ledger, per-customer engagement features and the
// customer's pending planned actions.
//
// [Effects] is the pure part: what one event means, with no I/O. [Consumer]
// is the Kinesis consumer that decodes records, keeps poison ones as dead
// letters, and commits each event exactly once through a [Store].
package engagement

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ActionStatus is where a planned action stands.
type ActionStatus string

// Action statuses. Only pending actions are sent; the others wait for the
// orchestration to re-plan the customer.
const (
	ActionPending   ActionStatus = "pending"
	ActionPaused    ActionStatus = "paused"    // a payment or promise covers its invoices
	ActionCancelled ActionStatus = "cancelled" // consent, cease or dispute forbids it; the re-plan may re-route
	ActionReview    ActionStatus = "review"    // a person must look first (hardship)
	ActionSent      ActionStatus = "sent"
)

// Action is one planned contact waiting for its time.
type Action struct {
	Tenant   ledger.TenantID
	Customer string
	ID       string
	Channel  consent.Channel
	// To is the address ("tel:+1...", "mailto:...") or "" for a letter.
	To       consent.Address
	Invoices []string // the invoices it is about; empty: every overdue one
	At       time.Time
	Status   ActionStatus
	// Reason and Cause say why the status last changed (Cause: the event id).
	Reason string
	Cause  string
	// Until is when a paused action may resume (zero: at the next re-plan).
	Until time.Time
}

// ActionChange moves one action from one status to another.
type ActionChange struct {
	ID     string
	From   ActionStatus
	To     ActionStatus
	Reason string
	Until  time.Time
}

// Signal is one kind of engagement counted per channel in Features.
type Signal string

// Signals.
const (
	SignalDelivered  Signal = "delivered"
	SignalOpened     Signal = "opened"
	SignalClicked    Signal = "clicked"
	SignalReplied    Signal = "replied"
	SignalBounced    Signal = "bounced"
	SignalComplained Signal = "complained"
	SignalFailed     Signal = "failed"
	SignalAnswered   Signal = "answered"   // connected or conversation
	SignalUnanswered Signal = "unanswered" // no answer, busy, voicemail
	SignalPaid       Signal = "paid"
	SignalPromised   Signal = "promised"
	SignalOptOut     Signal = "opt_out"
)

// responses are the signals that show the person engaged: the channel
// preference model's "useful response".
var responses = []Signal{SignalOpened, SignalClicked, SignalReplied, SignalAnswered, SignalPaid, SignalPromised}

// Features are the per-customer engagement features the scoring models and
// the planner read (issue 5 builds on them): counts per channel and signal,
// and the last useful response per channel.
type Features struct {
	Counts       map[string]map[Signal]int // channel -> signal -> count
	LastResponse map[string]time.Time      // channel -> latest useful response
	LastEventAt  time.Time
	Events       int
	Version      int64 // for the store's optimistic update
	// Letters are when the dispatch gate allowed each letter, in the
	// order recorded. Letters have no delivery receipt, so no signal
	// counts them; the channel model counts them as trials once a reply
	// could have come back (preference.WithLetters). The store keeps them
	// apart from the counts, written with the attempt, not by events.
	Letters []time.Time
}

// Clone returns a deep copy.
func (f Features) Clone() Features {
	g := f
	g.Counts = make(map[string]map[Signal]int, len(f.Counts))
	for ch, m := range f.Counts {
		g.Counts[ch] = make(map[Signal]int, len(m))
		for s, n := range m {
			g.Counts[ch][s] = n
		}
	}
	g.LastResponse = make(map[string]time.Time, len(f.LastResponse))
	for ch, t := range f.LastResponse {
		g.LastResponse[ch] = t
	}
	g.Letters = slices.Clone(f.Letters)
	return g
}

// add counts one signal; events arrive out of order, so times only move
// forward.
func (f *Features) add(channel string, s Signal, at time.Time) {
	if f.Counts == nil {
		f.Counts = map[string]map[Signal]int{}
	}
	if f.Counts[channel] == nil {
		f.Counts[channel] = map[Signal]int{}
	}
	f.Counts[channel][s]++
	if slices.Contains(responses, s) {
		if f.LastResponse == nil {
			f.LastResponse = map[string]time.Time{}
		}
		if at.After(f.LastResponse[channel]) {
			f.LastResponse[channel] = at
		}
	}
}

// State is what the store holds about a customer that events change.
type State struct {
	Standing dispatch.Standing
	// StandingVersion is the stored standing's version as read (0: none);
	// a commit that changes the standing requires it to be unchanged.
	StandingVersion int64
	Features        Features
	Pending         []Action // actions not sent yet, any status but sent
}

// OutcomeUpdate records how an attempt the gate decided ended. The gate
// treats an attempt with no outcome as a possible conversation, so each
// outcome recorded lets it count the attempt as what it was.
type OutcomeUpdate struct {
	AttemptID string
	Outcome   compliance.Outcome
	// For an attempt the gate never saw (a collector dialled by hand), the
	// store records the attempt itself from these, so it still counts.
	Channel compliance.Channel
	At      time.Time
	To      string
	Debt    string
}

// Replan asks the orchestration to plan the customer again.
type Replan struct {
	Reason string
	At     time.Time
}

// Effects is everything one event changes. The consent events and ledger
// records are idempotent on their own (keyed by the event id); the rest is
// committed with the event's idempotency claim in one transaction.
type Effects struct {
	Consent []consent.Event
	Ledger  []ledger.Record
	Outcome *OutcomeUpdate
	// Standing is the customer's new standing when the event changes it.
	Standing *dispatch.Standing
	Features Features
	Actions  []ActionChange
	Replan   *Replan
	// ERP are the actions the event writes to the tenant's ERP (promises,
	// tasks, notes), queued for the write-back before the event commits.
	ERP []erp.Action
	// Note explains the effects in words, for logs and the demo.
	Note string
}

// Effects works out what ev changes given the customer's current state.
// It is pure: the same event and state give the same effects.
func (s State) Effects(ev events.Event) (Effects, error) {
	fx := Effects{Features: s.Features.Clone(), ERP: erpEffects(ev)}
	fx.Features.Events++
	if ev.OccurredAt.After(fx.Features.LastEventAt) {
		fx.Features.LastEventAt = ev.OccurredAt
	}
	ch := string(ev.Channel)
	at := ev.OccurredAt
	// Parsing a phone number is the dearest step of most events, so only
	// the cases that act on the address normalise it.
	switch p := ev.Payload.(type) {
	case events.EmailDelivered:
		fx.Features.add(ch, SignalDelivered, at)
		fx.Outcome = outcome(ev, p.AttemptID, compliance.OutcomeDelivered)
		fx.Note = "email delivered"
	case events.EmailOpened:
		fx.Features.add(ch, SignalOpened, at)
		fx.Note = "email opened"
	case events.EmailClicked:
		fx.Features.add(ch, SignalClicked, at)
		fx.Note = "email link clicked"
	case events.EmailBounced:
		fx.Features.add(ch, SignalBounced, at)
		fx.Outcome = outcome(ev, p.AttemptID, compliance.OutcomeBounced)
		fx.Note = "email bounced (" + string(p.BounceType) + ")"
		if addr, ok := contactAddress(ev); ok && p.BounceType == events.BouncePermanent {
			// The address is dead: nothing more should go to it, and the
			// planner should pick another route.
			fx.Actions = s.change(func(a Action) bool { return a.To == addr }, ActionCancelled, "permanent bounce", time.Time{})
			fx.Replan = &Replan{Reason: "permanent bounce of an e-mail address", At: at}
		}
	case events.EmailComplained:
		fx.Features.add(ch, SignalComplained, at)
		if addr, ok := contactAddress(ev); ok {
			// A spam complaint is the person asking us to stop e-mailing
			// that address (a revocation by reasonable means, and a refused
			// medium under 12 CFR 1006.14(h)).
			text := "spam complaint"
			if p.FeedbackType != "" {
				text += ": " + p.FeedbackType
			}
			fx.Consent = append(fx.Consent, consent.Revoke{ID: ev.ID, Tenant: ev.Tenant, Address: addr,
				Channels: []consent.Channel{consent.Email}, Via: consent.ViaEmailReply, At: at, Text: text})
			fx.Actions = s.change(func(a Action) bool { return a.To == addr }, ActionCancelled, "e-mail complaint", time.Time{})
			fx.Replan = &Replan{Reason: "e-mail complaint", At: at}
		}
		fx.Note = "email complaint"
	case events.SMSDelivered:
		fx.Features.add(ch, SignalDelivered, at)
		fx.Outcome = outcome(ev, p.AttemptID, compliance.OutcomeDelivered)
		fx.Note = "text delivered"
	case events.SMSFailed:
		fx.Features.add(ch, SignalFailed, at)
		fx.Outcome = outcome(ev, p.AttemptID, compliance.OutcomeBounced)
		fx.Note = "text failed"
	case events.SMSInbound:
		revoked, keyword := compliance.Revocation(p.Text)
		var (
			addr consent.Address
			ok   bool
		)
		if revoked {
			addr, ok = contactAddress(ev)
		}
		if ok {
			fx.Features.add(ch, SignalOptOut, at)
			fx.Consent = append(fx.Consent, consent.Revoke{ID: ev.ID, Tenant: ev.Tenant, Address: addr,
				Channels: []consent.Channel{consent.SMS}, Via: consent.ViaSMSReply, At: at, Text: p.Text})
			// A revocation by text covers every automated channel of the
			// number (FCC 24-24): texts, AI voice and prerecorded calls.
			fx.Actions = s.change(func(a Action) bool { return a.To == addr && a.Channel.Automated() },
				ActionCancelled, "opt-out reply ("+keyword+")", time.Time{})
			fx.Replan = &Replan{Reason: "opt-out reply", At: at}
			fx.Note = "opt-out reply " + keyword
		} else {
			fx.Features.add(ch, SignalReplied, at)
			fx.Note = "text reply"
		}
	case events.CallOutcome:
		sig := SignalUnanswered
		if p.Outcome == events.OutcomeConnected || p.Outcome == events.OutcomeConversation {
			sig = SignalAnswered
		}
		if p.Outcome == events.OutcomeNotInService {
			sig = SignalFailed
		}
		fx.Features.add(ch, sig, at)
		fx.Outcome = outcome(ev, p.AttemptID, compliance.Outcome(p.Outcome))
		fx.Note = "call " + string(p.Outcome)
	case events.PaymentLinkClicked:
		fx.Features.add(ch, SignalClicked, at)
		fx.Note = "payment link clicked"
	case events.PaymentReceived:
		fx.Features.add(ch, SignalPaid, at)
		fx.Ledger = append(fx.Ledger, payments(ev, p)...)
		fx.Actions = s.change(covers(p.Invoices), ActionPaused, "payment received", time.Time{})
		fx.Replan = &Replan{Reason: "payment received", At: at}
		fx.Note = "payment of " + p.Amount.String()
	case events.PromiseMade:
		fx.Features.add(ch, SignalPromised, at)
		fx.Ledger = append(fx.Ledger, ledger.PromiseToPay{Tenant: ev.Tenant, ID: ev.ID, Customer: ev.Customer,
			Invoices: slices.Clone(p.Invoices), Amount: p.Amount, Due: p.PromisedDate, MadeAt: at, Status: ledger.PromiseOpen,
			Source: source(ev)})
		// Reminders wait until the day after the promised date: a follow-up
		// then, not a reminder before.
		fx.Actions = s.change(covers(p.Invoices), ActionPaused, "promise to pay", p.PromisedDate.AddDate(0, 0, 1))
		fx.Replan = &Replan{Reason: "promise to pay", At: at}
		fx.Note = "promise of " + p.Amount.String() + " by " + p.PromisedDate.Format(time.DateOnly)
	case events.DisputeRaised:
		fx.Ledger = append(fx.Ledger, ledger.Dispute{Tenant: ev.Tenant, ID: ev.ID, Customer: ev.Customer, Invoice: p.Invoice,
			Reason: p.Reason, OpenedAt: at, Status: ledger.DisputeOpen, Source: source(ev)})
		st := cloneStanding(s.Standing)
		if !slices.ContainsFunc(st.Disputes, func(d dispatch.Dispute) bool { return d.EventID == ev.ID }) {
			st.Disputes = append(st.Disputes, dispatch.Dispute{Debt: p.Invoice, At: at, Written: p.Written, EventID: ev.ID})
		}
		fx.Standing = &st
		fx.Actions = s.change(touches(p.Invoice), ActionCancelled, "dispute of "+p.Invoice, time.Time{})
		fx.Replan = &Replan{Reason: "dispute raised", At: at}
		fx.Note = "dispute of " + p.Invoice
	case events.HardshipStated:
		st := cloneStanding(s.Standing)
		if !slices.Contains(st.Flags, compliance.FlagHardship) {
			st.Flags = append(st.Flags, compliance.FlagHardship)
		}
		fx.Standing = &st
		fx.Actions = s.change(func(Action) bool { return true }, ActionReview, "hardship stated", time.Time{})
		fx.Replan = &Replan{Reason: "hardship stated", At: at}
		fx.Note = "hardship stated"
	case events.CeaseRequested:
		fx.Consent = append(fx.Consent, consent.Cease{ID: ev.ID, Tenant: ev.Tenant, Customer: ev.Customer, Written: p.Written, At: at})
		if p.Written {
			fx.Actions = s.change(func(Action) bool { return true }, ActionCancelled, "written cease request", time.Time{})
		} else {
			// An oral stop is a revocation of every automated channel; a
			// collector may still call, write or e-mail.
			fx.Actions = s.change(func(a Action) bool { return a.Channel.Automated() }, ActionCancelled, "oral request to stop", time.Time{})
		}
		fx.Replan = &Replan{Reason: "cease request", At: at}
		fx.Note = "cease request"
	case events.ConsentGiven:
		addr, ok := contactAddress(ev)
		if !ok {
			return fx, fmt.Errorf("event %s: consent.given needs a contact point", ev.ID)
		}
		fx.Consent = append(fx.Consent, consent.Grant{ID: ev.ID, Tenant: ev.Tenant, Address: addr,
			Channel: consent.Channel(p.Channel), Source: consent.Source(p.Source), At: at})
		fx.Replan = &Replan{Reason: "consent given", At: at}
		fx.Note = "consent given for " + string(p.Channel)
	case events.ConsentRevoked:
		addr, ok := contactAddress(ev)
		if !ok {
			return fx, fmt.Errorf("event %s: consent.revoked needs a contact point", ev.ID)
		}
		chans := make([]consent.Channel, 0, len(p.Channels))
		for _, c := range p.Channels {
			chans = append(chans, consent.Channel(c))
		}
		fx.Features.add(ch, SignalOptOut, at)
		fx.Consent = append(fx.Consent, consent.Revoke{ID: ev.ID, Tenant: ev.Tenant, Address: addr, Channels: chans,
			Via: consent.Via(p.Via), At: at, Text: p.Text})
		hit := revokedChannels(addr, chans)
		fx.Actions = s.change(func(a Action) bool { return a.To == addr && slices.Contains(hit, a.Channel) },
			ActionCancelled, "consent revoked", time.Time{})
		fx.Replan = &Replan{Reason: "consent revoked", At: at}
		fx.Note = "consent revoked"
	default:
		return fx, fmt.Errorf("event %s: no effects defined for type %q", ev.ID, ev.Type())
	}
	if fx.Standing != nil && standingEqual(*fx.Standing, s.Standing) {
		fx.Standing = nil
	}
	return fx, nil
}

// revokedChannels is what a revocation of chans at addr stops: naming any
// automated channel of a number stops all of them (FCC 24-24); naming none
// stops every automated channel the address can reach.
func revokedChannels(addr consent.Address, chans []consent.Channel) []consent.Channel {
	out := slices.Clone(chans)
	automated := len(chans) == 0 || slices.ContainsFunc(chans, consent.Channel.Automated)
	if automated && addr.Kind() == consent.KindTel {
		out = append(out, consent.AutomatedChannels()...)
	}
	if len(chans) == 0 && addr.Kind() == consent.KindMailto {
		out = append(out, consent.Email)
	}
	return out
}

// change moves every open action that match selects to status to.
func (s State) change(match func(Action) bool, to ActionStatus, reason string, until time.Time) []ActionChange {
	var out []ActionChange
	for _, a := range s.Pending {
		if a.Status == ActionSent || a.Status == ActionCancelled || a.Status == to || !match(a) {
			continue
		}
		// A paused action that must now be cancelled or reviewed moves on;
		// a cancelled one stays cancelled (pausing it would revive it).
		out = append(out, ActionChange{ID: a.ID, From: a.Status, To: to, Reason: reason, Until: until})
	}
	return out
}

// covers matches actions whose invoices are all among invoices (every
// action when the event names none: it covers the whole balance).
func covers(invoices []string) func(Action) bool {
	return func(a Action) bool {
		if len(invoices) == 0 {
			return true
		}
		if len(a.Invoices) == 0 {
			return false
		}
		for _, i := range a.Invoices {
			if !slices.Contains(invoices, i) {
				return false
			}
		}
		return true
	}
}

// touches matches actions about invoice, including ones about every invoice.
func touches(invoice string) func(Action) bool {
	return func(a Action) bool { return len(a.Invoices) == 0 || slices.Contains(a.Invoices, invoice) }
}

func outcome(ev events.Event, attemptID string, o compliance.Outcome) *OutcomeUpdate {
	if attemptID == "" {
		return nil
	}
	return &OutcomeUpdate{AttemptID: attemptID, Outcome: o, Channel: attemptChannel(ev.Channel), At: ev.OccurredAt,
		To: strings.TrimPrefix(ev.ContactPoint, "tel:"), Debt: ev.Debt}
}

// attemptChannel is the gate's name for an event's channel.
func attemptChannel(c events.Channel) compliance.Channel {
	switch c {
	case events.ChannelVoice:
		return compliance.ChannelCall
	case events.ChannelVoiceAI:
		return compliance.ChannelAIVoice
	case events.ChannelPrerecorded:
		return compliance.ChannelPrerecorded
	case events.ChannelSMS:
		return compliance.ChannelSMS
	case events.ChannelEmail:
		return compliance.ChannelEmail
	case events.ChannelLetter:
		return compliance.ChannelLetter
	}
	return ""
}

// payments records a payment against its invoice; a payment naming several
// invoices is recorded once, unapplied, since the event does not say how it
// splits.
func payments(ev events.Event, p events.PaymentReceived) []ledger.Record {
	pay := ledger.Payment{Tenant: ev.Tenant, ID: ev.ID, Customer: ev.Customer, Amount: p.Amount, ReceivedAt: ev.OccurredAt,
		Reference: p.Reference, Source: source(ev)}
	if len(p.Invoices) == 1 {
		pay.Invoice = p.Invoices[0]
	}
	return []ledger.Record{pay}
}

func source(ev events.Event) ledger.Source {
	return ledger.Source{System: "engagement:" + ev.Source, File: "event " + ev.ID}
}

// contactAddress is the consent-ledger address of the event's contact point.
func contactAddress(ev events.Event) (consent.Address, bool) {
	if ev.ContactPoint == "" {
		return "", false
	}
	a, err := consent.NormaliseAddress(ev.ContactPoint)
	if err != nil {
		return "", false
	}
	return a, true
}

func cloneStanding(s dispatch.Standing) dispatch.Standing {
	return dispatch.Standing{Flags: slices.Clone(s.Flags), Disputes: slices.Clone(s.Disputes)}
}

func standingEqual(a, b dispatch.Standing) bool {
	return slices.Equal(a.Flags, b.Flags) && slices.EqualFunc(a.Disputes, b.Disputes, func(x, y dispatch.Dispute) bool {
		return x.Debt == y.Debt && x.At.Equal(y.At) && x.Written == y.Written && x.EventID == y.EventID
	})
}
