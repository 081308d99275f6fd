// Package erp is the write-back domain: the actions Recoup writes to a
// tenant's ERP (credit holds, dunning letters, notes, follow-up tasks,
// promises, disputes, applied payments), their idempotency keys, their
// delivery states, and how an ERP's failures are classified. It imports no
// AWS SDK and no vendor: the adapters (erp/oracleebs, erp/dynamics) map
// actions onto their ERP's API, and shared/writeback delivers them exactly
// once.
//
// An action is identified by its key, derived from its cause (the attempt,
// decision or event that led to it), its kind and its target. The same
// cause queued twice is the same action, so a retried Lambda, a duplicate
// SQS delivery or a replayed dead letter never writes twice.
package erp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Kind says what an action does in the ERP.
type Kind string

// The kinds of action. PaymentApplied waits for payment matching to produce
// it; the adapters already map it.
const (
	KindCreditHold     Kind = "credit_hold"
	KindCreditRelease  Kind = "credit_release"
	KindDunningLetter  Kind = "dunning_letter"
	KindNote           Kind = "note"
	KindTask           Kind = "task"
	KindPromise        Kind = "promise"
	KindDispute        Kind = "dispute"
	KindPaymentApplied Kind = "payment_applied"
)

// Kinds lists every kind, in the order reports show them.
var Kinds = []Kind{KindCreditHold, KindCreditRelease, KindDunningLetter, KindNote, KindTask, KindPromise, KindDispute, KindPaymentApplied}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Target is what an action is about in the ERP. Customer is the ERP's
// customer account number, which is Recoup's customer id (ingest keeps the
// ERP's numbers). Site narrows it to a bill-to site; Transaction names an
// invoice by its number.
type Target struct {
	Customer    string `json:"customer"`
	Site        string `json:"site,omitempty"`
	Transaction string `json:"transaction,omitempty"`
}

// Money is an amount as actions carry it in JSON: integer minor units and
// the ISO 4217 code, never a float.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// Amount converts m to a money.Amount, refusing an unknown currency.
func (m Money) Amount() (money.Amount, error) {
	c, err := money.ParseCurrency(m.Currency)
	if err != nil {
		return money.Amount{}, err
	}
	return money.New(m.Minor, c), nil
}

// MoneyOf is a's JSON form.
func MoneyOf(a money.Amount) Money { return Money{Minor: a.Minor, Currency: a.Currency.Code()} }

// Action is one change to write to a tenant's ERP.
type Action struct {
	Tenant ledger.TenantID `json:"tenant"`
	// Key is the idempotency key, KeyOf(Tenant, Kind, Cause, Target).
	Key  string `json:"key"`
	Kind Kind   `json:"kind"`
	// Cause names what led to the action, as "<source>:<id>": the
	// contact attempt of a letter ("attempt:…"), the pass through the
	// cycle's Send state of a hold, hand-off or note ("cycle:…"), the
	// engagement event of a promise, task or note ("event:…").
	Cause  string `json:"cause"`
	Target Target `json:"target"`
	// Text is a note's text, a task's description, a letter's body, a
	// hold's or dispute's reason.
	Text string `json:"text,omitempty"`
	// Subject is a letter's subject or a task's name.
	Subject string `json:"subject,omitempty"`
	// Date is a promise's date or a task's due date, YYYY-MM-DD.
	Date string `json:"date,omitempty"`
	// Amount is a promise's, a dispute's or an applied payment's amount.
	Amount *Money `json:"amount,omitempty"`
	// Receipt is the ERP's receipt number of an applied payment.
	Receipt string `json:"receipt,omitempty"`
	// At is when Recoup decided the action, UTC.
	At time.Time `json:"at"`
}

// maxText bounds Text: the longest field the adapters write is a JTF note
// (32,767 bytes in EBS, kept under with room for the key's marker).
const maxText = 32000

