package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// Errors. Each is a value callers test with errors.Is; the API maps them to
// HTTP status codes (see API).
var (
	// ErrInvalid: a field is missing or malformed (a *FieldError names it).
	ErrInvalid = errors.New("approval: invalid input")
	// ErrNotFound: no request with that id in that tenant.
	ErrNotFound = errors.New("approval: no such approval")
	// ErrAlreadyDecided: the request carries another verdict (a
	// *DecidedError holds it).
	ErrAlreadyDecided = errors.New("approval: already decided")
	// ErrExpired: the execution no longer waits for a verdict (the task
	// timed out, the token is invalid or the execution ended).
	ErrExpired = errors.New("approval: the execution no longer waits for a verdict")
	// ErrGuardrails: the edited draft fails the guardrails (a
	// *GuardrailError lists the violations).
	ErrGuardrails = errors.New("approval: the edited draft fails the guardrails")
	// ErrTransient: a dependency is unavailable or throttled; the same call
	// may succeed later.
	ErrTransient = errors.New("approval: temporarily unavailable")
	// ErrInProgress: the same verdict is being delivered by another call
	// right now. It is transient: retrying returns the result.
	ErrInProgress = fmt.Errorf("approval: the same verdict is being delivered: %w", ErrTransient)
)

// FieldError says which field of an input is wrong and why. Problems never
// quote the value, which may be personal data or the task token.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return "approval: " + e.Field + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// GuardrailError lists why an edited draft may not be sent. Violations may
// quote the draft: show them to the collector, never log them.
type GuardrailError struct {
	Violations []string
}

func (e *GuardrailError) Error() string {
	return fmt.Sprintf("%v (%d violations)", ErrGuardrails, len(e.Violations))
}

// Unwrap makes errors.Is(err, ErrGuardrails) true.
func (e *GuardrailError) Unwrap() error { return ErrGuardrails }

// DecidedError is ErrAlreadyDecided with the verdict already given.
type DecidedError struct {
	Verdict Verdict
}

func (e *DecidedError) Error() string {
	return fmt.Sprintf("%v: %s by %s", ErrAlreadyDecided, e.Verdict.Kind, e.Verdict.By)
}

// Unwrap makes errors.Is(err, ErrAlreadyDecided) true.
func (e *DecidedError) Unwrap() error { return ErrAlreadyDecided }

// Kind is a collector's verdict. The state machine's Approved choice reads
// it: approved and edited go on to the dispatch gate (or shadow), handed_off
// closes the cycle, anything else (rejected) parks the account.
type Kind string

// Verdicts.
const (
	Approved  Kind = "approved"
	Edited    Kind = "edited"
	Rejected  Kind = "rejected"
	HandedOff Kind = "handed_off"
)

// Valid reports whether k is one of the four verdicts.
func (k Kind) Valid() bool {
	switch k {
	case Approved, Edited, Rejected, HandedOff:
		return true
	}
	return false
}

// Status is where a request is in its life.
type Status string

// Statuses.
const (
	StatusPending Status = "pending"
	StatusDecided Status = "decided"
	StatusExpired Status = "expired"
)

// Limits on what a request and a verdict may hold. Step Functions caps a
// task's output at 256 KiB and DynamoDB an item at 400 KiB.
const (
	MaxTokenBytes     = 2048 // SendTaskSuccess's taskToken limit
	MaxExecutionBytes = 2048
	MaxDecisionBytes  = 128 << 10
	MaxSubjectBytes   = 1 << 10
	MaxBodyBytes      = 32 << 10
	MaxNoteRunes      = 2000
	IDLength          = 32
)

