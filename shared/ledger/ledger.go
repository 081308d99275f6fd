// Package ledger holds Recoup's accounts-receivable domain: tenants,
// customers, their contact points, invoices (debts), payments, promises to
// pay and disputes. Every record is scoped to a tenant; an id is only unique
// within its tenant, so code compares Ref values, never bare ids.
//
// The package imports no AWS SDK: storage lives in adapters such as
// shared/store/dynamo.
package ledger

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/money"
)

// TenantID names one finance team's books. It leads every storage key.
type TenantID string

// Validate checks that a tenant id is safe to embed in keys.
func (t TenantID) Validate() error { return validID("tenant id", string(t)) }

// ErrInvalidID is returned for empty ids or ids with characters that would
// break key composition.
var ErrInvalidID = errors.New("invalid id")

// validID refuses '#' (our key separator) and control characters, and caps
// the length well under DynamoDB's 2 KiB partition-key limit.
func validID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidID, what)
	}
	if len(id) > 128 {
		return fmt.Errorf("%w: %s is longer than 128 bytes", ErrInvalidID, what)
	}
	for _, r := range id {
		if r == '#' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s %q contains %q", ErrInvalidID, what, id, r)
		}
	}
	return nil
}

// ValidateID checks a record id (customer, invoice, payment...) for use in keys.
func ValidateID(what, id string) error { return validID(what, id) }

// CollectorType says which rules bind a tenant: a creditor collecting its own
// debts (first party) or a debt collector under the FDCPA (third party).
type CollectorType string

// Collector types.
const (
	FirstParty CollectorType = "first_party"
	ThirdParty CollectorType = "third_party"
)

// Tenant is one finance team using Recoup.
type Tenant struct {
	ID              TenantID
	Name            string
	Collector       CollectorType
	DefaultCurrency money.Currency
}

// Source records where a record came from, so any ledger value can be traced
// back to the row of the export that produced it.
type Source struct {
	System string // canonical, oracle-ebs, sap-fi, d365, ibm-ar, api
	File   string
	Line   int
}

// BillingMedium is how invoices reach the customer.
type BillingMedium string

// Billing media.
const (
	BillingPaper      BillingMedium = "paper"
	BillingElectronic BillingMedium = "electronic"
	BillingUnknown    BillingMedium = ""
)

// Customer is a debtor account: a business or a consumer.
type Customer struct {
	Tenant   TenantID
	ID       string
	Name     string
	Kind     CustomerKind
	Country  string // ISO 3166 alpha-2 when known, else the source's code
	Billing  BillingMedium
	Segment  string
	KeyAcct  bool // key accounts get a human look before first contact
	Currency money.Currency
	// Implied marks a customer made from an ERP transaction row rather than
	// a customer master record. It carries little more than the account
	// number, so storing it never overwrites a customer already stored.
	Implied bool
	Source  Source
}

// CustomerKind separates consumer debts (FDCPA, Reg F, TCPA apply) from
// business debts.
type CustomerKind string

// Customer kinds.
const (
	Consumer CustomerKind = "consumer"
	Business CustomerKind = "business"
)

// ContactKind is the type of a contact point.
type ContactKind string

// Contact point kinds.
const (
	ContactPhone  ContactKind = "phone"
	ContactEmail  ContactKind = "email"
	ContactPostal ContactKind = "postal"
)

// LineType is a phone line's type; Regulation F and the TCPA treat them
// differently (mobile numbers need consent for automated calls and texts).
type LineType string

// Line types.
const (
	LineMobile   LineType = "mobile"
	LineLandline LineType = "landline"
	LineWork     LineType = "work"
	LineUnknown  LineType = "unknown"
)

// ConsentState is the state of consent to contact a point on a channel as
// imported; the consent ledger owns it after import.
type ConsentState string

// Consent states.
const (
	ConsentGranted ConsentState = "granted"
	ConsentRevoked ConsentState = "revoked"
	ConsentUnknown ConsentState = "unknown"
)

// Phone is an E.164 number with its line type.
type Phone struct {
	E164 string
	Line LineType
}

// Email is an address; an employer-provided address may not be used under
// Regulation F §1006.22(f)(3) once the collector knows it.
type Email struct {
	Address          string
	EmployerProvided bool
}

// PostalAddress carries the state and ZIP the compliance engine uses for
// local time and state rules.
type PostalAddress struct {
	Line1, Line2, City string
	State              string // USPS two-letter code for US addresses
	ZIP                string // 5-digit ZIP or ZIP+4
	Country            string // ISO 3166 alpha-2
}

// ContactPoint is one way to reach a customer. Exactly one of Phone, Email
// and Postal is set, matching Kind.
type ContactPoint struct {
	Tenant    TenantID
	Customer  string
	ID        string
	Kind      ContactKind
	Phone     *Phone
	Email     *Email
	Postal    *PostalAddress
	Consent   ConsentState
	ConsentAt time.Time // zero when unknown
	Source    Source
}

// Invoice is a debt: what the customer owes on one document.
type Invoice struct {
	Tenant      TenantID
	ID          string // invoice (transaction) number, unique per tenant
	Customer    string
	InvoiceDate time.Time // UTC midnight of the calendar date
	DueDate     time.Time
	Amount      money.Amount // original amount
	Open        money.Amount // remaining balance as exported
	Disputed    bool
	TimeBarred  bool
	ClosedDate  time.Time // zero while open
	Source      Source
}

