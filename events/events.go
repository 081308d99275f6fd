// Package events is Recoup's engagement event contract: the envelope every
// channel webhook puts on the engagement stream, one typed payload per event
// type, and the strict decoder the engagement consumer reads them with.
//
// The published contract is schema/engagement-v1.json (JSON Schema 2020-12).
// Decode enforces all of it, and on top the rules a JSON Schema cannot state:
// a phone number libphonenumber knows, no more decimals than the currency has,
// real calendar dates, a dispute's invoice agreeing with the event's debt.
// Anything Decode accepts therefore validates against the schema; the reverse
// does not hold.
//
// The package imports no AWS SDK; DecodeKinesisRecord uses only
// aws-lambda-go's event types.
package events

import (
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// SchemaVersion is the contract version this package reads and writes. A
// breaking change gets a new version, decoded side by side (see README.md).
const SchemaVersion = "1"

// MaxSize is the largest encoded event Decode reads. Real events are well
// under 4 KiB; a bigger one is a bug or an attack, and refusing it before
// parsing keeps a poison record cheap and lets it, with its reason, fit an
// SQS dead-letter message.
const MaxSize = 256 << 10

// Type names what happened. The payload's Go type follows from it.
type Type string

// Event types. Names are "<subject>.<past tense>", so a type reads as a fact.
const (
	TypeEmailDelivered     Type = "email.delivered"
	TypeEmailBounced       Type = "email.bounced"
	TypeEmailComplained    Type = "email.complained"
	TypeEmailOpened        Type = "email.opened"
	TypeEmailClicked       Type = "email.clicked"
	TypeSMSDelivered       Type = "sms.delivered"
	TypeSMSFailed          Type = "sms.failed"
	TypeSMSInbound         Type = "sms.inbound"
	TypeCallOutcome        Type = "call.outcome"
	TypePaymentLinkClicked Type = "payment_link.clicked"
	TypePaymentReceived    Type = "payment.received"
	TypePromiseMade        Type = "promise.made"
	TypeDisputeRaised      Type = "dispute.raised"
	TypeHardshipStated     Type = "hardship.stated"
	TypeCeaseRequested     Type = "cease.requested"
	TypeConsentGiven       Type = "consent.given"
	TypeConsentRevoked     Type = "consent.revoked"
)

var allTypes = []Type{
	TypeEmailDelivered, TypeEmailBounced, TypeEmailComplained, TypeEmailOpened, TypeEmailClicked,
	TypeSMSDelivered, TypeSMSFailed, TypeSMSInbound, TypeCallOutcome, TypePaymentLinkClicked,
	TypePaymentReceived, TypePromiseMade, TypeDisputeRaised, TypeHardshipStated, TypeCeaseRequested,
	TypeConsentGiven, TypeConsentRevoked,
}

// Types returns every event type of this version, in a fixed order.
func Types() []Type { return append([]Type(nil), allTypes...) }

// Channel is the channel an event happened on. The first six are the consent
// ledger's channels (shared/consent) with the same spelling; web (the
// payment portal) and payment (a processor's notice) carry engagement but no
// consent of their own.
type Channel string

// Channels.
const (
	ChannelEmail       Channel = "email"
	ChannelSMS         Channel = "sms"
	ChannelVoice       Channel = "voice"
	ChannelVoiceAI     Channel = "voice_ai"
	ChannelPrerecorded Channel = "prerecorded"
	ChannelLetter      Channel = "letter"
	ChannelWeb         Channel = "web"
	ChannelPayment     Channel = "payment"
)

var allChannels = []Channel{ChannelEmail, ChannelSMS, ChannelVoice, ChannelVoiceAI, ChannelPrerecorded,
	ChannelLetter, ChannelWeb, ChannelPayment}

// Channels returns every channel, in a fixed order.
func Channels() []Channel { return append([]Channel(nil), allChannels...) }

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(allChannels, c) }

// consentable reports whether consent can be given or revoked on c: the
// consent ledger knows no web or payment channel.
func (c Channel) consentable() bool { return c.Valid() && c != ChannelWeb && c != ChannelPayment }

// phone reports whether c reaches a phone number, so its contact point must
// be one.
func (c Channel) phone() bool {
	return c == ChannelSMS || c == ChannelVoice || c == ChannelVoiceAI || c == ChannelPrerecorded
}

// Event is one engagement event: the envelope every type shares and its
// payload. The payload's Go type is the event type (see Type), so the two
// can never disagree.
type Event struct {
	// ID is the event's idempotency key: a producer derives it from the
	// provider's own ids, so a redelivered webhook yields the same ID and the
	// consumer applies it once.
	ID       string
	Tenant   ledger.TenantID
	Customer string
	// Debt is the invoice the event concerns, when known; "" otherwise.
	Debt    string
	Channel Channel
	// ContactPoint is the E.164 number or lower-case e-mail address the
	// event came from or went to, in the form the consent ledger keys on;
	// "" when there is none (a letter, a processor's payment notice).
	ContactPoint string
	// OccurredAt is when it happened at the provider (not when we heard of
	// it), encoded in UTC.
	OccurredAt time.Time
	// Source names the producer: ses, sms, connect, payments, agent, portal...
	Source  string
	Payload Payload
}

