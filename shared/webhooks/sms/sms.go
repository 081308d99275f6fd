// Package sms normalises what AWS End User Messaging SMS delivers through
// SNS into engagement events: delivery status events from a configuration
// set's SNS event destination, and inbound messages of two-way SMS. The
// mapping and the context keys our sender must set are in
// shared/webhooks/README.md.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// Source is the producer name on every event.
const Source = "sms"

// Numbers says which tenant owns one of our origination numbers. An
// inbound text names only the number it was sent to.
type Numbers interface {
	TenantForNumber(ctx context.Context, e164 string) (tenant ledger.TenantID, ok bool, err error)
}

// Resolver finds the customers who have a contact point, by its normalised
// address ("tel:+16175550123"). One number may belong to several customers
// (a shared office line).
type Resolver interface {
	CustomersByAddress(ctx context.Context, tenant ledger.TenantID, address string) ([]string, error)
}

// Consent records a revocation on an address; consent.Store
// (*dynamo.Consent) is one. The normaliser uses it only for a text from a
// number no customer has: no event can carry that text (every event names a
// customer), so the engagement consumer, which records the revocations
// events carry, never sees it.
type Consent interface {
	Record(ctx context.Context, tenant ledger.TenantID, customer string, ev consent.Event) (applied bool, err error)
}

// Normaliser turns SMS notifications into events.
type Normaliser struct {
	numbers   Numbers
	customers Resolver
	consent   Consent
}

// New returns a normaliser; every dependency is required: without Consent
// a STOP from an unknown number would wait for a person.
func New(numbers Numbers, customers Resolver, c Consent) (*Normaliser, error) {
	if numbers == nil || customers == nil || c == nil {
		return nil, errors.New("sms: New needs Numbers, a Resolver and a Consent store")
	}
	return &Normaliser{numbers: numbers, customers: customers, consent: c}, nil
}

// Notification is what the normaliser needs of the SNS envelope: inbound
// messages carry no time or id of their own beyond inboundMessageId.
type Notification struct {
	MessageID string
	Timestamp time.Time
	Message   []byte
}

// DeliveryEvent is an SMS event as an event destination publishes it, the
// fields we read ("Example event data" in the End User Messaging SMS guide).
type DeliveryEvent struct {
	EventType              string            `json:"eventType"`
	EventTimestamp         int64             `json:"eventTimestamp"` // Unix milliseconds
	IsFinal                *bool             `json:"isFinal"`
	DestinationPhoneNumber string            `json:"destinationPhoneNumber"`
	MessageID              string            `json:"messageId"`
	MessageStatus          string            `json:"messageStatus"`
	Context                map[string]string `json:"context"`
}

// Inbound is a two-way SMS payload ("Example of a two-way SMS message
// payload for Amazon SNS topics").
type Inbound struct {
	OriginationNumber          string `json:"originationNumber"` // the customer
	DestinationNumber          string `json:"destinationNumber"` // ours
	MessageKeyword             string `json:"messageKeyword"`
	MessageBody                string `json:"messageBody"`
	InboundMessageID           string `json:"inboundMessageId"`
	PreviousPublishedMessageID string `json:"previousPublishedMessageId"`
}

// failures are the documented TEXT_* event types that end a message
// undelivered.
var failures = []string{"TEXT_BLOCKED", "TEXT_TTL_EXPIRED", "TEXT_CARRIER_UNREACHABLE", "TEXT_INVALID",
	"TEXT_INVALID_MESSAGE", "TEXT_CARRIER_BLOCKED", "TEXT_UNREACHABLE", "TEXT_SPAM", "TEXT_UNKNOWN", "TEXT_PROTECT_BLOCKED"}

// Normalise reads one notification: a delivery event (it has eventType) or
// an inbound message (it has originationNumber). A payload that is neither
// is an error wrapping webhooks.ErrMalformed; a failed lookup is returned
// as is, for the caller to retry.
func (n *Normaliser) Normalise(ctx context.Context, note Notification) (webhooks.Outcome, error) {
	t := bytes.TrimSpace(note.Message)
	if len(t) == 0 || t[0] != '{' {
		return webhooks.Outcome{}, webhooks.Malformed("SMS notification is not a JSON object")
	}
	// One decode for both shapes: their field names do not overlap.
	var w struct {
		DeliveryEvent
		Inbound
	}
	if err := json.Unmarshal(t, &w); err != nil {
		return webhooks.Outcome{}, webhooks.Malformed("SMS notification is not valid JSON of a documented shape")
	}
	switch {
	case w.EventType != "":
		return delivery(w.DeliveryEvent, note.Timestamp)
	case w.OriginationNumber != "":
		return n.inbound(ctx, w.Inbound, note)
	}
	return webhooks.Outcome{}, webhooks.Malformed("SMS notification is neither a delivery event nor an inbound message")
}

