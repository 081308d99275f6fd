package compliance

import (
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Decision is the engine's verdict on one proposed contact attempt.
type Decision string

// Decisions, from most to least severe: block beats route_to_human beats allow.
const (
	Block        Decision = "block"
	RouteToHuman Decision = "route_to_human"
	Allow        Decision = "allow"
)

// Channel is how an attempt reaches the person.
type Channel string

// Channels. AI voice is an artificial voice under the TCPA (FCC 24-17);
// voicemail is a message a live agent leaves on a call.
const (
	ChannelCall         Channel = "call"
	ChannelAIVoice      Channel = "ai_voice"
	ChannelPrerecorded  Channel = "prerecorded"
	ChannelSMS          Channel = "sms"
	ChannelEmail        Channel = "email"
	ChannelVoicemail    Channel = "voicemail"
	ChannelLetter       Channel = "letter"
	ChannelCreditReport Channel = "credit_report"
)

// Channels lists every channel the engine knows, in a stable order.
var Channels = []Channel{ChannelCall, ChannelAIVoice, ChannelPrerecorded, ChannelSMS,
	ChannelEmail, ChannelVoicemail, ChannelLetter, ChannelCreditReport}

// Flag is something known about the person that routes or stops collection.
type Flag string

// Flags.
const (
	FlagBankruptcy Flag = "bankruptcy"
	FlagDeceased   Flag = "deceased"
	FlagActiveDuty Flag = "active_duty"
	FlagHardship   Flag = "hardship"
	FlagAttorney   Flag = "attorney"
)

// Purpose says why a message is sent; some rules make exceptions by purpose.
type Purpose string

// Purposes.
const (
	PurposeCollection         Purpose = "collection"
	PurposeOptOutConfirmation Purpose = "opt_out_confirmation"
	PurposeCeaseNotice        Purpose = "cease_notice"
	PurposeValidationNotice   Purpose = "validation_notice"
)

// Disclosure is a statement the message carries.
type Disclosure string

// Disclosures.
const (
	DisclosureMiniMiranda    Disclosure = "mini_miranda"    // "attempting to collect a debt…" (1006.18(e)(1))
	DisclosureDebtCollector  Disclosure = "debt_collector"  // "from a debt collector" (1006.18(e)(2))
	DisclosureOptOut         Disclosure = "opt_out"         // a clear, simple opt-out (1006.6(e))
	DisclosureCallerIdentity Disclosure = "caller_identity" // business named at the start (64.1200(b)(1))
	DisclosureCallbackNumber Disclosure = "callback_number" // a number to call back (64.1200(b)(2))
)

// Outcome is how an earlier attempt ended.
type Outcome string

// Outcomes.
const (
	OutcomeConnected    Outcome = "connected"
	OutcomeConversation Outcome = "conversation"
	OutcomeVoicemail    Outcome = "voicemail"
	OutcomeNoAnswer     Outcome = "no_answer"
	OutcomeBusy         Outcome = "busy"
	OutcomeNotInService Outcome = "not_in_service"
	OutcomeDelivered    Outcome = "delivered"
	OutcomeBounced      Outcome = "bounced"
)

// EventKind names a kind of history event.
type EventKind string

// History event kinds (see scenario.md).
const (
	EventAttempt              EventKind = "attempt"
	EventConversation         EventKind = "conversation"
	EventConsentGiven         EventKind = "consent_given"
	EventConsentRevoked       EventKind = "consent_revoked"
	EventMediumRefused        EventKind = "medium_refused"
	EventInconvenientTime     EventKind = "inconvenient_time"
	EventValidationNoticeSent EventKind = "validation_notice_sent"
	EventDispute              EventKind = "dispute"
	EventVerificationSent     EventKind = "verification_sent"
	EventCeaseRequest         EventKind = "cease_request"
	EventLetterSent           EventKind = "letter_sent"
	EventEmailUsedByConsumer  EventKind = "email_used_by_consumer"
)

// ConsentSource says how consent was given. Only direct consent lifts the
// Regulation F call caps (1006.14(b)(3)(i)); any source counts for the TCPA.
type ConsentSource string

// Consent sources.
const (
	ConsentDirect      ConsentSource = "direct"
	ConsentApplication ConsentSource = "application"
	ConsentWritten     ConsentSource = "written"
)

// Case is everything the engine needs to judge one proposed attempt: who is
// collecting, the person, their debts, what happened before, and the attempt.
// Its At is the engine's "now".
type Case struct {
	Collector ledger.CollectorType
	Consumer  Consumer
	Debts     []Debt
	History   []Event
	Attempt   Attempt
}

// Consumer is the person contacted.
type Consumer struct {
	ID     string
	State  string // USPS code of the postal address; "" when unknown
	ZIP    string // 5-digit ZIP or ZIP+4; "" when unknown
	Phones []Phone
	Emails []EmailAddress
	Flags  []Flag
}

// Phone is one of the person's numbers, in E.164 form.
type Phone struct {
	Number          string
	Line            ledger.LineType
	ProvidedForDebt bool // the person gave this number for the debt: TCPA consent (FCC 07-232)
}

// EmailAddress is one of the person's email addresses.
type EmailAddress struct {
	Address          string
	EmployerProvided bool
}

// Debt is one debt (invoice) being collected.
type Debt struct {
	ID         string
	TimeBarred bool
}

// Event is one thing that happened before the attempt. Which fields matter
// depends on Kind; see scenario.md.
type Event struct {
	Kind        EventKind
	At          time.Time
	Channel     Channel
	Debt        string
	Debts       []string // conversation: the debts talked about
	To          string   // a number or address
	From        string   // consent_revoked: where the revocation came from
	Outcome     Outcome
	WithConsent bool // attempt placed with consent given directly within the past 7 days
	InitiatedBy string
	Source      ConsentSource
	Via         string // consent_revoked: sms_reply, email_reply, call, letter, web
	Text        string // consent_revoked: what the person said
	Written     bool
	// Start and End bound an inconvenient time, in minutes after local midnight.
	Start, End int
}

// Attempt is the proposed contact.
type Attempt struct {
	At             time.Time
	Channel        Channel
	Debt           string
	To             string // phone (E.164) or email; empty for letter and credit_report
	Purpose        Purpose
	Disclosures    []Disclosure
	LimitedContent bool // voicemail only: a limited-content message (1006.2(j))
	Marketing      bool
	ThreatensSuit  bool
}

// Result is the engine's answer for one Case.
type Result struct {
	Decision Decision
	// Rules lists every rule id that fired, blocking ones first.
	Rules []string
	// Reason says, for a collector, which rule fired on which fact.
	Reason string
	// EarliestAllowedAt is the first instant at which the same attempt would
	// be lawful; nil when allowed, routed, or when waiting never helps.
	EarliestAllowedAt *time.Time
	PolicyVersion     string
}