// Type returns the event's type, or "" when it has no payload.
func (e Event) Type() Type {
	if e.Payload == nil {
		return ""
	}
	return e.Payload.Type()
}

// PartitionKey is the Kinesis partition key: tenant#customer, so one
// customer's events land on one shard, in order, and tenants never share a
// key. Kinesis caps keys at 256 characters; the rare longer pair is replaced
// by tenant#<sha256 of the pair>, still the same for every event of that
// customer.
func (e Event) PartitionKey() string { return partitionKey(string(e.Tenant), e.Customer) }

// Payload is the type-specific part of an event: one of the payload types of
// this package, as a value (EmailBounced, not *EmailBounced). The interface
// is sealed so that every payload has a schema definition.
type Payload interface {
	// Type is the event type this payload belongs to.
	Type() Type
	validate(e Event) error
}

// AttemptID, where a payload has one, is the contact attempt the dispatch
// gate recorded, echoed back through the provider (message tags, contact
// attributes) so the outcome joins the attempt in the contact history.

// EmailDelivered: the receiving mail server accepted the message.
type EmailDelivered struct {
	AttemptID string `json:"attempt_id,omitempty"`
}

// BounceType says whether a bounce will recur.
type BounceType string

// Bounce types, as SES reports them. A permanent bounce means the address is
// dead; a transient one may clear.
const (
	BouncePermanent    BounceType = "permanent"
	BounceTransient    BounceType = "transient"
	BounceUndetermined BounceType = "undetermined"
)

// EmailBounced: the message could not be delivered.
type EmailBounced struct {
	BounceType BounceType `json:"bounce_type"`
	// Diagnostic is the receiving server's reason, as evidence.
	Diagnostic string `json:"diagnostic,omitempty"`
	AttemptID  string `json:"attempt_id,omitempty"`
}

// EmailComplained: the recipient marked the message as spam. It is treated
// as an unsubscribe from e-mail.
type EmailComplained struct {
	// FeedbackType is the feedback report's type (abuse, fraud, other...)
	// when the mailbox provider sends one.
	FeedbackType string `json:"feedback_type,omitempty"`
	AttemptID    string `json:"attempt_id,omitempty"`
}

// EmailOpened: the message was displayed (a tracking pixel loaded). Weak
// evidence: mail clients prefetch images.
type EmailOpened struct {
	AttemptID string `json:"attempt_id,omitempty"`
}

// EmailClicked: the recipient followed a link in the message.
type EmailClicked struct {
	Link      string `json:"link"`
	AttemptID string `json:"attempt_id,omitempty"`
}

// SMSDelivered: the carrier reported the text delivered to the handset.
type SMSDelivered struct {
	AttemptID string `json:"attempt_id,omitempty"`
}

// SMSFailed: the text was not delivered.
type SMSFailed struct {
	// Reason is the provider's status, e.g. UNREACHABLE, OPTED_OUT.
	Reason    string `json:"reason"`
	AttemptID string `json:"attempt_id,omitempty"`
}

// SMSInbound: a text the person sent us. STOP and any other words arrive
// here as they were typed; reading them as a revocation is the consumer's
// job, so a revocation by "any reasonable means" (47 CFR 64.1200(a)(10))
// is not lost to a keyword list at the edge.
type SMSInbound struct {
	// Text may be empty (a picture message without words).
	Text string `json:"text"`
}

// Outcome is how a call ended. The values are the compliance engine's
// (shared/compliance Outcome), so contact history needs no mapping.
type Outcome string

// Call outcomes.
const (
	OutcomeConnected    Outcome = "connected"
	OutcomeConversation Outcome = "conversation"
	OutcomeVoicemail    Outcome = "voicemail"
	OutcomeNoAnswer     Outcome = "no_answer"
	OutcomeBusy         Outcome = "busy"
	OutcomeNotInService Outcome = "not_in_service"
)

var allOutcomes = []Outcome{OutcomeConnected, OutcomeConversation, OutcomeVoicemail, OutcomeNoAnswer,
	OutcomeBusy, OutcomeNotInService}

// CallOutcome: a call we placed ended.
type CallOutcome struct {
	Outcome         Outcome `json:"outcome"`
	DurationSeconds int     `json:"duration_seconds"`
	// AttemptID is required here: Regulation F's call caps count attempts
	// (12 CFR 1006.14(b)), so every call outcome must join its attempt.
	AttemptID string `json:"attempt_id"`
}

