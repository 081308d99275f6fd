// Package consent is the domain of Recoup's consent ledger: per contact point
// (a normalised Address) and Channel, every grant and every revocation, and
// the consent that follows from them at any instant.
//
// The ledger is append-only. Events (Grant, Revoke, Cease, MediumRefused) are
// expanded by Expand into per-(address, channel) Entry values, which are
// never deleted or expired: a revocation must stay provable for as long as
// the contact history it governs is kept (12 CFR 1006.100). State folds a
// history into a Status. The rules live here as pure functions so the
// DynamoDB adapter (shared/store/dynamo) and the compliance engine share
// one reading of them:
//
//   - A revocation on any automated channel (sms, voice_ai, prerecorded) to a
//     number revokes every automated channel to that number, at once rather
//     than within 10 business days (47 CFR 64.1200(a)(10), FCC 24-24).
//   - A written cease request covers every channel and address of the
//     customer (12 CFR 1006.6(c)); a refused medium covers that medium
//     (12 CFR 1006.14(h)).
//   - A revocation is never deleted. Only a later grant whose source is
//     direct or written re-establishes consent; an old application or
//     imported record cannot override what the person said since.
//   - An expired grant ends. Unknown consent stays Unknown: the compliance
//     engine treats it as no consent for automated channels.
//
// The package imports no AWS SDK.
package consent

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Channel is a way of contacting a person.
type Channel string

// Channels. SMS, VoiceAI and Prerecorded are automated: the TCPA's consent
// and revocation rules (47 USC 227(b), 47 CFR 64.1200) apply to them. Voice
// is a call placed and spoken by a live human. An AI-generated voice is an
// artificial voice (FCC 24-17), hence VoiceAI is automated.
const (
	Email       Channel = "email"
	SMS         Channel = "sms"
	Voice       Channel = "voice"
	VoiceAI     Channel = "voice_ai"
	Prerecorded Channel = "prerecorded"
	Letter      Channel = "letter"
)

var allChannels = []Channel{Email, SMS, Voice, VoiceAI, Prerecorded, Letter}

// AllChannels returns every channel, in a fixed order.
func AllChannels() []Channel { return slices.Clone(allChannels) }

// AutomatedChannels returns the channels the TCPA treats as automated (texts,
// artificial or prerecorded voice), in a fixed order.
func AutomatedChannels() []Channel { return []Channel{SMS, VoiceAI, Prerecorded} }

// callChannels are the channels that are telephone calls: one medium under
// 12 CFR 1006.14(h), whoever or whatever speaks.
var callChannels = []Channel{Voice, VoiceAI, Prerecorded}

// Automated reports whether c is an automated channel (sms, voice_ai,
// prerecorded).
func (c Channel) Automated() bool { return c == SMS || c == VoiceAI || c == Prerecorded }

// Call reports whether c is a telephone call (voice, voice_ai, prerecorded).
func (c Channel) Call() bool { return c == Voice || c == VoiceAI || c == Prerecorded }

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool { return slices.Contains(allChannels, c) }

func (c Channel) order() int { return slices.Index(allChannels, c) }

// ParseChannel returns the channel named s, or an error naming s.
func ParseChannel(s string) (Channel, error) {
	c := Channel(s)
	if !c.Valid() {
		return "", fmt.Errorf("%w: unknown channel %q (want one of email, sms, voice, voice_ai, prerecorded, letter)", ErrInvalid, s)
	}
	return c, nil
}

// Source says how a grant of consent reached us.
type Source string

// Sources of consent.
const (
	// SourceDirect: the person told us directly (e.g. "call me Thursday").
	SourceDirect Source = "direct"
	// SourceApplication: the number or address was given on a credit
	// application or at onboarding (prior express consent, FCC 07-232).
	SourceApplication Source = "application"
	// SourceWritten: a signed or written statement from the person.
	SourceWritten Source = "written"
	// SourceImport: a consent flag imported from the tenant's ERP.
	SourceImport Source = "import"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	return s == SourceDirect || s == SourceApplication || s == SourceWritten || s == SourceImport
}

// Reestablishes reports whether a grant from s, dated after a revocation,
// restores consent. Only what the person said or wrote since the revocation
// can: an application or imported record predates the person's words and
// would otherwise resurrect a revoked consent (47 CFR 64.1200(a)(10)).
func (s Source) Reestablishes() bool { return s == SourceDirect || s == SourceWritten }

// Via says how a revocation reached us. The TCPA lets a person revoke "by
// any reasonable means" (47 CFR 64.1200(a)(10)), so every way is accepted.
type Via string

