package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// shards spreads one tenant's records of a kind over this many GSI1/GSI2
// partitions (see TABLES.md).
const shards = 16

const dateLayout = "2006-01-02"

// sortKeyPrefix and gsiKind name each record kind inside keys.
var (
	sortKeyPrefix = map[ledger.Kind]string{
		ledger.KindContact: "CP#", ledger.KindInvoice: "INV#", ledger.KindPayment: "PAY#",
		ledger.KindPromise: "PTP#", ledger.KindDispute: "DSP#",
	}
	gsiKind = map[ledger.Kind]string{
		ledger.KindCustomer: "CUST", ledger.KindContact: "CP", ledger.KindInvoice: "INV",
		ledger.KindPayment: "PAY", ledger.KindPromise: "PTP", ledger.KindDispute: "DSP",
	}
)

func shard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % shards)
}

func customerPK(t ledger.TenantID, customer string) string {
	return "T#" + string(t) + "#C#" + customer
}

func kindShardPK(t ledger.TenantID, kind ledger.Kind, n int) string {
	return fmt.Sprintf("T#%s#%s#%d", t, gsiKind[kind], n)
}

// keyOf returns the primary key of a record.
func keyOf(r ledger.Ref) (pk, sk string) {
	if r.Kind == ledger.KindCustomer {
		return customerPK(r.Tenant, r.Customer), "PROFILE"
	}
	return customerPK(r.Tenant, r.Customer), sortKeyPrefix[r.Kind] + r.ID
}

// header is the part every ledger item shares.
type header struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	// GSI3 indexes contact points by normalised address (L8); omitempty in
	// JSON too, so the content hash of every other kind is unchanged.
	GSI3PK   string `dynamodbav:"GSI3PK,omitempty" json:",omitempty"`
	GSI3SK   string `dynamodbav:"GSI3SK,omitempty" json:",omitempty"`
	Kind     string `dynamodbav:"kind"`
	Tenant   string `dynamodbav:"tenant"`
	Customer string `dynamodbav:"customer"`
	ID       string `dynamodbav:"id"`
	Hash     string `dynamodbav:"h" json:"-"`
	// The source row is left out of the content hash: the same data in
	// tomorrow's export (another file name, other line numbers) is not a
	// change, and the stored source keeps naming the row the current
	// content first came from.
	SrcSys  string `dynamodbav:"src_system,omitempty" json:"-"`
	SrcFile string `dynamodbav:"src_file,omitempty" json:"-"`
	SrcLine int    `dynamodbav:"src_line,omitempty" json:"-"`
}

func newHeader(r ledger.Ref, src ledger.Source) header {
	pk, sk := keyOf(r)
	return header{
		PK: pk, SK: sk,
		GSI1PK: kindShardPK(r.Tenant, r.Kind, shard(r.ID)), GSI1SK: r.ID,
		Kind: string(r.Kind), Tenant: string(r.Tenant), Customer: r.Customer, ID: r.ID,
		SrcSys: src.System, SrcFile: src.File, SrcLine: src.Line,
	}
}

func (h header) source() ledger.Source {
	return ledger.Source{System: h.SrcSys, File: h.SrcFile, Line: h.SrcLine}
}

type customerItem struct {
	header
	Name     string `dynamodbav:"name"`
	CustKind string `dynamodbav:"customer_kind,omitempty"`
	Country  string `dynamodbav:"country,omitempty"`
	Billing  string `dynamodbav:"billing,omitempty"`
	Segment  string `dynamodbav:"segment,omitempty"`
	KeyAcct  bool   `dynamodbav:"key_account,omitempty"`
	Currency string `dynamodbav:"currency,omitempty"`
	Implied  bool   `dynamodbav:"implied,omitempty"`
}

