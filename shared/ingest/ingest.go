// Package ingest turns customer, contact, invoice and payment exports into
// ledger records. It reads the canonical CSV and JSON formats described in
// FORMAT.md and the CSV exports of several ERPs through declarative column
// mappings, validates every row, and returns the accepted records together
// with one Reject per bad row and per-file statistics for a data-quality
// report.
//
// The package is pure: it imports no AWS SDK and does no I/O besides reading
// the given readers. Callers wire storage (CustomerLookup, writing the batch)
// and the command line around it.
//
// The central promise is bookkeeping a finance team can audit: every data
// row read is either accepted or rejected exactly once, and nothing is
// dropped silently.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Format names the layout of an import: the canonical format or one ERP's
// export.
type Format string

// Supported formats.
const (
	FormatCanonical Format = "canonical"
	FormatOracleEBS Format = "oracle-ebs"
	FormatSAPFI     Format = "sap-fi"
	FormatD365      Format = "d365"
	FormatIBMAR     Format = "ibm-ar"
)

// Formats lists the supported formats in the order the CLI should show them.
func Formats() []Format {
	return []Format{FormatCanonical, FormatOracleEBS, FormatSAPFI, FormatD365, FormatIBMAR}
}

// Kind is the kind of record a canonical file (or JSON array) holds.
type Kind string

// Record kinds.
const (
	KindCustomers Kind = "customers"
	KindContacts  Kind = "contacts"
	KindInvoices  Kind = "invoices"
	KindPayments  Kind = "payments"
)

// Kinds lists the record kinds in the order they are resolved: customers
// first, because every other kind refers to them.
func Kinds() []Kind { return []Kind{KindCustomers, KindContacts, KindInvoices, KindPayments} }

// File is one input file.
type File struct {
	// Name identifies the file in rejects, errors and the report.
	Name string
	R    io.Reader
	// Kind is optional. For a CSV file "" means: detect it from the header.
	// For a JSON file the keys say which kinds it holds; a non-empty Kind
	// restricts it to that one key. ERP exports classify each row themselves,
	// so Kind is ignored for them (except that customers or contacts forces
	// the canonical format).
	Kind Kind
	// Format optionally overrides Options.Format for this file, for imports
	// that mix an ERP export with canonical files.
	Format Format
}

// Options configures Parse.
type Options struct {
	Tenant ledger.TenantID
	// Format is the default format of the files; "" means canonical. With an
	// ERP format, a CSV file whose header does not fit the ERP mapping but is
	// a complete canonical header is read as canonical, so a customers or
	// contacts file can accompany an export.
	Format Format
	// DefaultCurrency is used by files that have no currency column (the
	// ibm-ar export has none and falls back to USD when this is zero).
	DefaultCurrency money.Currency
	// DefaultRegion is the ISO 3166 region used to parse phone numbers
	// written without a country code; "" means "US".
	DefaultRegion string
	// AsOf anchors the "date too far in the future" rule: dates more than
	// five years after AsOf are rejected. Zero means time.Now().
	AsOf time.Time
}

// CustomerLookup says which customer ids already exist in the ledger. Parse
// calls it in batches of at most LookupBatchSize ids; ids missing from the
// returned map are unknown.
type CustomerLookup interface {
	ExistingCustomers(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]bool, error)
}

// InvoiceLookup, when the CustomerLookup given to Parse also implements it,
// says which invoice numbers the ledger already holds and for whom. An
// invoice number is unique per tenant: a row reusing one under another
// customer is rejected, and a payment applied to a ledger invoice must be
// the same customer's, in the same currency.
type InvoiceLookup interface {
	InvoiceOwners(ctx context.Context, tenant ledger.TenantID, ids []string) (map[string]InvoiceOwner, error)
}

// InvoiceOwner is what an import needs to know of a stored invoice.
type InvoiceOwner struct {
	Customer string
	Currency money.Currency
}

// LookupBatchSize caps the ids per CustomerLookup call; 100 matches
// DynamoDB's BatchGetItem limit so an adapter can pass a batch straight on.
const LookupBatchSize = 100