func delivery(d DeliveryEvent, snsTime time.Time) (webhooks.Outcome, error) {
	if d.MessageID == "" {
		return webhooks.Outcome{}, webhooks.Malformed("SMS event has no messageId")
	}
	var o webhooks.Outcome
	final := d.IsFinal == nil || *d.IsFinal // absent: take the status as it comes
	var (
		p      events.Payload
		status string
	)
	switch {
	case !strings.HasPrefix(d.EventType, "TEXT_"):
		o.Ignore("SMS event %s of type %.40s: not a text message", d.MessageID, d.EventType)
		return o, nil
	case d.EventType == "TEXT_QUEUED" || d.EventType == "TEXT_PENDING":
		o.Ignore("SMS event %s: %s is an intermediate status", d.MessageID, d.EventType)
		return o, nil
	case d.EventType == "TEXT_DELIVERED" || d.EventType == "TEXT_SUCCESSFUL":
		if !final {
			o.Ignore("SMS event %s: %s is not final (a handset delivery receipt may follow)", d.MessageID, d.EventType)
			return o, nil
		}
		// Both spell "delivered" (the guide: depending on the country they
		// are used interchangeably) and share one id, so whichever comes
		// second is dropped by the consumer as a repeat.
		status = "DELIVERED"
	case slices.Contains(failures, d.EventType):
		if !final {
			o.Ignore("SMS event %s: %s is not final; the carrier may still deliver", d.MessageID, d.EventType)
			return o, nil
		}
		status = strings.TrimPrefix(d.EventType, "TEXT_")
	default:
		o.Refuse(deadletter.KindUnknownType, d.MessageID, "", "SMS eventType %.40q is not one this normaliser knows", d.EventType)
		return o, nil
	}
	corr, err := webhooks.ReadCorrelation(func(k string) (string, bool) { v, ok := d.Context[k]; return v, ok })
	if err != nil {
		o.Refuse(deadletter.KindUnknownTenant, d.MessageID, "", "SMS event %s: context %v", d.MessageID, err)
		return o, nil
	}
	if status == "DELIVERED" {
		p = events.SMSDelivered{AttemptID: corr.Attempt}
	} else {
		reason := d.MessageStatus
		if reason == "" {
			reason = status
		}
		p = events.SMSFailed{Reason: reason, AttemptID: corr.Attempt}
	}
	cp, err := consent.NormalisePhone(d.DestinationPhoneNumber)
	if err != nil {
		o.Refuse(deadletter.KindInvalid, d.MessageID, corr.Tenant, "SMS event %s: destinationPhoneNumber is not a phone number", d.MessageID)
		return o, nil
	}
	at := snsTime
	if d.EventTimestamp > 0 {
		at = time.UnixMilli(d.EventTimestamp)
	}
	o.Add(events.Event{ID: webhooks.EventID(Source, d.MessageID, status), Tenant: ledger.TenantID(corr.Tenant),
		Customer: corr.Customer, Debt: corr.Debt, Channel: events.ChannelSMS, ContactPoint: webhooks.ContactPoint(cp),
		OccurredAt: at.UTC(), Source: Source, Payload: p}, d.MessageID)
	return o, nil
}