// Draft is a message text: as drafted when registered, or as a collector
// edited it. Channel is the drafted channel; an edit keeps it.
type Draft struct {
	Channel string `json:"channel,omitempty"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
}

func (d Draft) validate(field string) error {
	switch {
	case len(d.Channel) > 32 || !printable(d.Channel):
		return invalid(field+".channel", "must be a channel name")
	case len(d.Subject) > MaxSubjectBytes:
		return invalid(field+".subject", "longer than %d bytes", MaxSubjectBytes)
	case !utf8.ValidString(d.Subject):
		return invalid(field+".subject", "is not valid UTF-8")
	case len(d.Body) > MaxBodyBytes:
		return invalid(field+".body", "longer than %d bytes", MaxBodyBytes)
	case !utf8.ValidString(d.Body):
		return invalid(field+".body", "is not valid UTF-8")
	}
	return nil
}

// Verdict is a collector's answer to a request. It is also the Approval
// state's result: json.Marshal(v) is what the execution resumes with.
type Verdict struct {
	Kind Kind `json:"verdict"`
	// By is the collector's id.
	By string    `json:"by"`
	At time.Time `json:"at"`
	// Note is the collector's reason, shown in the account timeline.
	Note string `json:"note,omitempty"`
	// Draft is the edited message, for Edited only; it replaces the drafted
	// one.
	Draft *Draft `json:"draft,omitempty"`
}

// Validate checks a verdict as a collector submits it (At may be zero: the
// Service stamps it).
func (v Verdict) Validate() error {
	if !v.Kind.Valid() {
		return invalid("verdict", "must be one of approved, edited, rejected, handed_off")
	}
	if err := ledger.ValidateID("by", v.By); err != nil {
		return invalid("by", "must be a collector id: 1 to 128 bytes without '#' or control characters")
	}
	if !utf8.ValidString(v.Note) {
		return invalid("note", "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v.Note); n > MaxNoteRunes {
		return invalid("note", "longer than %d characters", MaxNoteRunes)
	}
	switch {
	case v.Kind == Edited && v.Draft == nil:
		return invalid("draft", "is required when the verdict is edited")
	case v.Kind != Edited && v.Draft != nil:
		return invalid("draft", "is only allowed when the verdict is edited")
	case v.Draft != nil:
		return v.Draft.validate("draft")
	}
	return nil
}

// Same reports whether two verdicts say the same thing: everything but the
// time they were given. A repeated submission of the same verdict is the
// same decision; anything else is a second, conflicting one.
func (v Verdict) Same(w Verdict) bool { return v.Key() == w.Key() }

// Key identifies what a verdict says (Same): a hex SHA-256 over its kind,
// collector, note and draft, each length-prefixed. Stores compare keys to let
// a retry of the same verdict take over its delivery.
func (v Verdict) Key() string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(string(v.Kind))
	field(v.By)
	field(v.Note)
	if v.Draft != nil {
		field("draft")
		field(v.Draft.Channel)
		field(v.Draft.Subject)
		field(v.Draft.Body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Output is the task output the execution resumes with.
func (v Verdict) Output() (json.RawMessage, error) {
	v.At = v.At.UTC()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode verdict: %w", err)
	}
	return b, nil
}

// Payload is what the Approval state passes to the registration Lambda
// (infra/statemachine/cycle.asl.json).
type Payload struct {
	Token     string          `json:"token"`
	Execution string          `json:"execution"`
	Tenant    ledger.TenantID `json:"tenant"`
	Customer  string          `json:"customer"`
	Mode      string          `json:"mode"`
	Decision  json.RawMessage `json:"decision"`
	Draft     json.RawMessage `json:"draft,omitempty"`
}

// LogValue leaves out the token, the customer and the texts.
func (p Payload) LogValue() slog.Value {
	id := ""
	if p.Token != "" {
		id = IDOf(p.Token)
	}
	return slog.GroupValue(slog.String("approval", id), slog.String("tenant", string(p.Tenant)))
}

// Request is one case waiting for (or given) a collector's verdict.
type Request struct {
	ID        string          `json:"id"`
	Tenant    ledger.TenantID `json:"tenant"`
	Customer  string          `json:"customer"`
	Execution string          `json:"execution"`
	// Token resumes the execution: a secret, never serialised.
	Token     string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	Mode      string    `json:"mode,omitempty"`
	// Decision is the strategy decision that asked for approval, as given.
	Decision json.RawMessage `json:"decision"`

	// What a collector's list shows, taken from the decision.
	Outcome  string                    `json:"outcome,omitempty"`
	Action   string                    `json:"action,omitempty"`
	Channel  string                    `json:"channel,omitempty"`
	Reasons  []strategy.ApprovalReason `json:"reasons,omitempty"`
	Totals   []strategy.Amount         `json:"totals,omitempty"`
	When     time.Time                 `json:"when,omitzero"`
	Invoices []string                  `json:"invoices,omitempty"`
	Reason   string                    `json:"reason,omitempty"`

	// Draft is the drafted message; nil when the case reached approval
	// without one (a review or a hand-off).
	Draft *Draft `json:"draft,omitempty"`

	Status  Status   `json:"status"`
	Verdict *Verdict `json:"verdict,omitempty"`
	// Resumed: the execution accepted the verdict.
	Resumed   bool      `json:"resumed"`
	ExpiredAt time.Time `json:"expired_at,omitzero"`
	// LeaseUntil is when the current decider's claim on delivering the
	// verdict lapses (decided, not resumed); zero when nobody holds it.
	LeaseUntil time.Time `json:"-"`
}

// LogValue names the request without personal data or the token.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(slog.String("approval", r.ID), slog.String("tenant", string(r.Tenant)),
		slog.String("status", string(r.Status)), slog.Bool("resumed", r.Resumed))
}

// MessageChannel is the channel an edited draft is checked for: the
// drafted one, else the decision's.
func (r Request) MessageChannel() string {
	if r.Draft != nil && r.Draft.Channel != "" {
		return r.Draft.Channel
	}
	return r.Channel
}

// Cursor orders requests oldest first: the creation time with a fixed
// nine-digit fraction, then the id. Stores list pending requests in cursor
// order and resume a listing after a cursor.
func (r Request) Cursor() string {
	return r.CreatedAt.UTC().Format(TimeLayout) + "#" + r.ID
}

// TimeLayout has a fixed-width fraction, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// ValidCursor checks a cursor taken from a client.
func ValidCursor(c string) bool {
	at, id, ok := strings.Cut(c, "#")
	if !ok || !ValidID(id) {
		return false
	}
	_, err := time.Parse(TimeLayout, at)
	return err == nil && len(at) == len(TimeLayout)
}

// IDOf derives a request's id from its task token: the first 32 hex digits
// of its SHA-256. A redelivered registration maps to the same request.
func IDOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])[:IDLength]
}

// ValidID reports whether id has the shape IDOf gives.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// decisionFields are the parts of a strategy.Decision a collector's list
// shows.
type decisionFields struct {
	Tenant   ledger.TenantID           `json:"tenant"`
	Customer string                    `json:"customer"`
	Outcome  string                    `json:"outcome"`
	Action   string                    `json:"action"`
	Channel  string                    `json:"channel"`
	When     time.Time                 `json:"when"`
	Invoices []string                  `json:"invoices"`
	Totals   []strategy.Amount         `json:"totals"`
	Approval []strategy.ApprovalReason `json:"approval_reasons"`
	Reason   string                    `json:"reason"`
}

// NewRequest validates a registration payload and builds its pending
// request, created at now.
func NewRequest(p Payload, now time.Time) (Request, error) {
	switch {
	case p.Token == "":
		return Request{}, invalid("token", "is required")
	case len(p.Token) > MaxTokenBytes:
		return Request{}, invalid("token", "longer than %d bytes", MaxTokenBytes)
	case p.Execution == "":
		return Request{}, invalid("execution", "is required")
	case len(p.Execution) > MaxExecutionBytes || !printable(p.Execution):
		return Request{}, invalid("execution", "must be an execution id: at most %d printable bytes", MaxExecutionBytes)
	}
	if err := p.Tenant.Validate(); err != nil {
		return Request{}, invalid("tenant", "must be a tenant id: 1 to 128 bytes without '#' or control characters")
	}
	if err := ledger.ValidateID("customer", p.Customer); err != nil {
		return Request{}, invalid("customer", "must be a customer id: 1 to 128 bytes without '#' or control characters")
	}
	if len(p.Mode) > 32 || !printable(p.Mode) {
		return Request{}, invalid("mode", "must be a mode name")
	}
	r := Request{ID: IDOf(p.Token), Tenant: p.Tenant, Customer: p.Customer, Execution: p.Execution, Token: p.Token,
		CreatedAt: now.UTC(), Mode: p.Mode, Status: StatusPending}
	if err := r.summarise(p.Decision); err != nil {
		return Request{}, err
	}
	d, err := parseDraft(p.Draft)
	if err != nil {
		return Request{}, err
	}
	r.Draft = d
	return r, nil
}

func (r *Request) summarise(decision json.RawMessage) error {
	trimmed := bytes.TrimSpace(decision)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("decision", "must be a JSON object")
	}
	if len(trimmed) > MaxDecisionBytes {
		return invalid("decision", "longer than %d bytes", MaxDecisionBytes)
	}
	var d decisionFields
	if err := json.Unmarshal(trimmed, &d); err != nil {
		return invalid("decision", "is not a strategy decision: %s", jsonProblem(err))
	}
	if d.Tenant != "" && d.Tenant != r.Tenant {
		return invalid("decision.tenant", "differs from the execution's tenant")
	}
	if d.Customer != "" && d.Customer != r.Customer {
		return invalid("decision.customer", "differs from the execution's customer")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return invalid("decision", "is not JSON")
	}
	r.Decision = compact.Bytes()
	r.Outcome, r.Action, r.Channel, r.Reason = d.Outcome, d.Action, d.Channel, d.Reason
	r.Reasons, r.Totals, r.Invoices = d.Approval, d.Totals, d.Invoices
	if !d.When.IsZero() {
		r.When = d.When.UTC()
	}
	return nil
}

// parseDraft reads the Draft state's result: {channel, subject, body} in
// any letter case (drafting.Draft has no JSON tags), other fields ignored.
// Absent or null: no draft.
func parseDraft(raw json.RawMessage) (*Draft, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	var d Draft
	if err := json.Unmarshal(trimmed, &d); err != nil {
		return nil, invalid("draft", "must be an object with channel, subject and body: %s", jsonProblem(err))
	}
	if err := d.validate("draft"); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks a stored or registered request.
func (r Request) Validate() error {
	if !ValidID(r.ID) {
		return invalid("id", "must be %d lowercase hex digits", IDLength)
	}
	if r.Token != "" && IDOf(r.Token) != r.ID {
		return invalid("id", "is not derived from the token")
	}
	if err := r.Tenant.Validate(); err != nil {
		return invalid("tenant", "must be a tenant id")
	}
	if err := ledger.ValidateID("customer", r.Customer); err != nil {
		return invalid("customer", "must be a customer id")
	}
	if r.Execution == "" {
		return invalid("execution", "is required")
	}
	if r.CreatedAt.IsZero() {
		return invalid("created_at", "is required")
	}
	if !json.Valid(r.Decision) {
		return invalid("decision", "must be JSON")
	}
	switch r.Status {
	case StatusPending:
		if r.Verdict != nil || r.Resumed {
			return invalid("status", "a pending request has no verdict")
		}
		if r.Token == "" {
			return invalid("token", "a pending request needs its token")
		}
	case StatusDecided:
		if r.Verdict == nil {
			return invalid("verdict", "a decided request needs its verdict")
		}
	case StatusExpired:
		if r.Resumed {
			return invalid("status", "an expired request was never resumed")
		}
	default:
		return invalid("status", "must be pending, decided or expired")
	}
	return nil
}

// Decidable reports whether a verdict may be recorded on r.
func (r Request) Decidable() bool { return r.Status == StatusPending }

// Expirable reports whether r may become expired: it is pending, or decided
// but its execution never took the verdict.
func (r Request) Expirable() bool {
	return r.Status == StatusPending || (r.Status == StatusDecided && !r.Resumed)
}

func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			return false
		}
	}
	return true
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("%s must be a %s, not a %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("must be a %s, not a %s", te.Type, te.Value)
	case errors.Is(err, money.ErrAmount), errors.Is(err, money.ErrUnknownCurrency):
		return "an amount is invalid"
	}
	return "not readable"
}
