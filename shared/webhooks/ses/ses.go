// Package ses normalises Amazon SES event publishing records (delivered by
// SNS) into engagement events. What each eventType becomes, and the tags our
// sender must set, are in shared/webhooks/README.md.
package ses

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/webhooks"
)

// Source is the producer name on every event.
const Source = "ses"

// Record is one event publishing record, the fields we read. The names are
// SES's (see "Contents of event data that Amazon SES publishes to Amazon
// SNS"); aws-lambda-go's SimpleEmail* types are for receiving mail and have
// neither tags nor the event objects.
type Record struct {
	EventType string `json:"eventType"`
	// NotificationType replaces eventType in identity feedback
	// notifications, which carry no tags and so cannot be attributed.
	NotificationType string     `json:"notificationType"`
	Mail             Mail       `json:"mail"`
	Bounce           *Bounce    `json:"bounce"`
	Complaint        *Complaint `json:"complaint"`
	Delivery         *Delivery  `json:"delivery"`
	Open             *Open      `json:"open"`
	Click            *Click     `json:"click"`
}

// Mail is the record's mail object.
type Mail struct {
	Timestamp   string              `json:"timestamp"`
	MessageID   string              `json:"messageId"`
	Destination []string            `json:"destination"`
	Tags        map[string][]string `json:"tags"`
}

// Bounce is the bounce object.
type Bounce struct {
	BounceType        string `json:"bounceType"`
	BounceSubType     string `json:"bounceSubType"`
	Timestamp         string `json:"timestamp"`
	BouncedRecipients []struct {
		EmailAddress   string `json:"emailAddress"`
		DiagnosticCode string `json:"diagnosticCode"`
	} `json:"bouncedRecipients"`
}

// Complaint is the complaint object.
type Complaint struct {
	Timestamp             string `json:"timestamp"`
	ComplaintFeedbackType string `json:"complaintFeedbackType"`
	ComplainedRecipients  []struct {
		EmailAddress string `json:"emailAddress"`
	} `json:"complainedRecipients"`
}

// Delivery is the delivery object.
type Delivery struct {
	Timestamp  string   `json:"timestamp"`
	Recipients []string `json:"recipients"`
}

// Open is the open object.
type Open struct {
	Timestamp string `json:"timestamp"`
}

// Click is the click object.
type Click struct {
	Timestamp string `json:"timestamp"`
	Link      string `json:"link"`
}

// SES event types (the "Rendering Failure" spelling is the documented one;
// the API's matching-event name is RENDERING_FAILURE).
const (
	typeSend             = "Send"
	typeDelivery         = "Delivery"
	typeBounce           = "Bounce"
	typeComplaint        = "Complaint"
	typeOpen             = "Open"
	typeClick            = "Click"
	typeReject           = "Reject"
	typeRenderingFailure = "Rendering Failure"
	typeDeliveryDelay    = "DeliveryDelay"
	typeSubscription     = "Subscription"
)

// Contract limits we trim provider text to rather than refuse the event:
// the diagnostic is evidence, not the point.
const (
	maxDiagnostic = 1024
	maxFeedback   = 64
)

// Parse reads a record. The error wraps webhooks.ErrMalformed.
func Parse(message []byte) (Record, error) {
	t := bytes.TrimSpace(message)
	if len(t) == 0 || t[0] != '{' {
		return Record{}, webhooks.Malformed("SES record is not a JSON object")
	}
	var r Record
	if err := json.Unmarshal(t, &r); err != nil {
		return Record{}, webhooks.Malformed("SES record is not valid JSON of the documented shape")
	}
	if r.EventType == "" && r.NotificationType == "" {
		return Record{}, webhooks.Malformed("SES record has no eventType")
	}
	if r.Mail.MessageID == "" {
		return Record{}, webhooks.Malformed("SES record has no mail.messageId")
	}
	missing := map[string]bool{typeBounce: r.Bounce == nil, typeComplaint: r.Complaint == nil,
		typeDelivery: r.Delivery == nil, typeOpen: r.Open == nil, typeClick: r.Click == nil}
	if missing[r.EventType] {
		return Record{}, webhooks.Malformed("SES %s record has no %s object", r.EventType, strings.ToLower(r.EventType))
	}
	return r, nil
}