// PaymentLinkClicked: the person opened a payment link (in an e-mail, a
// text, or the portal).
type PaymentLinkClicked struct {
	Link      string   `json:"link,omitempty"`
	Invoices  []string `json:"invoices,omitempty"`
	AttemptID string   `json:"attempt_id,omitempty"`
}

// PaymentReceived: money arrived. On the wire the amount is a decimal string
// beside its ISO 4217 currency, never a JSON number: a float cannot hold
// 0.10 exactly.
type PaymentReceived struct {
	Amount money.Amount
	// Invoices the payment applies to; nil when unapplied.
	Invoices []string
	// Reference is the processor's payment id, for reconciliation.
	Reference string
}

// PromiseMade: the person promised to pay Amount by PromisedDate.
type PromiseMade struct {
	Amount money.Amount
	// PromisedDate is a calendar date: UTC midnight (see ledger.Date).
	PromisedDate time.Time
	// Invoices the promise covers; nil means the customer's open balance.
	Invoices []string
}

// DisputeRaised: the person disputes an invoice. Collection on it pauses
// until it is resolved (15 USC 1692g(b)); a written dispute within the
// validation period also requires verification.
type DisputeRaised struct {
	Invoice string `json:"invoice"`
	Written bool   `json:"written"`
	Reason  string `json:"reason,omitempty"`
}

// HardshipStated: the person said they cannot pay (job loss, illness...).
// It routes the customer to a human; it is not a dispute.
type HardshipStated struct {
	Note string `json:"note,omitempty"`
}

// CeaseRequested: the person asked us to stop contacting them, or refused to
// pay. In writing it is a cease under 12 CFR 1006.6(c); orally it is still a
// revocation of automated contact (47 CFR 64.1200(a)(10)).
type CeaseRequested struct {
	Written bool   `json:"written"`
	Text    string `json:"text,omitempty"`
}

// ConsentSource says how consent was given; the values are the consent
// ledger's. Imported consent never arrives as an engagement event.
type ConsentSource string

// Consent sources.
const (
	ConsentDirect      ConsentSource = "direct"
	ConsentApplication ConsentSource = "application"
	ConsentWritten     ConsentSource = "written"
)

// ConsentGiven: the person consented to contact on Channel at the event's
// contact point (or, without one, as a customer).
type ConsentGiven struct {
	// Channel is a consent channel: any channel but web and payment.
	Channel Channel       `json:"channel"`
	Source  ConsentSource `json:"source"`
}

// Via says how a revocation reached us; the values are the consent ledger's.
type Via string

// Ways a revocation arrives. The TCPA accepts any reasonable means.
const (
	ViaSMSReply   Via = "sms_reply"
	ViaEmailReply Via = "email_reply"
	ViaCall       Via = "call"
	ViaLetter     Via = "letter"
	ViaWeb        Via = "web"
	ViaAgent      Via = "agent"
)

var allVias = []Via{ViaSMSReply, ViaEmailReply, ViaCall, ViaLetter, ViaWeb, ViaAgent}

// ConsentRevoked: the person withdrew consent.
type ConsentRevoked struct {
	// Channels the person named; nil means what the consent ledger reads
	// into an unqualified "stop": every automated channel of the address.
	Channels []Channel `json:"channels,omitempty"`
	Via      Via       `json:"via"`
	// Text is the person's words, kept as evidence.
	Text string `json:"text,omitempty"`
}

// Type implements Payload.
func (EmailDelivered) Type() Type { return TypeEmailDelivered }

// Type implements Payload.
func (EmailBounced) Type() Type { return TypeEmailBounced }

// Type implements Payload.
func (EmailComplained) Type() Type { return TypeEmailComplained }

// Type implements Payload.
func (EmailOpened) Type() Type { return TypeEmailOpened }

// Type implements Payload.
func (EmailClicked) Type() Type { return TypeEmailClicked }

// Type implements Payload.
func (SMSDelivered) Type() Type { return TypeSMSDelivered }

// Type implements Payload.
func (SMSFailed) Type() Type { return TypeSMSFailed }

// Type implements Payload.
func (SMSInbound) Type() Type { return TypeSMSInbound }

// Type implements Payload.
func (CallOutcome) Type() Type { return TypeCallOutcome }

// Type implements Payload.
func (PaymentLinkClicked) Type() Type { return TypePaymentLinkClicked }

// Type implements Payload.
func (PaymentReceived) Type() Type { return TypePaymentReceived }

// Type implements Payload.
func (PromiseMade) Type() Type { return TypePromiseMade }

// Type implements Payload.
func (DisputeRaised) Type() Type { return TypeDisputeRaised }

// Type implements Payload.
func (HardshipStated) Type() Type { return TypeHardshipStated }

// Type implements Payload.
func (CeaseRequested) Type() Type { return TypeCeaseRequested }

// Type implements Payload.
func (ConsentGiven) Type() Type { return TypeConsentGiven }

// Type implements Payload.
func (ConsentRevoked) Type() Type { return TypeConsentRevoked }
