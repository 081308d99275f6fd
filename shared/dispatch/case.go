package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
)

// ConsentChannel maps an engine channel to the consent ledger's channel;
// "" for channels consent does not govern (credit reporting).
func ConsentChannel(ch compliance.Channel) consent.Channel {
	switch ch {
	case compliance.ChannelCall, compliance.ChannelVoicemail:
		return consent.Voice
	case compliance.ChannelAIVoice:
		return consent.VoiceAI
	case compliance.ChannelPrerecorded:
		return consent.Prerecorded
	case compliance.ChannelSMS:
		return consent.SMS
	case compliance.ChannelEmail:
		return consent.Email
	case compliance.ChannelLetter:
		return consent.Letter
	}
	return ""
}

// AttemptChannel is the engine channel of a planned contact on a consent
// channel (a voice contact is a call); "" for one no plan makes.
func AttemptChannel(ch consent.Channel) compliance.Channel {
	switch ch {
	case consent.Voice:
		return compliance.ChannelCall
	case consent.VoiceAI:
		return compliance.ChannelAIVoice
	case consent.SMS:
		return compliance.ChannelSMS
	case consent.Email:
		return compliance.ChannelEmail
	case consent.Letter:
		return compliance.ChannelLetter
	}
	return ""
}

// readConsent reads the consent that governs the attempt: the state of the
// address it goes to and the customer-level state (a written cease covers
// every address), both on the attempt's channel. A credit report reaches no
// address but a written cease still stops it (1006.6(c)), so for it the
// customer-level letter state is read. The states read are also the ones
// the commit checks are unchanged.
func (g *Gate) readConsent(ctx context.Context, req Request) ([]consent.Status, error) {
	ch := ConsentChannel(req.Attempt.Channel)
	if req.Attempt.Channel == compliance.ChannelCreditReport {
		ch = consent.Letter
	}
	cust, err := consent.CustomerAddress(req.Customer)
	if err != nil {
		return nil, err
	}
	addrs := []consent.Address{cust}
	if req.Attempt.To != "" && req.Attempt.Channel != compliance.ChannelCreditReport {
		a, err := addressOf(req.Attempt.To)
		if err != nil {
			// No value in the message: it would carry a phone number or an
			// email address into error payloads and logs.
			return nil, fmt.Errorf("%w: attempt %s: the destination is not a valid phone number or email address", ErrInvalid, req.AttemptID)
		}
		addrs = append([]consent.Address{a}, addrs...)
	}
	out := make([]consent.Status, 0, len(addrs))
	for _, a := range addrs {
		st, err := g.consent.Current(ctx, req.Tenant, a, ch)
		if err != nil {
			return nil, fmt.Errorf("read consent (%s): %w", a.Kind(), err)
		}
		out = append(out, st)
	}
	return out, nil
}

func addressOf(to string) (consent.Address, error) {
	if strings.Contains(to, "@") {
		return consent.NormaliseEmail(to)
	}
	return consent.NormalisePhone(to)
}

// caseFor assembles the engine's input: the request's ledger facts, the
// allowed attempts of the history (blocked ones never reached anybody), and
// the consent states as the events that produced them.
func (g *Gate) caseFor(req Request, snap Snapshot, states []consent.Status) compliance.Case {
	c := compliance.Case{Collector: req.Collector, Consumer: req.Consumer, Debts: req.Debts, Attempt: req.Attempt}
	c.History = make([]compliance.Event, 0, len(req.Events)+len(snap.Attempts)+len(states)+len(snap.Standing.Disputes))
	c.History = append(c.History, req.Events...)
	// What the person said through engagement events counts whether or not
	// the sender's view of the ledger has caught up with it.
	for _, f := range snap.Standing.Flags {
		if !slices.Contains(c.Consumer.Flags, f) {
			c.Consumer.Flags = append(slices.Clip(c.Consumer.Flags), f)
		}
	}
	for _, d := range snap.Standing.Disputes {
		c.History = append(c.History, compliance.Event{Kind: compliance.EventDispute, At: d.At, Debt: d.Debt, Written: d.Written})
	}
	for _, a := range snap.Attempts {
		if a.Decision != compliance.Allow {
			continue
		}
		c.History = append(c.History, compliance.Event{Kind: compliance.EventAttempt, At: a.At, Channel: a.Channel,
			Debt: a.Debt, To: a.To, Outcome: a.Outcome, WithConsent: a.WithConsent})
	}
	for _, st := range states {
		c.History = append(c.History, consentEvents(st, req.Attempt)...)
	}
	return c
}

// consentEvents turns a consent state into the history events the engine
// reads. The consent ledger has already folded the history (regrants,
// expiry, cross-channel revocation); what is left is what is in force.
//
// A revocation is also a refusal of the medium (1006.14(h)): the engine's
// TCPA rule covers automated channels, and an email unsubscribe or "don't
// call me" on a live-voice line must stop a collector too. A customer-level
// grant is never consent for a number (consent.Effective): only restrictions
// are read from the customer-level state.
func consentEvents(st consent.Status, at compliance.Attempt) []compliance.Event {
	var evs []compliance.Event
	for _, k := range st.Restrictions {
		switch k {
		case consent.KindRevoke:
			evs = append(evs,
				compliance.Event{Kind: compliance.EventConsentRevoked, At: st.Since, From: at.To, Via: "recorded"},
				compliance.Event{Kind: compliance.EventMediumRefused, At: st.Since, Channel: at.Channel, To: at.To})
		case consent.KindCease:
			evs = append(evs, compliance.Event{Kind: compliance.EventCeaseRequest, At: st.Since, Written: true})
		case consent.KindMediumRefused:
			evs = append(evs, compliance.Event{Kind: compliance.EventMediumRefused, At: st.Since, Channel: at.Channel, To: at.To})
		}
	}
	if st.Consent == consent.Granted && st.Address.Kind() != consent.KindCustomer && st.Allows(at.Debt) {
		evs = append(evs, compliance.Event{Kind: compliance.EventConsentGiven, At: st.Since, Channel: at.Channel,
			To: at.To, Source: consentSource(st), Debt: at.Debt})
	}
	return evs
}

// consentSource maps the ledger's sources onto the engine's. Consent that
// came in with an import is treated as given on an application: enough for
// the TCPA, not the direct consent that lifts Regulation F's call caps. When
// grants are limited to some debts the status cannot say which grant gave
// which source, so direct consent is not assumed for any of them.
func consentSource(st consent.Status) compliance.ConsentSource {
	switch {
	case st.Source == consent.SourceDirect && st.Debts == nil:
		return compliance.ConsentDirect
	case st.Source == consent.SourceWritten:
		return compliance.ConsentWritten
	}
	return compliance.ConsentApplication
}

// directConsentDays is how long consent given directly lifts the call caps
// (1006.14(b)(3)(i): "within the past seven days").
const directConsentDays = 7

// withDirectConsent says whether the attempt is placed with consent the
// person gave directly in the past 7 days: such calls do not count toward
// the 7-in-7 cap.
func withDirectConsent(states []consent.Status, at compliance.Attempt) bool {
	for _, st := range states {
		if st.Consent == consent.Granted && st.Address.Kind() != consent.KindCustomer &&
			consentSource(st) == compliance.ConsentDirect && st.Allows(at.Debt) &&
			!st.Since.After(at.At) && at.At.Sub(st.Since) < directConsentDays*24*time.Hour {
			return true
		}
	}
	return false
}