func (n *Normaliser) inbound(ctx context.Context, in Inbound, note Notification) (webhooks.Outcome, error) {
	id := in.InboundMessageID
	if id == "" {
		id = note.MessageID
	}
	if id == "" || in.DestinationNumber == "" {
		return webhooks.Outcome{}, webhooks.Malformed("inbound SMS has no inboundMessageId or destinationNumber")
	}
	// The payload has no time of its own.
	at := note.Timestamp.UTC()
	if at.IsZero() {
		return webhooks.Outcome{}, webhooks.Malformed("inbound SMS %s: the SNS notification has no Timestamp", id)
	}
	var o webhooks.Outcome
	ours, err := consent.NormalisePhone(in.DestinationNumber)
	if err != nil {
		o.Refuse(deadletter.KindUnknownTenant, id, "", "inbound SMS %s: destinationNumber is not a phone number", id)
		return o, nil
	}
	tenant, ok, err := n.numbers.TenantForNumber(ctx, webhooks.ContactPoint(ours))
	if err != nil {
		return webhooks.Outcome{}, fmt.Errorf("inbound SMS %s: find the tenant of our number: %w", id, err)
	}
	if !ok {
		// Still a person's words (perhaps a STOP): a person must see it.
		o.Refuse(deadletter.KindUnknownTenant, id, "", "inbound SMS %s: sent to a number no tenant owns (RECOUP_SMS_NUMBERS)", id)
		return o, nil
	}
	from, err := consent.NormalisePhone(in.OriginationNumber)
	if err != nil {
		o.Refuse(deadletter.KindInvalid, id, string(tenant), "inbound SMS %s: originationNumber is not a phone number", id)
		return o, nil
	}
	customers, err := n.customers.CustomersByAddress(ctx, tenant, string(from))
	if err != nil {
		return webhooks.Outcome{}, fmt.Errorf("inbound SMS %s: find the sender's customers: %w", id, err)
	}
	if len(customers) == 0 {
		return n.unknownSender(ctx, tenant, from, id, in.MessageBody, at)
	}
	seen := map[string]bool{}
	for _, c := range customers {
		if seen[c] {
			continue
		}
		seen[c] = true
		// The customer is part of the id: one text to a shared number is
		// one event per customer, each applied once.
		o.Add(events.Event{ID: webhooks.EventID(Source, "inbound", id, c), Tenant: tenant, Customer: c,
			Channel: events.ChannelSMS, ContactPoint: webhooks.ContactPoint(from), OccurredAt: at,
			Source: Source, Payload: events.SMSInbound{Text: in.MessageBody}}, id)
	}
	return o, nil
}

// unknownSender handles a text from a number no customer of the tenant has.
// Consent belongs to the number, not to a customer: when the words read as
// a revocation (compliance.Revocation, the engagement consumer's reading)
// it is recorded on the number at once, for no customer, as the consumer
// does for an event of an unknown customer. Either way the text is
// dead-lettered, kind unknown_customer, for a person to match the number
// to a customer and to read words no keyword list catches.
func (n *Normaliser) unknownSender(ctx context.Context, tenant ledger.TenantID, from consent.Address, id, text string, at time.Time) (webhooks.Outcome, error) {
	var o webhooks.Outcome
	reason := "no customer of the tenant has the sender's number"
	if revoked, _ := compliance.Revocation(text); revoked {
		rv := consent.Revoke{ID: webhooks.EventID(Source, "inbound", id), Tenant: tenant, Address: from,
			Channels: []consent.Channel{consent.SMS}, Via: consent.ViaSMSReply, At: at, Text: text}
		_, err := n.consent.Record(ctx, tenant, "", rv)
		switch {
		case errors.Is(err, consent.ErrInvalid):
			reason += "; the text reads as a revocation, which the consent ledger refused: record it by hand"
		case err != nil:
			// Not acknowledged: SNS delivers again until it is recorded.
			return webhooks.Outcome{}, fmt.Errorf("inbound SMS %s: record the revocation of an unknown sender: %w", id, err)
		default:
			reason += "; the text reads as a revocation and was recorded on the sender's number"
		}
	}
	o.Refuse(deadletter.KindUnknownCustomer, id, string(tenant), "inbound SMS %s: %s", id, reason)
	return o, nil
}

// MapNumbers is Numbers from a fixed map of E.164 number to tenant.
type MapNumbers map[string]ledger.TenantID

// TenantForNumber implements Numbers.
func (m MapNumbers) TenantForNumber(_ context.Context, e164 string) (ledger.TenantID, bool, error) {
	t, ok := m[e164]
	return t, ok, nil
}

// ParseNumbers reads {"<number>": "<tenant>", ...} (RECOUP_SMS_NUMBERS),
// normalising each number to E.164 so any spelling matches.
func ParseNumbers(js []byte) (MapNumbers, error) {
	var raw map[string]string
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("sms numbers: want a JSON object of number to tenant: %w", err)
	}
	m := MapNumbers{}
	for num, tenant := range raw {
		a, err := consent.NormalisePhone(num)
		if err != nil {
			return nil, fmt.Errorf("sms numbers: %w", err)
		}
		if err := ledger.TenantID(tenant).Validate(); err != nil {
			return nil, fmt.Errorf("sms numbers: tenant of %s: %w", num, err)
		}
		e164 := webhooks.ContactPoint(a)
		if prev, dup := m[e164]; dup && prev != ledger.TenantID(tenant) {
			return nil, fmt.Errorf("sms numbers: %s is given to both %s and %s", e164, prev, tenant)
		}
		m[e164] = ledger.TenantID(tenant)
	}
	return m, nil
}