type contactItem struct {
	header
	ContactKind      string `dynamodbav:"contact_kind"`
	Phone            string `dynamodbav:"phone,omitempty"`
	LineType         string `dynamodbav:"line_type,omitempty"`
	Email            string `dynamodbav:"email,omitempty"`
	EmployerProvided bool   `dynamodbav:"employer_provided,omitempty"`
	Line1            string `dynamodbav:"line1,omitempty"`
	Line2            string `dynamodbav:"line2,omitempty"`
	City             string `dynamodbav:"city,omitempty"`
	State            string `dynamodbav:"state,omitempty"`
	ZIP              string `dynamodbav:"zip,omitempty"`
	Country          string `dynamodbav:"country,omitempty"`
	Consent          string `dynamodbav:"consent,omitempty"`
	ConsentAt        string `dynamodbav:"consent_at,omitempty"`
}

type invoiceItem struct {
	header
	InvoiceDate string `dynamodbav:"invoice_date"`
	DueDate     string `dynamodbav:"due_date"`
	AmountMinor int64  `dynamodbav:"amount_minor"`
	OpenMinor   int64  `dynamodbav:"open_minor"`
	Currency    string `dynamodbav:"currency"`
	Disputed    bool   `dynamodbav:"disputed,omitempty"`
	TimeBarred  bool   `dynamodbav:"time_barred,omitempty"`
	ClosedDate  string `dynamodbav:"closed_date,omitempty"`
}

type paymentItem struct {
	header
	Invoice     string `dynamodbav:"invoice,omitempty"`
	AmountMinor int64  `dynamodbav:"amount_minor"`
	Currency    string `dynamodbav:"currency"`
	ReceivedAt  string `dynamodbav:"received_at"`
	Reference   string `dynamodbav:"reference,omitempty"`
}

type promiseItem struct {
	header
	Invoices    []string `dynamodbav:"invoices,omitempty,stringset"`
	AmountMinor int64    `dynamodbav:"amount_minor"`
	Currency    string   `dynamodbav:"currency"`
	Due         string   `dynamodbav:"due"`
	MadeAt      string   `dynamodbav:"made_at"`
	Status      string   `dynamodbav:"status"`
}