// Reject is one row (or JSON record) that was not imported, with the first
// problem found in it.
type Reject struct {
	File   string
	Line   int    // 1-based line where the row or record starts
	Record string // "row 12" (12th data row) for CSV, "invoices[3]" for JSON
	Kind   Kind   // "" when an ERP row could not be classified
	Field  string // the column as named in the file (or a canonical field)
	Value  string
	Reason string // a sentence a finance person can act on
	Rule   Rule   // stable code of the rule that failed, for reports and tests
	Raw    string // the original CSV line or JSON record, at most 500 bytes
}

// Batch is the result of an import: the accepted records, the rejects and
// per-file statistics.
type Batch struct {
	Customers []ledger.Customer
	Contacts  []ledger.ContactPoint
	Invoices  []ledger.Invoice
	Payments  []ledger.Payment
	Disputes  []ledger.Dispute
	Rejects   []Reject
	Files     []FileStats
}

// FileStats counts what happened to one file's rows. For every file
// Read == Accepted + Rejected.
type FileStats struct {
	Name   string
	Format Format // the format the file was actually read with
	Kinds  []KindStats
	Read   int // data rows read (blank rows excluded)
	// Accepted rows produced records; Rejected rows produced one Reject each.
	Accepted, Rejected int
	// Blank counts rows whose fields are all empty (",,,," left by
	// spreadsheets); they are skipped, not read. Fully empty lines are
	// skipped by the CSV reader without being counted.
	Blank          int
	UnknownColumns []string // header columns the format does not use
	RejectsByRule  map[Rule]int
}

// KindStats counts one kind of row within a file. Kind is "" for ERP rows
// that could not be classified.
type KindStats struct {
	Kind                     Kind
	Read, Accepted, Rejected int
}

// Parse reads, maps and validates files. It returns an error only when a
// file cannot be used at all (unreadable, neither CSV nor JSON, a header the
// format cannot map, an undetectable kind), when the options are invalid, or
// when the customer lookup fails; all file errors are joined so a user sees
// them at once. Row-level problems become Rejects.
//
// Customers of all files are resolved first; the remaining rows are then
// checked against them and, in batches, against lookup (which may be nil
// for an empty ledger).
func Parse(ctx context.Context, opts Options, files []File, lookup CustomerLookup) (*Batch, error) {
	p, err := newParser(opts, lookup)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := p.readFile(ctx, i, f); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := p.resolve(ctx); err != nil {
		return nil, err
	}
	return p.batch(), nil
}

// minDate and futureYears bound plausible dates: nothing in receivables
// predates 1900 (it is usually a null-date sentinel or a typo), and a date
// more than five years ahead of the import is a typo like 2062 for 2026.
var minDate = ledger.Date(1900, time.January, 1)

const futureYears = 5

// parser holds the state of one Parse call.
type parser struct {
	opts    Options
	lookup  CustomerLookup
	region  string
	maxDate time.Time
	files   []*fileState
	units   []*unit

	// explicit customers accepted so far, by id (the first wins).
	explicit map[string]*unit
	// customersGiven is set when any file holds customer records; ERP rows
	// then stop implying customers and must refer to known ones.
	customersGiven bool
}

// fileState accumulates one file's statistics while it is read.
type fileState struct {
	name     string
	format   Format
	json     bool
	blank    int
	unknown  []string
	rowCount int // data rows seen, for "row N"
}

// unit is one data row (or JSON record) and everything it produced. A unit
// is accepted as a whole or rejected once.
type unit struct {
	file int
	line int
	// recNum is the 1-based data row (CSV) or 0-based array index (JSON),
	// formatted into Reject.Record only when the row is rejected.
	recNum int
	raw    string
	kind   Kind
	rej    *Reject

	cust    *ledger.Customer // explicit customer row
	contact *ledger.ContactPoint
	inv     *ledger.Invoice
	disp    *ledger.Dispute
	pay     *ledger.Payment

	// implied is the customer account an ERP row implies, set only when the
	// row passed its own checks (a row later rejected as a duplicate still
	// proves the account exists); impliedAt is the row's document date, so
	// the most recent row describes the customer.
	implied   *ledger.Customer
	impliedAt time.Time

	// Display names of the id fields, for unknown-customer and duplicate
	// rejects raised after the row was built.
	custName, idName, payIDName, invRefName string
}

