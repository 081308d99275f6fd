package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Kind says what a record is about.
type Kind string

// Record kinds. Other non-empty kinds are allowed; these are the ones Recoup
// writes.
const (
	KindDecision  Kind = "decision"  // the compliance engine's allow / block / route_to_human
	KindSend      Kind = "send"      // a contact was made; Content holds what was sent
	KindConsent   Kind = "consent"   // consent granted or revoked
	KindImport    Kind = "import"    // a ledger import ran
	KindWriteback Kind = "writeback" // a change written back to the tenant's ERP
)

// Version names the hash encoding records are written under (see the package
// documentation).
const Version = "recoup-audit/v1"

// TimeLayout is how At is written in the hash encoding, in storage and in
// exports: UTC, fixed width, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// Record is one entry of a tenant's audit log.
type Record struct {
	Tenant ledger.TenantID
	// Seq numbers a tenant's records 1, 2, 3... with no gaps.
	Seq uint64
	// At is when the event happened, in UTC (Next converts it).
	At   time.Time
	Kind Kind
	// Account is the customer id the record concerns, Debt the invoice id;
	// either may be empty (an import concerns no one account).
	Account string
	Debt    string
	// Decision is the outcome (allow, block, route_to_human, sent...).
	Decision string
	// Rules are the ids of the rules that fired, in the engine's order.
	Rules         []string
	PolicyVersion string
	// Reason is the explanation a collector can read.
	Reason string
	// Inputs are the decision's inputs (attempt, history, consent, flags) as
	// JSON, so the decision can be replayed.
	Inputs json.RawMessage
	// Content is a copy of what was sent, when something was sent.
	Content json.RawMessage
	// PrevHash is the Hash of record Seq-1, or Genesis(Tenant) for Seq 1.
	PrevHash string
	// Hash is ComputeHash of this record.
	Hash string
}

// Head is the end of a tenant's chain: the sequence number and hash of its
// last record. An empty chain's head is GenesisHead.
type Head struct {
	Tenant ledger.TenantID
	Seq    uint64
	Hash   string
}

// Genesis is the PrevHash of a tenant's first record: the hex SHA-256 of
// "recoup-audit-genesis:" + tenant.
func Genesis(tenant ledger.TenantID) string {
	sum := sha256.Sum256([]byte("recoup-audit-genesis:" + string(tenant)))
	return hex.EncodeToString(sum[:])
}

// GenesisHead is the head of an empty chain: seq 0 and the genesis hash.
func GenesisHead(tenant ledger.TenantID) Head {
	return Head{Tenant: tenant, Seq: 0, Hash: Genesis(tenant)}
}

// HeadOf returns the head a chain has when r is its last record.
func HeadOf(r Record) Head { return Head{Tenant: r.Tenant, Seq: r.Seq, Hash: r.Hash} }

// Next returns r as the record that follows prev (nil: r is the tenant's
// first record): it fills Seq, PrevHash and Hash, sets Tenant when empty,
// converts At to UTC and compacts Inputs and Content, so the result is
// exactly what is stored and hashed. Check r with Validate first; Next does
// not refuse anything.
func Next(prev *Record, r Record) Record {
	if prev == nil {
		return GenesisHead(r.Tenant).Next(r)
	}
	return HeadOf(*prev).Next(r)
}

// Next returns r as the record that follows head; see the function Next.
func (h Head) Next(r Record) Record {
	if r.Tenant == "" {
		r.Tenant = h.Tenant
	}
	r.Seq = h.Seq + 1
	r.PrevHash = h.Hash
	r.At = r.At.UTC()
	r.Inputs = compactJSON(r.Inputs)
	r.Content = compactJSON(r.Content)
	r.Hash = r.ComputeHash()
	return r
}

// ComputeHash returns the hex SHA-256 of the record's canonical encoding
// (every field but Hash; see the package documentation).
func (r Record) ComputeHash() string {
	sum := sha256.Sum256(CanonicalEncoding(r))
	return hex.EncodeToString(sum[:])
}

// CanonicalEncoding returns the bytes a record's hash is computed over,
// version 1 (see the package documentation).
func CanonicalEncoding(r Record) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		b.WriteString(s)
	}
	raw := func(m []byte) {
		m = compactJSON(m)
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(m))))
		b.Write(m)
	}
	str(Version)
	str(string(r.Tenant))
	b.Write(binary.BigEndian.AppendUint64(nil, r.Seq))
	str(FormatTime(r.At))
	str(string(r.Kind))
	str(r.Account)
	str(r.Debt)
	str(r.Decision)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(r.Rules))))
	for _, id := range r.Rules {
		str(id)
	}
	str(r.PolicyVersion)
	str(r.Reason)
	raw(r.Inputs)
	raw(r.Content)
	str(r.PrevHash)
	return b.Bytes()
}

// compactJSON removes insignificant whitespace from valid JSON and returns
// anything else unchanged.
func compactJSON(m []byte) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		return json.RawMessage(m)
	}
	return json.RawMessage(b.Bytes())
}

// FormatTime writes t the way records store it: UTC, TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a time written by FormatTime (or any RFC 3339 time) as UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid audit record")

// MaxJSONBytes caps Inputs and Content together: a record must fit in one
// DynamoDB item (400 KB). Larger copies (a PDF letter) belong in object
// storage, with their SHA-256 in Content.
const MaxJSONBytes = 300 << 10

// Validate checks a record before it is appended: a valid tenant id, a kind,
// a time DynamoDB and the hash encoding can round-trip, valid JSON in Inputs
// and Content, and ids fit for keys. It never includes field values other
// than the tenant in its errors, since they may be personal data.
func Validate(r Record) error {
	if err := r.Tenant.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if r.Kind == "" {
		return fmt.Errorf("%w: tenant %s: empty kind", ErrInvalid, r.Tenant)
	}
	if err := ledger.ValidateID("kind", string(r.Kind)); err != nil {
		return fmt.Errorf("%w: tenant %s: %w", ErrInvalid, r.Tenant, err)
	}
	if r.At.IsZero() {
		return fmt.Errorf("%w: tenant %s: zero time", ErrInvalid, r.Tenant)
	}
	if y := r.At.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: tenant %s: year %d out of range", ErrInvalid, r.Tenant, y)
	}
	for _, f := range []struct{ name, id string }{{"account", r.Account}, {"debt", r.Debt}} {
		if f.id != "" {
			if err := ledger.ValidateID(f.name, f.id); err != nil {
				// ValidateID quotes the id; keep personal data out of the error.
				return fmt.Errorf("%w: tenant %s: %s id is not a valid id", ErrInvalid, r.Tenant, f.name)
			}
		}
	}
	for i, id := range r.Rules {
		if id == "" {
			return fmt.Errorf("%w: tenant %s: rule %d is empty", ErrInvalid, r.Tenant, i)
		}
	}
	for _, f := range []struct {
		name string
		m    json.RawMessage
	}{{"inputs", r.Inputs}, {"content", r.Content}} {
		if len(f.m) > 0 && !json.Valid(f.m) {
			return fmt.Errorf("%w: tenant %s: %s is not valid JSON", ErrInvalid, r.Tenant, f.name)
		}
	}
	if len(r.Inputs)+len(r.Content) > MaxJSONBytes {
		return fmt.Errorf("%w: tenant %s: inputs and content are %d bytes, more than %d",
			ErrInvalid, r.Tenant, len(r.Inputs)+len(r.Content), MaxJSONBytes)
	}
	return nil
}

// CanFollow reports whether a chain whose head is h can take another record
// (its sequence number is not exhausted).
func (h Head) CanFollow() bool { return h.Seq < math.MaxUint64 }