type disputeItem struct {
	header
	Invoice    string `dynamodbav:"invoice,omitempty"`
	Reason     string `dynamodbav:"reason,omitempty"`
	OpenedAt   string `dynamodbav:"opened_at"`
	ResolvedAt string `dynamodbav:"resolved_at,omitempty"`
	Status     string `dynamodbav:"status"`
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// toItem converts a record to its storage struct and fills in its content hash.
func toItem(rec ledger.Record) (any, error) {
	ref := rec.Ref()
	if err := ref.Tenant.Validate(); err != nil {
		return nil, err
	}
	if err := ledger.ValidateID("customer id", ref.Customer); err != nil {
		return nil, err
	}
	if err := ledger.ValidateID(string(ref.Kind)+" id", ref.ID); err != nil {
		return nil, err
	}
	var it any
	switch r := rec.(type) {
	case ledger.Customer:
		it = &customerItem{header: newHeader(ref, r.Source), Name: r.Name, CustKind: string(r.Kind),
			Country: r.Country, Billing: string(r.Billing), Segment: r.Segment, KeyAcct: r.KeyAcct,
			Currency: r.Currency.Code(), Implied: r.Implied}
	case ledger.ContactPoint:
		h := newHeader(ref, r.Source)
		if a, ok := contactAddress(r); ok {
			h.GSI3PK, h.GSI3SK = addressPK(r.Tenant, a), r.Customer+"#"+r.ID
		}
		c := &contactItem{header: h, ContactKind: string(r.Kind),
			Consent: string(r.Consent), ConsentAt: instant(r.ConsentAt)}
		if r.Phone != nil {
			c.Phone, c.LineType = r.Phone.E164, string(r.Phone.Line)
		}
		if r.Email != nil {
			c.Email, c.EmployerProvided = r.Email.Address, r.Email.EmployerProvided
		}
		if p := r.Postal; p != nil {
			c.Line1, c.Line2, c.City, c.State, c.ZIP, c.Country = p.Line1, p.Line2, p.City, p.State, p.ZIP, p.Country
		}
		it = c
	case ledger.Invoice:
		if r.Amount.Currency != r.Open.Currency && !r.Open.Currency.IsZero() {
			return nil, fmt.Errorf("invoice %s: open balance in %s, amount in %s", r.ID, r.Open.Currency, r.Amount.Currency)
		}
		h := newHeader(ref, r.Source)
		if r.IsOpen() {
			// Sparse index: only open invoices appear on the worklist index.
			h.GSI2PK = fmt.Sprintf("T#%s#OPEN#%d", r.Tenant, shard(r.ID))
			h.GSI2SK = date(r.DueDate) + "#" + r.ID
		}
		it = &invoiceItem{header: h, InvoiceDate: date(r.InvoiceDate), DueDate: date(r.DueDate),
			AmountMinor: r.Amount.Minor, OpenMinor: r.Open.Minor, Currency: r.Amount.Currency.Code(),
			Disputed: r.Disputed, TimeBarred: r.TimeBarred, ClosedDate: date(r.ClosedDate)}
	case ledger.Payment:
		it = &paymentItem{header: newHeader(ref, r.Source), Invoice: r.Invoice, AmountMinor: r.Amount.Minor,
			Currency: r.Amount.Currency.Code(), ReceivedAt: instant(r.ReceivedAt), Reference: r.Reference}
	case ledger.PromiseToPay:
		it = &promiseItem{header: newHeader(ref, r.Source), Invoices: r.Invoices, AmountMinor: r.Amount.Minor,
			Currency: r.Amount.Currency.Code(), Due: date(r.Due), MadeAt: instant(r.MadeAt), Status: string(r.Status)}
	case ledger.Dispute:
		it = &disputeItem{header: newHeader(ref, r.Source), Invoice: r.Invoice, Reason: r.Reason,
			OpenedAt: instant(r.OpenedAt), ResolvedAt: instant(r.ResolvedAt), Status: string(r.Status)}
	default:
		return nil, fmt.Errorf("unsupported ledger record %T", rec)
	}
	// json.Marshal of a struct is deterministic (field order), and the hash
	// and source fields are excluded, so equal content gives an equal hash.
	b, err := json.Marshal(it)
	if err != nil {
		return nil, fmt.Errorf("hash %s %s: %w", ref.Kind, ref.ID, err)
	}
	sum := sha256.Sum256(b)
	setHash(it, hex.EncodeToString(sum[:16]))
	return it, nil
}

func setHash(it any, h string) {
	switch v := it.(type) {
	case *customerItem:
		v.Hash = h
	case *contactItem:
		v.Hash = h
	case *invoiceItem:
		v.Hash = h
	case *paymentItem:
		v.Hash = h
	case *promiseItem:
		v.Hash = h
	case *disputeItem:
		v.Hash = h
	}
}

func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored %s %q: %w", field, s, err)
	}
	return t, nil
}

func parseInstant(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored %s %q: %w", field, s, err)
	}
	return t.UTC(), nil
}

func parseCurrency(s string) (money.Currency, error) {
	if s == "" {
		return money.Currency{}, nil
	}
	return money.ParseCurrency(s)
}

func (it invoiceItem) invoice() (ledger.Invoice, error) {
	cur, err := money.ParseCurrency(it.Currency)
	if err != nil {
		return ledger.Invoice{}, fmt.Errorf("invoice %s: %w", it.ID, err)
	}
	inv := ledger.Invoice{
		Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Customer: it.Customer,
		Amount: money.New(it.AmountMinor, cur), Open: money.New(it.OpenMinor, cur),
		Disputed: it.Disputed, TimeBarred: it.TimeBarred, Source: it.source(),
	}
	var errs [3]error
	inv.InvoiceDate, errs[0] = parseDate("invoice_date", it.InvoiceDate)
	inv.DueDate, errs[1] = parseDate("due_date", it.DueDate)
	inv.ClosedDate, errs[2] = parseDate("closed_date", it.ClosedDate)
	for _, e := range errs {
		if e != nil {
			return ledger.Invoice{}, fmt.Errorf("invoice %s: %w", it.ID, e)
		}
	}
	return inv, nil
}