// IsOpen reports whether the invoice still has a balance.
func (i Invoice) IsOpen() bool { return i.Open.Minor > 0 }

// DaysPastDue is how many whole days past its due date the invoice is at t.
func (i Invoice) DaysPastDue(t time.Time) int {
	return DaysBetween(i.DueDate, t)
}

// Payment is money received from a customer, applied to an invoice when the
// source says which one.
type Payment struct {
	Tenant     TenantID
	ID         string
	Customer   string
	Invoice    string // empty when unapplied
	Amount     money.Amount
	ReceivedAt time.Time
	Reference  string
	Source     Source
}

// PromiseStatus tracks a promise to pay.
type PromiseStatus string

// Promise statuses.
const (
	PromiseOpen   PromiseStatus = "open"
	PromiseKept   PromiseStatus = "kept"
	PromiseBroken PromiseStatus = "broken"
)

// PromiseToPay is a customer's commitment to pay an amount by a date.
type PromiseToPay struct {
	Tenant   TenantID
	ID       string
	Customer string
	Invoices []string
	Amount   money.Amount
	Due      time.Time
	MadeAt   time.Time
	Status   PromiseStatus
	Source   Source
}

// DisputeStatus tracks a dispute.
type DisputeStatus string

// Dispute statuses.
const (
	DisputeOpen     DisputeStatus = "open"
	DisputeResolved DisputeStatus = "resolved"
)

// Dispute is a customer's challenge of an invoice; collection on a disputed
// debt pauses until it is resolved (FDCPA §1692g(b)).
type Dispute struct {
	Tenant     TenantID
	ID         string
	Customer   string
	Invoice    string
	Reason     string
	OpenedAt   time.Time
	ResolvedAt time.Time
	Status     DisputeStatus
	Source     Source
}

// DaysBetween counts calendar days from a to b (negative when b is before a),
// using UTC dates so daylight-saving shifts never add or lose a day.
func DaysBetween(a, b time.Time) int {
	ya, ma, da := a.UTC().Date()
	yb, mb, db := b.UTC().Date()
	ta := time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)
	tb := time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}

// Date returns UTC midnight of the given calendar date.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Kind names a kind of ledger record; storage keys and import reports use it.
type Kind string

// Record kinds.
const (
	KindCustomer Kind = "customer"
	KindContact  Kind = "contact"
	KindInvoice  Kind = "invoice"
	KindPayment  Kind = "payment"
	KindPromise  Kind = "promise"
	KindDispute  Kind = "dispute"
)

// Record is any ledger record, for bulk loads that write several kinds in one
// ordered stream. Ref identifies it within its tenant.
type Record interface {
	Ref() Ref
}

// Ref is a tenant-scoped reference to one record: the customer it belongs to,
// its kind and its id. Two records are the same iff their Refs are equal.
type Ref struct {
	Tenant   TenantID
	Customer string
	Kind     Kind
	ID       string
}

// Ref implements Record.
func (c Customer) Ref() Ref { return Ref{c.Tenant, c.ID, KindCustomer, c.ID} }

// Ref implements Record.
func (c ContactPoint) Ref() Ref { return Ref{c.Tenant, c.Customer, KindContact, c.ID} }

// Ref implements Record.
func (i Invoice) Ref() Ref { return Ref{i.Tenant, i.Customer, KindInvoice, i.ID} }

// Ref implements Record.
func (p Payment) Ref() Ref { return Ref{p.Tenant, p.Customer, KindPayment, p.ID} }

// Ref implements Record.
func (p PromiseToPay) Ref() Ref { return Ref{p.Tenant, p.Customer, KindPromise, p.ID} }

// Ref implements Record.
func (d Dispute) Ref() Ref { return Ref{d.Tenant, d.Customer, KindDispute, d.ID} }

// UpsertCounts says what a bulk upsert did, record by record.
type UpsertCounts struct {
	Inserted, Updated, Unchanged int
}

// Add sums two counts.
func (c UpsertCounts) Add(o UpsertCounts) UpsertCounts {
	return UpsertCounts{c.Inserted + o.Inserted, c.Updated + o.Updated, c.Unchanged + o.Unchanged}
}

// ImportCheckpoint is the progress of one import, so a failed import resumes
// where it stopped instead of starting again.
type ImportCheckpoint struct {
	ImportID  string       `dynamodbav:"import_id"`
	Done      int          `dynamodbav:"done"`  // records written, in the import's order
	Total     int          `dynamodbav:"total"` // records the import writes
	Complete  bool         `dynamodbav:"complete"`
	Counts    UpsertCounts `dynamodbav:"counts"`
	UpdatedAt time.Time    `dynamodbav:"updated_at"`
}

// Account is everything the ledger holds about one customer: what a
// collector's account timeline shows and what scoring and planning one
// customer read.
type Account struct {
	Customer Customer
	Contacts []ContactPoint
	Invoices []Invoice
	Payments []Payment
	Promises []PromiseToPay
	Disputes []Dispute
}