func newParser(opts Options, lookup CustomerLookup) (*parser, error) {
	if err := opts.Tenant.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if opts.Format == "" {
		opts.Format = FormatCanonical
	}
	if mappingFor(opts.Format) == nil {
		return nil, fmt.Errorf("ingest: unknown format %q (want one of %s)", opts.Format, formatList())
	}
	region := strings.ToUpper(strings.TrimSpace(opts.DefaultRegion))
	if region == "" {
		region = "US"
	}
	if !validCountry(region) {
		return nil, fmt.Errorf("ingest: default region %q is not an ISO 3166 alpha-2 code", opts.DefaultRegion)
	}
	asOf := opts.AsOf
	if asOf.IsZero() {
		asOf = time.Now()
	}
	y, m, d := asOf.UTC().Date()
	return &parser{
		opts:     opts,
		lookup:   lookup,
		region:   region,
		maxDate:  ledger.Date(y+futureYears, m, d),
		explicit: map[string]*unit{},
	}, nil
}

func formatList() string {
	var s []string
	for _, f := range Formats() {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

// newUnit registers a data row of file fi.
func (p *parser) newUnit(fi, line, recNum int, raw string) *unit {
	u := &unit{file: fi, line: line, recNum: recNum, raw: clip(raw)}
	p.units = append(p.units, u)
	return u
}

// record names the unit as rejects do: "row 12" or "invoices[3]".
func (p *parser) record(u *unit) string {
	if p.files[u.file].json {
		return fmt.Sprintf("%s[%d]", u.kind, u.recNum)
	}
	return fmt.Sprintf("row %d", u.recNum)
}

// reject records the row's (first) problem.
func (p *parser) reject(u *unit, pr *problem) {
	u.rej = &Reject{
		File:   p.files[u.file].name,
		Line:   u.line,
		Record: p.record(u),
		Kind:   u.kind,
		Field:  pr.field,
		Value:  clip(pr.value),
		Reason: pr.reason,
		Rule:   pr.rule,
		Raw:    u.raw,
	}
}

// where names a unit for messages about duplicates.
func (p *parser) where(u *unit) string {
	return fmt.Sprintf("%s line %d", p.files[u.file].name, u.line)
}

// acceptCustomer applies the duplicate rule to an explicit customer row as
// soon as it is read: customers are resolved before everything else.
func (p *parser) acceptCustomer(u *unit) {
	if u.rej != nil || u.cust == nil {
		return
	}
	if first, ok := p.explicit[u.cust.ID]; ok {
		p.reject(u, &problem{field: u.idName, value: u.cust.ID, rule: RuleDuplicate,
			reason: fmt.Sprintf("%s %s already appears in %s", u.idName, u.cust.ID, p.where(first))})
		return
	}
	p.explicit[u.cust.ID] = u
}

// resolve runs the checks that need every file read: unknown customers
// (batched against the ledger), duplicates, payment-invoice consistency.
func (p *parser) resolve(ctx context.Context) error {
	// Customers implied by ERP rows count as known unless a customers file
	// was given, in which case that file (with the ledger) is authoritative.
	implied := map[string]bool{}
	if !p.customersGiven {
		for _, u := range p.units {
			if u.implied != nil {
				implied[u.implied.ID] = true
			}
		}
	}
	need := map[string]bool{}
	for _, u := range p.units {
		if u.rej != nil || u.cust != nil {
			continue
		}
		if id := u.customerID(); id != "" && p.explicit[id] == nil {
			need[id] = true
		}
	}
	inLedger, err := p.lookupCustomers(ctx, need)
	if err != nil {
		return err
	}
	known := func(id string) bool { return p.explicit[id] != nil || inLedger[id] || implied[id] }
	owners, err := p.lookupInvoices(ctx)
	if err != nil {
		return err
	}

	invoices := make(map[string]*unit, len(p.units))
	payments := map[string]*unit{}
	contacts := map[string]*unit{}
	dup := func(u *unit, seen map[string]*unit, id, name string) bool {
		if first, ok := seen[id]; ok {
			p.reject(u, &problem{field: name, value: id, rule: RuleDuplicate,
				reason: fmt.Sprintf("%s %s already appears in %s", name, id, p.where(first))})
			return true
		}
		return false
	}
	check := func(u *unit) {
		if u.rej != nil || u.cust != nil {
			return
		}
		if id := u.customerID(); !known(id) {
			p.reject(u, &problem{field: u.custName, value: id, rule: RuleUnknownCustomer,
				reason: fmt.Sprintf("%s %s is not a customer in this import or in the ledger", u.custName, id)})
			return
		}
		switch {
		case u.contact != nil:
			if dup(u, contacts, u.contact.ID, u.idName) {
				return
			}
			contacts[u.contact.ID] = u
		case u.inv != nil:
			if dup(u, invoices, u.inv.ID, u.idName) {
				return
			}
			if o, ok := owners[u.inv.ID]; ok && o.Customer != u.inv.Customer {
				p.reject(u, &problem{field: u.idName, value: u.inv.ID, rule: RuleDuplicate,
					reason: fmt.Sprintf("%s %s already belongs to customer %s in the ledger", u.idName, u.inv.ID, o.Customer)})
				return
			}
			if u.pay != nil && dup(u, payments, u.pay.ID, u.payIDName) {
				return
			}
			invoices[u.inv.ID] = u
			if u.pay != nil {
				payments[u.pay.ID] = u
			}
		case u.pay != nil:
			if dup(u, payments, u.pay.ID, u.idName) {
				return
			}
			if pr := p.checkApplied(u, invoices, owners); pr != nil {
				p.reject(u, pr)
				return
			}
			payments[u.pay.ID] = u
		}
	}
	// Invoices before stand-alone payments, so a payment can be checked
	// against the invoice it names whatever the file order.
	for i, u := range p.units {
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !(u.pay != nil && u.inv == nil) {
			check(u)
		}
	}
	for _, u := range p.units {
		if u.pay != nil && u.inv == nil {
			check(u)
		}
	}
	return nil
}

// customerID is the customer a non-customer unit refers to.
func (u *unit) customerID() string {
	switch {
	case u.contact != nil:
		return u.contact.Customer
	case u.inv != nil:
		return u.inv.Customer
	case u.pay != nil:
		return u.pay.Customer
	}
	return ""
}

// checkApplied compares a payment with the invoice it is applied to, from
// this import or else from the ledger. A payment naming an invoice found in
// neither is kept as applied to that number (the invoice may come later).
func (p *parser) checkApplied(u *unit, invoices map[string]*unit, owners map[string]InvoiceOwner) *problem {
	if u.pay.Invoice == "" {
		return nil
	}
	var owner InvoiceOwner
	if iu, ok := invoices[u.pay.Invoice]; ok {
		owner = InvoiceOwner{Customer: iu.inv.Customer, Currency: iu.inv.Amount.Currency}
	} else if o, ok := owners[u.pay.Invoice]; ok {
		owner = o
	} else {
		return nil
	}
	switch {
	case owner.Customer != u.pay.Customer:
		return &problem{field: u.invRefName, value: u.pay.Invoice, rule: RulePaymentMismatch,
			reason: fmt.Sprintf("invoice %s belongs to customer %s, not %s", u.pay.Invoice, owner.Customer, u.pay.Customer)}
	case owner.Currency != u.pay.Amount.Currency:
		return &problem{field: u.invRefName, value: u.pay.Invoice, rule: RulePaymentMismatch,
			reason: fmt.Sprintf("payment is in %s but invoice %s is in %s", u.pay.Amount.Currency, u.pay.Invoice, owner.Currency)}
	}
	return nil
}

// lookupInvoices asks the ledger, when the lookup can answer, who owns the
// invoice numbers this import writes or applies payments to.
func (p *parser) lookupInvoices(ctx context.Context) (map[string]InvoiceOwner, error) {
	il, ok := p.lookup.(InvoiceLookup)
	if !ok {
		return nil, nil
	}
	need := map[string]bool{}
	for _, u := range p.units {
		if u.rej != nil {
			continue
		}
		if u.inv != nil {
			need[u.inv.ID] = true
		}
		if u.pay != nil && u.pay.Invoice != "" {
			need[u.pay.Invoice] = true
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	owners, err := il.InvoiceOwners(ctx, p.opts.Tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("ingest: looking up invoice numbers: %w", err)
	}
	return owners, nil
}

// lookupCustomers asks the ledger about ids in sorted batches, so calls are
// deterministic and bounded.
func (p *parser) lookupCustomers(ctx context.Context, need map[string]bool) (map[string]bool, error) {
	found := map[string]bool{}
	if p.lookup == nil || len(need) == 0 {
		return found, nil
	}
	ids := make([]string, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for start := 0; start < len(ids); start += LookupBatchSize {
		chunk := ids[start:min(start+LookupBatchSize, len(ids))]
		got, err := p.lookup.ExistingCustomers(ctx, p.opts.Tenant, chunk)
		if err != nil {
			return nil, fmt.Errorf("ingest: looking up customers: %w", err)
		}
		for _, id := range chunk {
			if got[id] {
				found[id] = true
			}
		}
	}
	return found, nil
}

// batch assembles the result in file and row order: explicit customers,
// then customers implied by export rows in order of first appearance.
func (p *parser) batch() *Batch {
	// Sized up front: appending would copy every record several times.
	var nc, nct, ni, np, nd, nr int
	for _, u := range p.units {
		switch {
		case u.rej != nil:
			nr++
			continue
		case u.cust != nil:
			nc++
		case u.contact != nil:
			nct++
		}
		if u.inv != nil {
			ni++
		}
		if u.pay != nil {
			np++
		}
		if u.disp != nil {
			nd++
		}
	}
	b := &Batch{
		Customers: make([]ledger.Customer, 0, nc), Contacts: make([]ledger.ContactPoint, 0, nct),
		Invoices: make([]ledger.Invoice, 0, ni), Payments: make([]ledger.Payment, 0, np),
		Disputes: make([]ledger.Dispute, 0, nd), Rejects: make([]Reject, 0, nr),
	}
	for _, u := range p.units {
		if u.rej == nil && u.cust != nil {
			b.Customers = append(b.Customers, *u.cust)
		}
	}
	if !p.customersGiven {
		impliedBy := map[string]*unit{}
		var order []string
		for _, u := range p.units {
			if u.implied == nil {
				continue
			}
			id := u.implied.ID
			cur, ok := impliedBy[id]
			if !ok {
				order = append(order, id)
			}
			// The most recent accepted row describes the account (ties: the
			// later row); a rejected row only speaks when no row was accepted.
			if !ok || (u.rej == nil) != (cur.rej == nil) && u.rej == nil ||
				(u.rej == nil) == (cur.rej == nil) && !u.impliedAt.Before(cur.impliedAt) {
				impliedBy[id] = u
			}
		}
		for _, id := range order {
			// Emitted whether or not the ledger has the account, so the same
			// files always give the same records (imports resume by position);
			// Implied tells the store never to overwrite a stored customer.
			b.Customers = append(b.Customers, *impliedBy[id].implied)
		}
	}
	for _, u := range p.units {
		if u.rej != nil {
			b.Rejects = append(b.Rejects, *u.rej)
			continue
		}
		if u.contact != nil {
			b.Contacts = append(b.Contacts, *u.contact)
		}
		if u.inv != nil {
			b.Invoices = append(b.Invoices, *u.inv)
		}
		if u.pay != nil {
			b.Payments = append(b.Payments, *u.pay)
		}
		if u.disp != nil {
			b.Disputes = append(b.Disputes, *u.disp)
		}
	}
	b.Files = p.stats()
	return b
}
