package ingest

import (
	"fmt"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Rule is the stable code of a validation rule; every Reject carries one.
type Rule string

// Validation rules. Label gives the report's wording.
const (
	RuleMalformed         Rule = "malformed"          // CSV quoting error, JSON record that is not an object
	RuleEncoding          Rule = "encoding"           // not valid UTF-8
	RuleFieldCount        Rule = "field_count"        // CSV row with more or fewer fields than the header
	RuleUnknownField      Rule = "unknown_field"      // JSON record with a field the kind does not have
	RuleMissing           Rule = "missing"            // required field empty
	RuleInvalidID         Rule = "invalid_id"         // fails ledger.ValidateID
	RuleInvalidValue      Rule = "invalid_value"      // not one of the allowed values (booleans, enums, countries)
	RuleUnsupported       Rule = "unsupported"        // a row type not imported yet (credit memos)
	RuleInvalidDate       Rule = "invalid_date"       // unreadable or impossible date
	RuleDateRange         Rule = "date_out_of_range"  // before 1900 or more than 5 years after AsOf
	RuleDueBeforeInvoice  Rule = "due_before_invoice" // due_date before invoice_date
	RuleClosedBefore      Rule = "closed_before_invoice"
	RuleUnknownCurrency   Rule = "unknown_currency"
	RuleTooManyDecimals   Rule = "too_many_decimals"
	RuleInvalidAmount     Rule = "invalid_amount"
	RuleWrongSign         Rule = "wrong_sign" // a credit row whose amount is not negative
	RuleNotPositive       Rule = "amount_not_positive"
	RuleOpenOutOfRange    Rule = "open_out_of_range"
	RuleClosedWithBalance Rule = "closed_with_balance"
	RuleInvalidPhone      Rule = "invalid_phone"
	RuleInvalidEmail      Rule = "invalid_email"
	RuleInvalidState      Rule = "invalid_state"
	RuleInvalidZIP        Rule = "invalid_zip"
	RuleConflict          Rule = "conflicting_fields" // e.g. an email on a phone contact
	RuleUnknownCustomer   Rule = "unknown_customer"
	RuleDuplicate         Rule = "duplicate"
	RulePaymentMismatch   Rule = "payment_invoice_mismatch"
	RuleTooLong           Rule = "too_long" // a value longer than MaxFieldBytes
)

// MaxFieldBytes caps every imported value. Names and addresses are far
// shorter in practice; the cap keeps one runaway cell from making a ledger
// item exceed DynamoDB's 400 KB limit, which would fail a whole write batch
// instead of one row.
const MaxFieldBytes = 1024

var ruleLabels = map[Rule]string{
	RuleMalformed:         "malformed row",
	RuleEncoding:          "not UTF-8 text",
	RuleFieldCount:        "wrong number of fields",
	RuleUnknownField:      "unknown field",
	RuleMissing:           "missing",
	RuleInvalidID:         "unusable id",
	RuleInvalidValue:      "value not allowed",
	RuleUnsupported:       "row type not imported yet",
	RuleInvalidDate:       "invalid date",
	RuleDateRange:         "implausible date",
	RuleDueBeforeInvoice:  "due before invoice date",
	RuleClosedBefore:      "closed before invoice date",
	RuleUnknownCurrency:   "unknown currency",
	RuleTooManyDecimals:   "too many decimals for currency",
	RuleInvalidAmount:     "not an amount",
	RuleWrongSign:         "credit not negative",
	RuleNotPositive:       "amount not above zero",
	RuleOpenOutOfRange:    "open amount out of range",
	RuleClosedWithBalance: "closed with a balance",
	RuleInvalidPhone:      "invalid phone number",
	RuleInvalidEmail:      "invalid email",
	RuleInvalidState:      "invalid US state",
	RuleInvalidZIP:        "invalid ZIP",
	RuleConflict:          "fields of another contact kind",
	RuleUnknownCustomer:   "unknown customer",
	RuleDuplicate:         "duplicate id",
	RulePaymentMismatch:   "payment does not match invoice",
	RuleTooLong:           "value too long",
}

// Label is a short human description of the rule.
func (r Rule) Label() string {
	if l, ok := ruleLabels[r]; ok {
		return l
	}
	return string(r)
}

// problem is the first thing wrong with a row.
type problem struct {
	field, value string
	rule         Rule
	reason       string
}

// row is one source row copied into canonical fields, with what the
// builders need to validate it and to name the source's columns in rejects.
type row struct {
	p      *parser
	b      *binding
	kind   Kind
	class  *rowClass
	vals   [nFields]string
	names  *[nFields]string // display names; "" entries fall back to canonical names
	hasCur bool             // the file has a currency column (or the JSON record a currency key)
	rec    []string         // the CSV record, for derive functions
	// closedBy explains why the source considers the invoice closed when it
	// says so without a date (EBS STATUS CL).
	closedBy string
}

func (r *row) m() *mapping { return r.b.m }

// name is the field as the source calls it.
func (r *row) name(f field) string {
	if r.names != nil && r.names[f] != "" {
		return r.names[f]
	}
	return fieldNames[f]
}

// src returns a source column's trimmed value and its header spelling
// ("" when the column is absent), for derive functions.
func (r *row) src(col string) (string, string) {
	if r.b == nil {
		return "", col
	}
	i, ok := r.b.hdr[strings.ToLower(col)]
	if !ok || i >= len(r.rec) {
		return "", col
	}
	return strings.TrimSpace(r.rec[i]), r.b.header[i]
}

func (r *row) missing(f field) *problem {
	n := r.name(f)
	return &problem{field: n, rule: RuleMissing, reason: n + " is missing"}
}

func (r *row) text(f field, required bool) (string, *problem) {
	v := r.vals[f]
	if v == "" && required {
		return "", r.missing(f)
	}
	return v, nil
}

// id reads an id that must be usable as a ledger key.
func (r *row) id(f field, required bool) (string, *problem) {
	v := r.vals[f]
	if v == "" {
		if required {
			return "", r.missing(f)
		}
		return "", nil
	}
	if err := ledger.ValidateID(r.name(f), v); err != nil {
		return "", &problem{field: r.name(f), value: v, rule: RuleInvalidID, reason: err.Error()}
	}
	return v, nil
}

// date reads a calendar date within the plausible range.
func (r *row) date(f field, required bool) (time.Time, *problem) {
	v := r.vals[f]
	if v != "" && r.m().isNullDate(v) {
		v = ""
	}
	if v == "" {
		if required {
			return time.Time{}, r.missing(f)
		}
		return time.Time{}, nil
	}
	return r.parseDate(r.name(f), v)
}

func (r *row) parseDate(name, v string) (time.Time, *problem) {
	t, ok, outOfRange := r.m().parseDate(v)
	switch {
	case !ok && outOfRange:
		return time.Time{}, &problem{field: name, value: v, rule: RuleInvalidDate,
			reason: fmt.Sprintf("%s %s is not a real calendar date", name, v)}
	case !ok:
		return time.Time{}, &problem{field: name, value: v, rule: RuleInvalidDate,
			reason: fmt.Sprintf("%s %s is not a date (expected %s)", name, v, r.m().dateHint)}
	case t.Before(minDate):
		return time.Time{}, &problem{field: name, value: v, rule: RuleDateRange,
			reason: fmt.Sprintf("%s %s is before 1900", name, v)}
	case t.After(r.p.maxDate):
		return time.Time{}, &problem{field: name, value: v, rule: RuleDateRange,
			reason: fmt.Sprintf("%s %s is more than %d years in the future", name, v, futureYears)}
	}
	return t, nil
}

// boolean accepts true/false, yes/no, y/n, 1/0 in any case; empty is false.
func (r *row) boolean(f field) (bool, *problem) {
	v := r.vals[f]
	switch strings.ToLower(v) {
	case "", "false", "no", "n", "0":
		return false, nil
	case "true", "yes", "y", "1":
		return true, nil
	}
	n := r.name(f)
	return false, &problem{field: n, value: v, rule: RuleInvalidValue,
		reason: fmt.Sprintf("%s %s is not yes or no", n, v)}
}

// enum accepts one of allowed (case-insensitive); empty gives def.
func (r *row) enum(f field, def string, allowed ...string) (string, *problem) {
	v := r.vals[f]
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	n := r.name(f)
	return "", &problem{field: n, value: v, rule: RuleInvalidValue,
		reason: fmt.Sprintf("%s %s is not one of %s", n, v, strings.Join(allowed, ", "))}
}

// currency resolves the row's currency: the column, or the default when
// the file has no currency column at all. An empty cell in a currency
// column is missing data, not a cue for the default.
func (r *row) currency() (money.Currency, *problem) {
	v := r.vals[fCurrency]
	if v == "" {
		if r.hasCur {
			return money.Currency{}, r.missing(fCurrency)
		}
		if !r.p.opts.DefaultCurrency.IsZero() {
			return r.p.opts.DefaultCurrency, nil
		}
		if r.m().currency != "" {
			return money.MustCurrency(r.m().currency), nil
		}
		return money.Currency{}, &problem{field: r.name(fCurrency), rule: RuleMissing,
			reason: "currency is missing and no default currency was given"}
	}
	c, err := money.ParseCurrency(v)
	if err != nil {
		n := r.name(fCurrency)
		return money.Currency{}, &problem{field: n, value: v, rule: RuleUnknownCurrency,
			reason: fmt.Sprintf("%s %s is not an ISO 4217 currency code", n, v)}
	}
	return c, nil
}

// amount reads a money field; ok is false when it is empty. On credit rows
// the source's negative amount is flipped.
func (r *row) amount(f field, cur money.Currency) (money.Amount, bool, *problem) {
	v := r.vals[f]
	if v == "" {
		return money.Amount{}, false, nil
	}
	credit := f == fAmount && r.class != nil && r.class.credit
	a, pr := r.parseAmountText(r.name(f), v, cur, credit)
	return a, pr == nil, pr
}

// parseAmountText parses one amount exactly; "" is zero.
func (r *row) parseAmountText(name, v string, cur money.Currency, credit bool) (money.Amount, *problem) {
	if v == "" {
		return money.New(0, cur), nil
	}
	bad := func() *problem {
		return &problem{field: name, value: v, rule: RuleInvalidAmount,
			reason: fmt.Sprintf("%s %s is not an amount", name, v)}
	}
	s := v
	if r.m().decimalComma {
		var ok bool
		if s, ok = normalizeLocaleAmount(v, cur.Scale()); !ok {
			return money.Amount{}, bad()
		}
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := strings.TrimRight(s[i+1:], "0")
		if allDigits(frac) && len(frac) > cur.Scale() {
			return money.Amount{}, &problem{field: name, value: v, rule: RuleTooManyDecimals,
				reason: fmt.Sprintf("%s %s has more decimals than %s allows (%d)", name, v, cur, cur.Scale())}
		}
	}
	a, err := money.Parse(s, cur)
	if err != nil && strings.Contains(s, ",") {
		return money.Amount{}, &problem{field: name, value: v, rule: RuleInvalidAmount,
			reason: fmt.Sprintf("%s %s is not an amount (use a dot for decimals; commas only between thousands)", name, v)}
	}
	if err != nil {
		return money.Amount{}, bad()
	}
	if credit {
		if a.Minor >= 0 {
			label := ""
			if r.class != nil {
				label = " on a " + r.class.label + " row"
			}
			return money.Amount{}, &problem{field: name, value: v, rule: RuleWrongSign,
				reason: fmt.Sprintf("%s %s should be negative%s (the export books it as a credit)", name, v, label)}
		}
		a.Minor = -a.Minor
	}
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeLocaleAmount turns an SAP amount into money.Parse's form. SAP
// writes amounts in the user's decimal notation (1.234,56 or 1,234.56 or
// 1 234,56) and negatives with a trailing minus. The rules, exact and
// explicit:
//  1. a leading or trailing minus is a sign;
//  2. spaces group thousands; then at most one '.' or ',' may appear, and
//     it is the decimal separator;
//  3. if both '.' and ',' appear, the rightmost one is the decimal
//     separator and the other groups thousands;
//  4. a separator appearing more than once groups thousands;
//  5. a single separator is the decimal separator, except when exactly
//     three digits follow it, 1-3 digits not starting with 0 precede it, and
//     the currency does not have three decimals: then it groups thousands
//     (1.234 JPY, or 1.234 in decimal-comma notation, is 1234; read as
//     decimals it would have more digits than the currency allows);
//  6. thousands groups must have exactly three digits.
//
// So 1.234,56 and 1,234.56 are 1234.56, 1234,5 is 1234.50, 1.234 EUR is
// 1234.00 and 1.234 KWD is 1.234.
func normalizeLocaleAmount(v string, scale int) (string, bool) {
	s := strings.TrimSpace(v)
	sign := ""
	switch {
	case strings.HasSuffix(s, "-"):
		sign, s = "-", strings.TrimSpace(s[:len(s)-1])
	case strings.HasPrefix(s, "-"):
		sign, s = "-", s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	dots, commas, spaces := strings.Count(s, "."), strings.Count(s, ","), strings.Count(s, " ")
	var dec, grp byte // 0 when absent
	switch {
	case spaces > 0:
		grp = ' '
		switch {
		case dots+commas > 1:
			return "", false
		case dots == 1:
			dec = '.'
		case commas == 1:
			dec = ','
		}
	case dots > 0 && commas > 0:
		dec, grp = ',', '.'
		if strings.LastIndexByte(s, '.') > strings.LastIndexByte(s, ',') {
			dec, grp = '.', ','
		}
	case dots == 1 || commas == 1:
		sep := byte('.')
		if commas == 1 {
			sep = ','
		}
		i := strings.IndexByte(s, sep)
		if len(s)-i-1 == 3 && scale != 3 && i >= 1 && i <= 3 && s[0] != '0' {
			grp = sep
		} else {
			dec = sep
		}
	case dots > 1:
		grp = '.'
	case commas > 1:
		grp = ','
	}
	intPart, frac := s, ""
	if dec != 0 {
		i := strings.LastIndexByte(s, dec)
		intPart, frac = s[:i], s[i+1:]
		if frac == "" || !allDigits(frac) {
			return "", false
		}
	}
	if grp != 0 && strings.IndexByte(intPart, grp) >= 0 {
		g := strings.Split(intPart, string(grp))
		if !money.ValidGroups(g) {
			return "", false
		}
		intPart = strings.Join(g, "")
	}
	if intPart == "" && frac != "" {
		intPart = "0"
	}
	if intPart == "" || !allDigits(intPart) {
		return "", false
	}
	if frac != "" {
		return sign + intPart + "." + frac, true
	}
	return sign + intPart, true
}

// source stamps records with where they came from.
func (r *row) source(u *unit) ledger.Source {
	return ledger.Source{System: string(r.m().format), File: r.p.files[u.file].name, Line: u.line}
}

// customer builds an explicit customer (customers file).
func (r *row) customer(u *unit) (*ledger.Customer, *problem) {
	id, pr := r.id(fCustomerID, true)
	if pr != nil {
		return nil, pr
	}
	name, pr := r.text(fName, true)
	if pr != nil {
		return nil, pr
	}
	kind, pr := r.enum(fCustKind, string(ledger.Business), string(ledger.Business), string(ledger.Consumer))
	if pr != nil {
		return nil, pr
	}
	country, pr := r.country(fCountry, "")
	if pr != nil {
		return nil, pr
	}
	billing, pr := r.enum(fBilling, "", string(ledger.BillingPaper), string(ledger.BillingElectronic))
	if pr != nil {
		return nil, pr
	}
	key, pr := r.boolean(fKeyAccount)
	if pr != nil {
		return nil, pr
	}
	var cur money.Currency
	if v := r.vals[fCurrency]; v != "" {
		if cur, pr = r.currency(); pr != nil {
			return nil, pr
		}
	}
	return &ledger.Customer{
		Tenant: r.p.opts.Tenant, ID: id, Name: name, Kind: ledger.CustomerKind(kind), Country: country,
		Billing: ledger.BillingMedium(billing), Segment: r.vals[fSegment], KeyAcct: key, Currency: cur,
		Source: r.source(u),
	}, nil
}

// impliedCustomer builds the customer account an ERP row implies. The
// country is kept as the source writes it (ledger.Customer allows the
// source's code); only the billing medium has a closed set of values.
func (r *row) impliedCustomer(u *unit) (*ledger.Customer, *problem) {
	id, pr := r.id(fCustomerID, true)
	if pr != nil {
		return nil, pr
	}
	billing, pr := r.enum(fBilling, "", string(ledger.BillingPaper), string(ledger.BillingElectronic))
	if pr != nil {
		return nil, pr
	}
	name := r.vals[fName]
	if name == "" {
		name = id // the export has no name column; the account number stands in
	}
	return &ledger.Customer{
		Tenant: r.p.opts.Tenant, ID: id, Name: name, Kind: ledger.Business, Country: r.vals[fCountry],
		Billing: ledger.BillingMedium(billing), Implied: true, Source: r.source(u),
	}, nil
}

// invoice builds an invoice and, when disputed, its dispute. Checks run in
// a fixed order and stop at the first problem.
func (r *row) invoice(u *unit) (*ledger.Invoice, *ledger.Dispute, *problem) {
	id, pr := r.id(fInvoiceID, true)
	if pr != nil {
		return nil, nil, pr
	}
	cust, pr := r.id(fCustomerID, true)
	if pr != nil {
		return nil, nil, pr
	}
	invDate, pr := r.date(fInvoiceDate, true)
	if pr != nil {
		return nil, nil, pr
	}
	due, pr := r.date(fDueDate, true)
	if pr != nil {
		return nil, nil, pr
	}
	if due.Before(invDate) {
		return nil, nil, &problem{field: r.name(fDueDate), value: r.vals[fDueDate], rule: RuleDueBeforeInvoice,
			reason: fmt.Sprintf("%s %s is before %s %s", r.name(fDueDate), r.vals[fDueDate], r.name(fInvoiceDate), r.vals[fInvoiceDate])}
	}
	cur, pr := r.currency()
	if pr != nil {
		return nil, nil, pr
	}
	amt, ok, pr := r.amount(fAmount, cur)
	if pr != nil {
		return nil, nil, pr
	}
	if !ok {
		return nil, nil, r.missing(fAmount)
	}
	if !amt.IsPositive() {
		return nil, nil, &problem{field: r.name(fAmount), value: r.vals[fAmount], rule: RuleNotPositive,
			reason: fmt.Sprintf("%s %s must be greater than zero", r.name(fAmount), r.vals[fAmount])}
	}
	closed, pr := r.date(fClosedDate, false)
	if pr != nil {
		return nil, nil, pr
	}
	if !closed.IsZero() && closed.Before(invDate) {
		return nil, nil, &problem{field: r.name(fClosedDate), value: r.vals[fClosedDate], rule: RuleClosedBefore,
			reason: fmt.Sprintf("%s %s is before %s %s", r.name(fClosedDate), r.vals[fClosedDate], r.name(fInvoiceDate), r.vals[fInvoiceDate])}
	}
	closedBy := r.closedBy
	if !closed.IsZero() {
		closedBy = r.name(fClosedDate) + " " + r.vals[fClosedDate]
	}
	open, ok, pr := r.amount(fOpenAmount, cur)
	if pr != nil {
		return nil, nil, pr
	}
	on := r.name(fOpenAmount)
	switch {
	case !ok && closedBy != "":
		open = money.New(0, cur)
	case !ok:
		open = amt
	case open.Minor < 0:
		return nil, nil, &problem{field: on, value: r.vals[fOpenAmount], rule: RuleOpenOutOfRange,
			reason: fmt.Sprintf("%s %s is negative", on, r.vals[fOpenAmount])}
	case open.Minor > amt.Minor:
		return nil, nil, &problem{field: on, value: r.vals[fOpenAmount], rule: RuleOpenOutOfRange,
			reason: fmt.Sprintf("%s %s is more than %s %s", on, r.vals[fOpenAmount], r.name(fAmount), r.vals[fAmount])}
	case closedBy != "" && open.Minor != 0:
		return nil, nil, &problem{field: on, value: r.vals[fOpenAmount], rule: RuleClosedWithBalance,
			reason: fmt.Sprintf("the invoice is closed (%s) but %s is %s", closedBy, on, r.vals[fOpenAmount])}
	}
	disputed, pr := r.boolean(fDisputed)
	if pr != nil {
		return nil, nil, pr
	}
	inv := &ledger.Invoice{
		Tenant: r.p.opts.Tenant, ID: id, Customer: cust, InvoiceDate: invDate, DueDate: due,
		Amount: amt, Open: open, Disputed: disputed, ClosedDate: closed, Source: r.source(u),
	}
	if !disputed {
		return inv, nil, nil
	}
	did := "DSP-" + id
	if err := ledger.ValidateID("dispute id", did); err != nil {
		return nil, nil, &problem{field: r.name(fInvoiceID), value: id, rule: RuleInvalidID,
			reason: fmt.Sprintf("%s %s is too long to derive the dispute id from", r.name(fInvoiceID), id)}
	}
	// The exports say an invoice is disputed, not since when: the invoice
	// date is the earliest the dispute can have been raised.
	d := &ledger.Dispute{
		Tenant: r.p.opts.Tenant, ID: did, Customer: cust, Invoice: id, Reason: "disputed in the source system",
		OpenedAt: invDate, Status: ledger.DisputeOpen, Source: inv.Source,
	}
	if !closed.IsZero() {
		d.Status, d.ResolvedAt = ledger.DisputeResolved, closed
	}
	return inv, d, nil
}

// settlementPayment is the payment a settled ibm-ar invoice implies.
func (r *row) settlementPayment(inv *ledger.Invoice) (*ledger.Payment, *problem) {
	pid := "PAY-" + inv.ID
	if err := ledger.ValidateID("payment id", pid); err != nil {
		return nil, &problem{field: r.name(fInvoiceID), value: inv.ID, rule: RuleInvalidID,
			reason: fmt.Sprintf("%s %s is too long to derive the payment id from", r.name(fInvoiceID), inv.ID)}
	}
	return &ledger.Payment{
		Tenant: inv.Tenant, ID: pid, Customer: inv.Customer, Invoice: inv.ID, Amount: inv.Amount,
		ReceivedAt: inv.ClosedDate, Source: inv.Source,
	}, nil
}

// payment builds a payment.
func (r *row) payment(u *unit) (*ledger.Payment, *problem) {
	id, pr := r.id(fPaymentID, true)
	if pr != nil {
		return nil, pr
	}
	cust, pr := r.id(fCustomerID, true)
	if pr != nil {
		return nil, pr
	}
	inv, pr := r.id(fInvoiceID, false)
	if pr != nil {
		return nil, pr
	}
	received, pr := r.date(fReceivedDate, true)
	if pr != nil {
		return nil, pr
	}
	cur, pr := r.currency()
	if pr != nil {
		return nil, pr
	}
	amt, ok, pr := r.amount(fAmount, cur)
	if pr != nil {
		return nil, pr
	}
	if !ok {
		return nil, r.missing(fAmount)
	}
	if !amt.IsPositive() {
		return nil, &problem{field: r.name(fAmount), value: r.vals[fAmount], rule: RuleNotPositive,
			reason: fmt.Sprintf("%s %s must be greater than zero", r.name(fAmount), r.vals[fAmount])}
	}
	return &ledger.Payment{
		Tenant: r.p.opts.Tenant, ID: id, Customer: cust, Invoice: inv, Amount: amt, ReceivedAt: received,
		Reference: r.vals[fReference], Source: r.source(u),
	}, nil
}

// build validates a filled row and attaches its records to the unit; the
// first problem rejects the whole row.
func (p *parser) build(u *unit, r *row) {
	u.kind = r.kind
	u.custName = r.name(fCustomerID)
	for f := range r.vals {
		if n := len(r.vals[f]); n > MaxFieldBytes {
			name := r.name(field(f))
			p.reject(u, &problem{field: name, rule: RuleTooLong,
				reason: fmt.Sprintf("%s is %d bytes long; at most %d are kept", name, n, MaxFieldBytes)})
			return
		}
	}
	switch r.kind {
	case KindCustomers:
		u.idName = r.name(fCustomerID)
		c, pr := r.customer(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		u.cust = c
		p.acceptCustomer(u)
	case KindContacts:
		u.idName = r.name(fContactID)
		c, pr := r.contact(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		u.contact = c
	case KindInvoices:
		u.idName = r.name(fInvoiceID)
		inv, d, pr := r.invoice(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		var pay *ledger.Payment
		if r.m().settlementPayment && !inv.ClosedDate.IsZero() {
			if pay, pr = r.settlementPayment(inv); pr != nil {
				p.reject(u, pr)
				return
			}
			u.payIDName = "payment_id"
		}
		implied, pr := r.implied(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		u.inv, u.disp, u.pay = inv, d, pay
		if implied != nil {
			u.implied, u.impliedAt = implied, inv.InvoiceDate
		}
	case KindPayments:
		u.idName = r.name(fPaymentID)
		u.invRefName = r.name(fInvoiceID)
		pay, pr := r.payment(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		implied, pr := r.implied(u)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		u.pay = pay
		if implied != nil {
			u.implied, u.impliedAt = implied, pay.ReceivedAt
		}
	}
}

// implied builds the customer an ERP row implies (nil for canonical rows).
func (r *row) implied(u *unit) (*ledger.Customer, *problem) {
	if r.b == nil || len(r.b.cust) == 0 {
		return nil, nil
	}
	c := row{p: r.p, b: r.b, kind: KindCustomers, names: r.b.custNames, rec: r.rec}
	if pr := r.b.fill(&c, r.b.cust); pr != nil {
		return nil, pr
	}
	return c.impliedCustomer(u)
}