// Ways a revocation can arrive.
const (
	ViaSMSReply   Via = "sms_reply"
	ViaEmailReply Via = "email_reply"
	ViaCall       Via = "call"
	ViaLetter     Via = "letter"
	ViaWeb        Via = "web"
	ViaAgent      Via = "agent"
)

// Valid reports whether v is a known way of revoking.
func (v Via) Valid() bool {
	switch v {
	case ViaSMSReply, ViaEmailReply, ViaCall, ViaLetter, ViaWeb, ViaAgent:
		return true
	}
	return false
}

// Kind is the kind of an entry.
type Kind string

// Entry kinds. Revoke, Cease and MediumRefused are restrictions: each ends
// every grant in force on its (address, channel).
const (
	KindGrant Kind = "grant"
	// KindRevoke: consent revoked by any reasonable means (TCPA-REVOCATION,
	// 47 CFR 64.1200(a)(10)), or an oral request to stop.
	KindRevoke Kind = "revoke"
	// KindCease: a written cease request or refusal to pay (REGF-CEASE,
	// 12 CFR 1006.6(c)).
	KindCease Kind = "cease"
	// KindMediumRefused: the person asked us not to use this medium or
	// address (REGF-MEDIUM-REFUSED, 12 CFR 1006.14(h)).
	KindMediumRefused Kind = "medium_refused"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	return k == KindGrant || k == KindRevoke || k == KindCease || k == KindMediumRefused
}

// Restriction reports whether k ends consent (revoke, cease, medium refused).
func (k Kind) Restriction() bool { return k == KindRevoke || k == KindCease || k == KindMediumRefused }

// Value is the consent of one address on one channel.
type Value string

// Consent values.
const (
	Granted Value = "granted"
	Revoked Value = "revoked"
	// Unknown: nothing recorded, or every grant expired. It is not consent:
	// automated contact needs prior express consent (47 USC
	// 227(b)(1)(A)(iii)), so the compliance engine blocks on Unknown.
	Unknown Value = "unknown"
)

// ErrInvalid is wrapped by every error about malformed input: an address,
// channel, event or entry the ledger refuses to record.
var ErrInvalid = errors.New("consent: invalid")

// ErrEventConflict is returned when an event id already recorded is recorded
// again with different content: an idempotency key must name one event.
var ErrEventConflict = errors.New("consent: event id already recorded with different content")

// Entry is one fact of the ledger about one (address, channel): what one
// event implies there. Entries are append-only.
type Entry struct {
	Event   string // id of the event (its idempotency key)
	Kind    Kind
	Address Address
	Channel Channel
	At      time.Time // when it happened (UTC), not when it was recorded
	// Implied: the event did not name this channel; a rule extended it here
	// (e.g. an SMS STOP revoking voice_ai on the same number).
	Implied bool

	Source  Source    // grant: how consent was given
	Debt    string    // grant: the debt it was given for; "" = any debt
	Expires time.Time // grant: when it lapses; zero = never

	Via  Via    // revoke: how the revocation arrived ("" when implied by an oral cease)
	Text string // revoke: the person's words, as evidence

	Customer string // cease, and revocations from an oral cease
	Written  bool   // cease: the request was in writing
}

// Status is the consent of one address on one channel at one instant.
type Status struct {
	Address Address
	Channel Channel
	Consent Value
	// Source of the grant in force when Granted.
	Source Source
	// Since: when the state began. Granted: the grant in force. Revoked: the
	// earliest restriction still in force. Unknown after expiry: the expiry.
	Since time.Time
	// Reason is a sentence a collector can read, citing the rule.
	Reason string
	// Cause is the kind of the entry that decided the state: the grant in
	// force, the earliest restriction in force, or KindGrant for an expired
	// grant; "" when nothing is recorded.
	Cause Kind
	// Event is the id of that entry's event.
	Event string
	// Restrictions lists every kind of restriction in force (revoke, cease,
	// medium_refused), so the engine can name each rule that applies to the
	// tenant (REGF-* bind third-party collectors only; TCPA binds both).
	Restrictions []Kind
	// Debts the consent in force covers when Granted; nil = every debt.
	Debts []string
	// Expires: when the consent in force lapses if nothing else is
	// recorded; zero = never.
	Expires time.Time
	// Version counts the entries folded into this state; 0 when nothing is
	// recorded. Stores use it for optimistic concurrency.
	Version int
}

// Allows reports whether s is consent for contact about debt: Granted and
// covering debt ("" asks about no debt in particular and is covered only by
// a grant that names none).
func (s Status) Allows(debt string) bool {
	if s.Consent != Granted {
		return false
	}
	return s.Debts == nil || (debt != "" && slices.Contains(s.Debts, debt))
}
