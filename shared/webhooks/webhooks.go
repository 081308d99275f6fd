// Package webhooks holds what every channel normaliser shares: the outcome of
// normalising one provider notification (events to publish, notifications
// ignored by design, refusals for the dead-letter queue), deterministic event
// ids, and the decoding of the correlation values our senders attach to what
// they send (SES message tags, SMS context, Connect contact tags).
//
// The normalisers live in sub-packages, one per provider (ses, sms,
// connect); SNS signature verification in snsverify; the API Gateway and
// EventBridge entry point in handler. README.md is the contract our senders
// must honour. The package imports no AWS SDK.
package webhooks

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ErrMalformed is wrapped by a normaliser's error when the provider payload
// cannot be read at all: the handler answers 400 and dead-letters it.
// Any other error is treated as transient (a lookup failed): the handler
// answers 5xx so the provider retries.
var ErrMalformed = errors.New("malformed provider payload")

// Malformed returns an error wrapping ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Outcome is what one provider notification became.
type Outcome struct {
	// Events are ready to publish; each has passed events.Validate.
	Events []events.Event
	// Ignored says, for each part of the notification dropped by design
	// (an SES Send, an intermediate SMS status, an inbound call), why. The
	// reasons carry no personal data: they are logged.
	Ignored []string
	// Refused are parts a person must look at: they go to the dead-letter
	// queue with the whole notification as body.
	Refused []Refusal
}

// Refusal is one part of a notification sent to the dead-letter queue.
type Refusal struct {
	// Kind is one of the deadletter.Kind constants.
	Kind string
	// Reason says what is wrong, without personal data.
	Reason string
	// RecordID is the provider's id of the record, when known.
	RecordID string
	// Tenant is the tenant when known.
	Tenant string
}

// Add appends e when it passes events.Validate and a refusal of kind
// invalid otherwise: a normaliser never hands the publisher an event the
// consumer would refuse.
func (o *Outcome) Add(e events.Event, recordID string) {
	if err := e.Validate(); err != nil {
		o.Refused = append(o.Refused, Refusal{Kind: deadletter.KindInvalid, RecordID: recordID, Tenant: string(e.Tenant),
			Reason: fmt.Sprintf("normalised %s event is invalid: %s", e.Type(), redact(err))})
		return
	}
	o.Events = append(o.Events, e)
}

// Ignore records a part dropped by design.
func (o *Outcome) Ignore(format string, args ...any) {
	o.Ignored = append(o.Ignored, fmt.Sprintf(format, args...))
}

// Refuse records a part for the dead-letter queue.
func (o *Outcome) Refuse(kind, recordID, tenant, format string, args ...any) {
	o.Refused = append(o.Refused, Refusal{Kind: kind, RecordID: recordID, Tenant: tenant, Reason: fmt.Sprintf(format, args...)})
}

// redact keeps a validation error's field and drops its quoted value, which
// may be an address or a number: refusal reasons are logged.
func redact(err error) string {
	var fe *events.FieldError
	if errors.As(err, &fe) && fe.Field != "" {
		return fe.Field + " refused by the contract"
	}
	return "refused by the contract"
}

// EventID joins a producer prefix and the provider's own ids into an event
// id ("ses:<message id>:delivery:<recipient>"), so a redelivered
// notification yields the same id and the consumer applies it once. When
// the joined id would break the contract (ledger.ValidateID: longer than
// 128 bytes, or holding '#' or a control character; and events.Validate's
// own rules: valid UTF-8, no edge space), all of which provider ids and
// e-mail addresses may contain, it becomes "<prefix>:sha256:<hex>" of the
// joined form: still deterministic, and no personal data in clear.
func EventID(prefix string, parts ...string) string {
	id := prefix + ":" + strings.Join(parts, ":")
	if ledger.ValidateID("event id", id) == nil && utf8.ValidString(id) && strings.TrimSpace(id) == id {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + ":sha256:" + hex.EncodeToString(sum[:])
}

// ContactPoint is a normalised address (consent.NormalisePhone,
// consent.NormaliseEmail) in the form events carry: the E.164 number or
// the e-mail address without its scheme.
func ContactPoint(a consent.Address) string {
	return strings.TrimPrefix(strings.TrimPrefix(string(a), "tel:"), "mailto:")
}

// Correlation keys our senders attach to what they send (SES message tags,
// SMS context, Connect contact tags). See README.md.
const (
	KeyTenant   = "recoup_tenant"
	KeyCustomer = "recoup_customer"
	KeyDebt     = "recoup_debt"
	KeyAttempt  = "recoup_attempt"
	// KeyTo is the E.164 number a call was placed to (Connect only:
	// contact events do not carry the customer's endpoint).
	KeyTo = "recoup_to"
	// KeyChannel is the consent channel of a call: voice (the default),
	// voice_ai or prerecorded.
	KeyChannel = "recoup_channel"
)

// encodedPrefix marks a base32-encoded value. SES accepts only
// [A-Za-z0-9_.@-] in tag values, so an id with any other byte (or that
// itself starts with the prefix) is sent as "b32." and its unpadded
// RFC 4648 base32 encoding.
const encodedPrefix = "b32."

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeValue is the sender's side of DecodeValue: v as is when SES would
// accept it as a tag value, its encoded form otherwise.
func EncodeValue(v string) string {
	plain := v != "" && len(v) < 256 && !strings.HasPrefix(v, encodedPrefix)
	for i := 0; plain && i < len(v); i++ {
		c := v[i]
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '@' || c == '-'
	}
	if plain {
		return v
	}
	return encodedPrefix + b32.EncodeToString([]byte(v))
}

// DecodeValue reads a correlation value written by EncodeValue.
func DecodeValue(v string) (string, error) {
	rest, ok := strings.CutPrefix(v, encodedPrefix)
	if !ok {
		if !utf8.ValidString(v) {
			return "", errors.New("value is not valid UTF-8")
		}
		return v, nil
	}
	b, err := b32.DecodeString(strings.ToUpper(rest))
	if err != nil || !utf8.Valid(b) {
		return "", fmt.Errorf("value starting %q is not valid base32 UTF-8", encodedPrefix)
	}
	return string(b), nil
}

// Correlation is what a sender attached to a message.
type Correlation struct {
	Tenant, Customer, Debt, Attempt string
}

// ReadCorrelation reads the correlation keys through get (which returns a
// key's value and whether it is present). Tenant and customer are
// required; the error names the missing or unreadable key only.
func ReadCorrelation(get func(string) (string, bool)) (Correlation, error) {
	var c Correlation
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{{KeyTenant, &c.Tenant, true}, {KeyCustomer, &c.Customer, true}, {KeyDebt, &c.Debt, false}, {KeyAttempt, &c.Attempt, false}} {
		raw, ok := get(f.key)
		if !ok || raw == "" {
			if f.required {
				return Correlation{}, fmt.Errorf("no %s key: not sent by a Recoup sender, or the sender broke the contract", f.key)
			}
			continue
		}
		v, err := DecodeValue(raw)
		if err != nil {
			return Correlation{}, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = v
	}
	return c, nil
}

// Digest is a short, stable stand-in for a value that must not appear in
// clear in an event id (an e-mail address, a phone number): the first 16
// hex digits of its SHA-256.
func Digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}