func (it paymentItem) payment() (ledger.Payment, error) {
	cur, err := money.ParseCurrency(it.Currency)
	if err != nil {
		return ledger.Payment{}, fmt.Errorf("payment %s: %w", it.ID, err)
	}
	at, err := parseInstant("received_at", it.ReceivedAt)
	if err != nil {
		return ledger.Payment{}, fmt.Errorf("payment %s: %w", it.ID, err)
	}
	return ledger.Payment{
		Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Customer: it.Customer, Invoice: it.Invoice,
		Amount: money.New(it.AmountMinor, cur), ReceivedAt: at, Reference: it.Reference, Source: it.source(),
	}, nil
}

func (it customerItem) customer() (ledger.Customer, error) {
	cur, err := parseCurrency(it.Currency)
	if err != nil {
		return ledger.Customer{}, fmt.Errorf("customer %s: %w", it.ID, err)
	}
	return ledger.Customer{
		Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Name: it.Name, Kind: ledger.CustomerKind(it.CustKind),
		Country: it.Country, Billing: ledger.BillingMedium(it.Billing), Segment: it.Segment,
		KeyAcct: it.KeyAcct, Currency: cur, Implied: it.Implied, Source: it.source(),
	}, nil
}

func (it contactItem) contact() (ledger.ContactPoint, error) {
	at, err := parseInstant("consent_at", it.ConsentAt)
	if err != nil {
		return ledger.ContactPoint{}, fmt.Errorf("contact %s: %w", it.ID, err)
	}
	c := ledger.ContactPoint{Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Customer: it.Customer,
		Kind: ledger.ContactKind(it.ContactKind), Consent: ledger.ConsentState(it.Consent), ConsentAt: at, Source: it.source()}
	switch c.Kind {
	case ledger.ContactPhone:
		c.Phone = &ledger.Phone{E164: it.Phone, Line: ledger.LineType(it.LineType)}
	case ledger.ContactEmail:
		c.Email = &ledger.Email{Address: it.Email, EmployerProvided: it.EmployerProvided}
	case ledger.ContactPostal:
		c.Postal = &ledger.PostalAddress{Line1: it.Line1, Line2: it.Line2, City: it.City, State: it.State, ZIP: it.ZIP, Country: it.Country}
	default:
		return ledger.ContactPoint{}, fmt.Errorf("contact %s: stored kind %q", it.ID, it.ContactKind)
	}
	return c, nil
}

func (it promiseItem) promise() (ledger.PromiseToPay, error) {
	cur, err := money.ParseCurrency(it.Currency)
	if err != nil {
		return ledger.PromiseToPay{}, fmt.Errorf("promise %s: %w", it.ID, err)
	}
	due, err := parseDate("due", it.Due)
	if err != nil {
		return ledger.PromiseToPay{}, fmt.Errorf("promise %s: %w", it.ID, err)
	}
	made, err := parseInstant("made_at", it.MadeAt)
	if err != nil {
		return ledger.PromiseToPay{}, fmt.Errorf("promise %s: %w", it.ID, err)
	}
	return ledger.PromiseToPay{Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Customer: it.Customer, Invoices: it.Invoices,
		Amount: money.New(it.AmountMinor, cur), Due: due, MadeAt: made, Status: ledger.PromiseStatus(it.Status), Source: it.source()}, nil
}

func (it disputeItem) dispute() (ledger.Dispute, error) {
	opened, err := parseInstant("opened_at", it.OpenedAt)
	if err != nil {
		return ledger.Dispute{}, fmt.Errorf("dispute %s: %w", it.ID, err)
	}
	resolved, err := parseInstant("resolved_at", it.ResolvedAt)
	if err != nil {
		return ledger.Dispute{}, fmt.Errorf("dispute %s: %w", it.ID, err)
	}
	return ledger.Dispute{Tenant: ledger.TenantID(it.Tenant), ID: it.ID, Customer: it.Customer, Invoice: it.Invoice,
		Reason: it.Reason, OpenedAt: opened, ResolvedAt: resolved, Status: ledger.DisputeStatus(it.Status), Source: it.source()}, nil
}
