// Package deadletter holds what Recoup keeps of an input it could not apply:
// the bytes as received, where they came from and why they were refused, so
// that nothing is lost silently and a fix can re-drive them.
//
// A [Letter] is the unit; a [Sink] keeps letters (an SQS dead-letter queue in
// AWS and on the local stack). The package imports no AWS SDK.
package deadletter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kinds classify why a letter was written, for alarms and for re-drive
// tooling: poison inputs will fail again unchanged, unresolved ones may apply
// once the missing data arrives.
const (
	KindInvalid         = "invalid"          // not valid JSON, fails the schema, base64 garbage
	KindTooLarge        = "too_large"        // over the contract's size limit
	KindUnknownType     = "unknown_type"     // event type this consumer does not know
	KindUnsupported     = "unsupported"      // schema version this consumer does not read
	KindUnknownCustomer = "unknown_customer" // names a customer the ledger does not hold
	KindUnknownTenant   = "unknown_tenant"   // names or implies no tenant we serve
	KindForged          = "forged"           // failed signature or origin checks
	KindRejected        = "rejected"         // valid but refused by a domain rule
)

// MaxBody is how many bytes of the input a letter keeps. SQS messages hold
// 256 KiB (1 MiB since 2025, but not on every emulator); 128 KiB of body is
// 171 KiB once base64 in the JSON letter, which leaves room for the rest.
// Larger inputs keep their first MaxBody
// bytes, their length and their SHA-256, and Origin says where the whole
// input can still be read (a Kinesis shard and sequence number).
const MaxBody = 128 << 10

// Letter is one refused input.
type Letter struct {
	// Source names the component that refused it: "engagement", "webhooks/ses"...
	Source string `json:"source"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Reason says what is wrong in words, naming the record and field.
	Reason string `json:"reason"`
	// Field is the JSON path of the failing field when there is one.
	Field string `json:"field,omitempty"`
	// RecordID is the event id or provider message id when it could be read.
	RecordID string `json:"record_id,omitempty"`
	// Tenant is the tenant when it could be read.
	Tenant string `json:"tenant,omitempty"`
	// Origin locates the input at its source: shard id, sequence number,
	// partition key, arrival time, request id.
	Origin map[string]string `json:"origin,omitempty"`
	// Body is the input as received, cut to MaxBody bytes.
	Body []byte `json:"body"`
	// BodyBytes and BodySHA256 describe the whole input.
	BodyBytes  int    `json:"body_bytes"`
	BodySHA256 string `json:"body_sha256"`
	// Truncated says Body holds only the first MaxBody bytes.
	Truncated bool `json:"truncated,omitempty"`
	// At is when the letter was written (UTC).
	At time.Time `json:"at"`
}

// New returns a letter for body, keeping a copy of at most MaxBody bytes
// of it.
func New(source, kind, reason string, body []byte, at time.Time) Letter {
	sum := sha256.Sum256(body)
	kept := min(len(body), MaxBody)
	return Letter{
		Source:     source,
		Kind:       kind,
		Reason:     reason,
		Body:       append([]byte(nil), body[:kept]...),
		BodyBytes:  len(body),
		BodySHA256: hex.EncodeToString(sum[:]),
		Truncated:  kept < len(body),
		At:         at.UTC(),
	}
}

// Validate reports a letter that could not be re-driven or explained.
func (l Letter) Validate() error {
	switch {
	case l.Source == "":
		return errors.New("deadletter: letter has no source")
	case l.Kind == "":
		return errors.New("deadletter: letter has no kind")
	case l.Reason == "":
		return errors.New("deadletter: letter has no reason")
	case l.At.IsZero():
		return errors.New("deadletter: letter has no time")
	case len(l.Body) > MaxBody:
		return fmt.Errorf("deadletter: body of %d bytes is over %d; build letters with New", len(l.Body), MaxBody)
	}
	return nil
}

// Encode returns the letter as JSON (the message body on the queue).
func Encode(l Letter) ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(l)
}

// Decode reads a letter written by Encode.
func Decode(b []byte) (Letter, error) {
	var l Letter
	if err := json.Unmarshal(b, &l); err != nil {
		return Letter{}, fmt.Errorf("deadletter: %w", err)
	}
	return l, l.Validate()
}

// Sink keeps letters. Put returns only when every letter is stored, or an
// error; a caller that gets an error must not treat the inputs as handled.
type Sink interface {
	Put(ctx context.Context, letters []Letter) error
}