// KeyOf derives the idempotency key of an action from its cause: the same
// cause, kind and target always give the same key. The key is 40 hex
// digits, safe as a DynamoDB key part, an SQS deduplication id and an ERP
// reference field (EBS descriptive flexfields hold 150 characters).
func KeyOf(tenant ledger.TenantID, kind Kind, cause string, t Target) string {
	h := sha256.New()
	for _, s := range []string{"recoup/erp/v1", string(tenant), string(kind), cause, t.Customer, t.Site, t.Transaction} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// New builds an action and its key. Validate it before queueing.
func New(tenant ledger.TenantID, kind Kind, cause string, t Target, at time.Time) Action {
	return Action{Tenant: tenant, Key: KeyOf(tenant, kind, cause, t), Kind: kind, Cause: cause, Target: t, At: at.UTC()}
}

// ErrInvalid marks an action that can never be written; errors wrapping it
// name the action and the field.
var ErrInvalid = errors.New("invalid write-back action")

// Validate checks everything an adapter needs, naming the action's key (or
// cause) and the field at fault.
func (a Action) Validate() error {
	name := a.Key
	if name == "" {
		name = "cause " + a.Cause
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: action %s: %s: %s", ErrInvalid, name, field, fmt.Sprintf(format, args...))
	}
	if err := a.Tenant.Validate(); err != nil {
		return bad("tenant", "%v", err)
	}
	if !a.Kind.Valid() {
		return bad("kind", "%q is not one of %v", a.Kind, Kinds)
	}
	src, id, ok := strings.Cut(a.Cause, ":")
	if !ok || src == "" || id == "" {
		return bad("cause", "want <source>:<id>, got %q", a.Cause)
	}
	if err := ledger.ValidateID("customer", a.Target.Customer); err != nil {
		return bad("target.customer", "%v", err)
	}
	for _, f := range []struct{ field, v string }{{"target.site", a.Target.Site}, {"target.transaction", a.Target.Transaction}, {"receipt", a.Receipt}} {
		if f.v != "" {
			if err := ledger.ValidateID(f.field, f.v); err != nil {
				return bad(f.field, "%v", err)
			}
		}
	}
	if want := KeyOf(a.Tenant, a.Kind, a.Cause, a.Target); a.Key != want {
		return bad("key", "not derived from tenant, kind, cause and target (want %s)", want)
	}
	if a.At.IsZero() {
		return bad("at", "missing")
	}
	if !utf8.ValidString(a.Text) || !utf8.ValidString(a.Subject) {
		return bad("text", "not UTF-8")
	}
	if len(a.Text) > maxText {
		return bad("text", "%d bytes, at most %d", len(a.Text), maxText)
	}
	if len(a.Subject) > 240 {
		return bad("subject", "%d bytes, at most 240", len(a.Subject))
	}
	if a.Date != "" {
		if _, err := time.Parse(time.DateOnly, a.Date); err != nil {
			return bad("date", "want YYYY-MM-DD, got %q", a.Date)
		}
	}
	if a.Amount != nil {
		amt, err := a.Amount.Amount()
		if err != nil {
			return bad("amount.currency", "%v", err)
		}
		if !amt.IsPositive() {
			return bad("amount.minor", "must be positive, got %d", a.Amount.Minor)
		}
	}
	need := func(field string, ok bool) error {
		if !ok {
			return bad(field, "required for a %s", a.Kind)
		}
		return nil
	}
	var errs []error
	switch a.Kind {
	case KindNote:
		errs = append(errs, need("text", strings.TrimSpace(a.Text) != ""))
	case KindTask:
		errs = append(errs, need("subject", strings.TrimSpace(a.Subject) != ""), need("date", a.Date != ""))
	case KindDunningLetter:
		errs = append(errs, need("subject", strings.TrimSpace(a.Subject) != ""), need("text", strings.TrimSpace(a.Text) != ""))
	case KindPromise:
		errs = append(errs, need("amount", a.Amount != nil), need("date", a.Date != ""))
	case KindDispute:
		errs = append(errs, need("amount", a.Amount != nil), need("target.transaction", a.Target.Transaction != ""),
			need("text", strings.TrimSpace(a.Text) != ""))
	case KindPaymentApplied:
		errs = append(errs, need("amount", a.Amount != nil), need("target.transaction", a.Target.Transaction != ""),
			need("receipt", a.Receipt != ""))
	}
	return errors.Join(errs...)
}

// Decode reads a queued action and validates it. Unknown fields are
// refused: an action from a newer writer may need what this reader would
// drop, so it waits in the dead-letter queue for a deploy and a replay
// rather than being written half understood.
func Decode(body []byte) (Action, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var a Action
	if err := dec.Decode(&a); err != nil {
		return Action{}, fmt.Errorf("%w: decode action: %v", ErrInvalid, err)
	}
	if dec.More() {
		return Action{}, fmt.Errorf("%w: decode action %s: data after the JSON object", ErrInvalid, a.Key)
	}
	if err := a.Validate(); err != nil {
		return Action{}, err
	}
	return a, nil
}