// Normalise turns one record (the SNS Message) into events. A record that
// cannot be read is an error wrapping webhooks.ErrMalformed; everything
// else is in the Outcome.
func Normalise(message []byte) (webhooks.Outcome, error) {
	r, err := Parse(message)
	if err != nil {
		return webhooks.Outcome{}, err
	}
	var o webhooks.Outcome
	mid := r.Mail.MessageID
	if r.EventType == "" {
		o.Refuse(deadletter.KindUnsupported, mid, "",
			"SES %s feedback notification (not event publishing): it carries no tags, so its tenant is unknown; publish events through a configuration set", r.NotificationType)
		return o, nil
	}
	switch r.EventType {
	case typeSend:
		o.Ignore("SES Send %s: the dispatch gate recorded the attempt already", mid)
		return o, nil
	case typeDeliveryDelay:
		o.Ignore("SES DeliveryDelay %s: SES keeps retrying; a Transient bounce follows if it gives up", mid)
		return o, nil
	}
	corr, err := webhooks.ReadCorrelation(func(k string) (string, bool) {
		v := r.Mail.Tags[k]
		if len(v) == 0 {
			return "", false
		}
		return v[0], true
	})
	if err != nil {
		o.Refuse(deadletter.KindUnknownTenant, mid, "", "SES %s %s: %v", r.EventType, mid, err)
		return o, nil
	}
	base := events.Event{Tenant: ledger.TenantID(corr.Tenant), Customer: corr.Customer, Debt: corr.Debt,
		Channel: events.ChannelEmail, Source: Source}
	switch r.EventType {
	case typeDelivery:
		for _, rcpt := range r.Delivery.Recipients {
			addRecipient(&o, r, base, rcpt, "delivery", r.Delivery.Timestamp, events.EmailDelivered{AttemptID: corr.Attempt})
		}
	case typeBounce:
		bt := bounceType(r.Bounce.BounceType)
		for _, b := range r.Bounce.BouncedRecipients {
			addRecipient(&o, r, base, b.EmailAddress, "bounce", r.Bounce.Timestamp, events.EmailBounced{BounceType: bt,
				Diagnostic: trim(b.DiagnosticCode, maxDiagnostic), AttemptID: corr.Attempt})
		}
	case typeComplaint:
		fb := r.Complaint.ComplaintFeedbackType
		if utf8.RuneCountInString(fb) > maxFeedback {
			fb = "" // optional, and a feedback type this long is not one of the registered ones
		}
		for _, c := range r.Complaint.ComplainedRecipients {
			addRecipient(&o, r, base, c.EmailAddress, "complaint", r.Complaint.Timestamp,
				events.EmailComplained{FeedbackType: fb, AttemptID: corr.Attempt})
		}
	case typeOpen, typeClick:
		// Opens and clicks name no recipient: only a one-recipient message
		// (as our sender sends) can be attributed.
		if len(r.Mail.Destination) != 1 {
			o.Refuse(deadletter.KindRejected, mid, corr.Tenant,
				"SES %s %s: the message had %d recipients, so the one who acted is unknown (send one recipient per message)",
				r.EventType, mid, len(r.Mail.Destination))
			return o, nil
		}
		if r.EventType == typeOpen {
			addRecipient(&o, r, base, r.Mail.Destination[0], "open", r.Open.Timestamp, events.EmailOpened{AttemptID: corr.Attempt},
				r.Open.Timestamp)
		} else {
			addRecipient(&o, r, base, r.Mail.Destination[0], "click", r.Click.Timestamp,
				events.EmailClicked{Link: r.Click.Link, AttemptID: corr.Attempt}, r.Click.Timestamp, r.Click.Link)
		}
	case typeReject:
		o.Refuse(deadletter.KindRejected, mid, corr.Tenant,
			"SES rejected message %s (virus found) for attempt %q: nothing reached the customer; the sender must be fixed", mid, corr.Attempt)
	case typeRenderingFailure, "RenderingFailure":
		o.Refuse(deadletter.KindRejected, mid, corr.Tenant,
			"SES could not render the template of message %s for attempt %q: nothing reached the customer", mid, corr.Attempt)
	case typeSubscription:
		// Possibly an unsubscribe: it must reach a person, not be dropped,
		// and the contract has no event for SES list management.
		o.Refuse(deadletter.KindRejected, mid, corr.Tenant,
			"SES Subscription event for message %s: a change of list subscription (possibly an unsubscribe) that no engagement event carries; apply it to the consent ledger by hand", mid)
	default:
		o.Refuse(deadletter.KindUnknownType, mid, corr.Tenant, "SES eventType %.40q is not one this normaliser knows", r.EventType)
	}
	return o, nil
}

// addRecipient adds one event for recipient rcpt. The id is the SES message
// id, the event kind, a digest of the recipient (an address must not sit in
// clear in an id) and any extra ids that tell repeated events apart.
func addRecipient(o *webhooks.Outcome, r Record, base events.Event, rcpt, kind, at string, p events.Payload, extra ...string) {
	mid := r.Mail.MessageID
	addr, err := consent.NormaliseEmail(bareAddress(rcpt))
	if err != nil {
		o.Refuse(deadletter.KindInvalid, mid, string(base.Tenant), "SES %s %s: a recipient is not an e-mail address", r.EventType, mid)
		return
	}
	cp := webhooks.ContactPoint(addr)
	when, ok := parseTime(at, r.Mail.Timestamp)
	if !ok {
		o.Refuse(deadletter.KindInvalid, mid, string(base.Tenant), "SES %s %s: no readable timestamp", r.EventType, mid)
		return
	}
	e := base
	e.ID = webhooks.EventID(Source, append([]string{mid, kind, webhooks.Digest(cp)}, extra...)...)
	e.ContactPoint = cp
	e.OccurredAt = when
	e.Payload = p
	o.Add(e, mid)
}

// bareAddress strips what a DSN may wrap an address in: an "rfc822;"
// address type and angle brackets.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && strings.EqualFold(strings.TrimSpace(s[:i]), "rfc822") {
		s = strings.TrimSpace(s[i+1:])
	}
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		s = s[i+1 : j]
	}
	return s
}

func bounceType(s string) events.BounceType {
	switch s {
	case "Permanent":
		return events.BouncePermanent
	case "Transient":
		return events.BounceTransient
	}
	// "Undetermined" and anything SES adds later: the consumer must not
	// read an unknown kind as a dead address.
	return events.BounceUndetermined
}

// parseTime reads the event's own timestamp, else the mail's.
func parseTime(ts ...string) (time.Time, bool) {
	for _, s := range ts {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func trim(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
