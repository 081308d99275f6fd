package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// A mapping describes one format as data: which source column feeds which
// canonical field, how rows are classified, which date layouts and null-date
// sentinels the source uses. Adding an ERP means adding one mapping value
// (plus, at most, a small derive function for fields the export computes
// from several columns); the validation is shared.
type mapping struct {
	format Format
	// kinds gives, per kind of record the format yields, the columns of
	// each canonical field.
	kinds map[Kind][]colMap
	// customer gives the columns of the customer account each export row
	// implies (ERP formats only).
	customer []colMap
	// classCol classifies ERP rows; "" means every row is classes[0].
	classCol string
	classes  []rowClass
	// extraRequired are columns derive reads that the header must have.
	extraRequired []string
	// known are columns the format deliberately does not use, so the report
	// does not list them as unknown.
	known []string
	// dateLayouts are tried in order (time.Parse layouts).
	dateLayouts []string
	dateHint    string
	// nullRaw and nullDates are the values an ERP writes for "no date"
	// (EBS 31-DEC-4712, SAP 00000000, D365 1900-01-01).
	nullRaw   []string
	nullDates []time.Time
	// decimalComma allows amounts like 1.234,56 (see parseLocaleAmount).
	decimalComma bool
	// currency is the default when the export has no currency column and
	// Options.DefaultCurrency is zero.
	currency string
	// derivedNames name canonical fields that derive computes, for rejects.
	derivedNames map[field]string
	// derive computes fields from several source columns after the plain
	// column copy; a problem rejects the row.
	derive func(r *row) *problem
	// settlementPayment: a settled invoice row also yields a payment of the
	// full amount on the settlement date, applied to it (ibm-ar).
	settlementPayment bool
}

// colMap feeds one canonical field from the source.
type colMap struct {
	f field
	// cols are alternatives: the first one present in the header is used.
	cols []string
	// parts, instead of cols, are joined with "-" into a composite key
	// (SAP documents are only unique per company code and fiscal year).
	parts    []string
	required bool
	conv     conv
}

// conv converts a source value into the canonical field's form.
type conv int

const (
	_ conv = iota // the zero value: the value is used as it is
	// convNonZero reads an amount as a flag: non-zero means true (EBS
	// AMOUNT_IN_DISPUTE says how much of the invoice is disputed).
	convNonZero
)

// rowClass is one value (or set of values) of an ERP's classifying column.
type rowClass struct {
	values []string // case-insensitive
	label  string   // how messages name such rows
	kind   Kind
	// credit: the export stores these amounts as negative numbers (receipts
	// are credits to the customer account); they are flipped to positive.
	credit bool
	// unsupported rows are rejected with this explanation.
	unsupported string
}

func cols(c ...string) []string { return c }

// canonicalMapping reads FORMAT.md's own columns.
var canonicalMapping = func() *mapping {
	m := &mapping{
		format:      FormatCanonical,
		kinds:       map[Kind][]colMap{},
		dateLayouts: []string{"2006-01-02", time.RFC3339Nano},
		dateHint:    "YYYY-MM-DD",
	}
	for k, cs := range canonicalColumns {
		for _, c := range cs {
			m.kinds[k] = append(m.kinds[k], colMap{f: c.f, cols: cols(fieldNames[c.f]), required: c.required})
		}
	}
	return m
}()

// oracleEBSMapping reads AR_PAYMENT_SCHEDULES_ALL rows joined with the
// customer account (HZ_CUST_ACCOUNTS.ACCOUNT_NUMBER, HZ_PARTIES.PARTY_NAME).
var oracleEBSMapping = &mapping{
	format: FormatOracleEBS,
	kinds: map[Kind][]colMap{
		KindInvoices: {
			{f: fInvoiceID, cols: cols("TRX_NUMBER"), required: true},
			{f: fCustomerID, cols: cols("ACCOUNT_NUMBER", "CUSTOMER_ID"), required: true},
			{f: fInvoiceDate, cols: cols("TRX_DATE"), required: true},
			{f: fDueDate, cols: cols("DUE_DATE"), required: true},
			{f: fAmount, cols: cols("AMOUNT_DUE_ORIGINAL"), required: true},
			{f: fOpenAmount, cols: cols("AMOUNT_DUE_REMAINING"), required: true},
			{f: fCurrency, cols: cols("INVOICE_CURRENCY_CODE"), required: true},
			{f: fClosedDate, cols: cols("ACTUAL_DATE_CLOSED")},
			{f: fDisputed, cols: cols("AMOUNT_IN_DISPUTE"), conv: convNonZero},
		},
		KindPayments: {
			// PAYMENT_SCHEDULE_ID is the table's key; receipt numbers
			// (TRX_NUMBER on PMT rows) are not unique across receipt methods.
			{f: fPaymentID, cols: cols("PAYMENT_SCHEDULE_ID"), required: true},
			{f: fCustomerID, cols: cols("ACCOUNT_NUMBER", "CUSTOMER_ID"), required: true},
			{f: fReceivedDate, cols: cols("TRX_DATE"), required: true},
			{f: fAmount, cols: cols("AMOUNT_DUE_ORIGINAL"), required: true},
			{f: fCurrency, cols: cols("INVOICE_CURRENCY_CODE"), required: true},
			{f: fReference, cols: cols("TRX_NUMBER")},
		},
	},
	customer: []colMap{
		{f: fCustomerID, cols: cols("ACCOUNT_NUMBER", "CUSTOMER_ID"), required: true},
		{f: fName, cols: cols("PARTY_NAME", "CUSTOMER_NAME")},
	},
	classCol: "CLASS",
	classes: []rowClass{
		{values: cols("INV"), label: "INV (invoice)", kind: KindInvoices},
		{values: cols("DM"), label: "DM (debit memo)", kind: KindInvoices},
		{values: cols("PMT"), label: "PMT (receipt)", kind: KindPayments, credit: true},
		{values: cols("CM"), label: "CM (credit memo)", unsupported: "credit memos are not imported yet; apply them in EBS or wait for credit support"},
	},
	known: cols("STATUS", "CUSTOMER_TRX_ID", "CASH_RECEIPT_ID", "CUSTOMER_SITE_USE_ID", "GL_DATE",
		"TERMS_SEQUENCE_NUMBER", "ORG_ID", "AMOUNT_APPLIED", "AMOUNT_CREDITED", "AMOUNT_ADJUSTED",
		"EXCHANGE_RATE", "NUMBER_OF_DUE_DATES", "GL_DATE_CLOSED"),
	dateLayouts: []string{"2-Jan-2006", "2006-01-02", "2-Jan-2006 15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05"},
	dateHint:    "DD-MON-YYYY or YYYY-MM-DD",
	nullDates:   []time.Time{ledger.Date(4712, time.December, 31)},
	derive:      ebsDerive,
}

// ebsDerive applies STATUS: OP rows are open whatever ACTUAL_DATE_CLOSED
// says, CL rows are closed and must have no remaining balance.
func ebsDerive(r *row) *problem {
	if r.kind != KindInvoices {
		return nil
	}
	st, name := r.src("STATUS")
	switch strings.ToUpper(st) {
	case "":
	case "OP":
		r.vals[fClosedDate] = ""
	case "CL":
		r.closedBy = name + " CL"
	default:
		return &problem{field: name, value: st, rule: RuleInvalidValue,
			reason: fmt.Sprintf("%s %s is not OP (open) or CL (closed)", name, st)}
	}
	return nil
}

// sapFIMapping reads FI customer line items (BSID open, BSAD cleared).
var sapFIMapping = &mapping{
	format: FormatSAPFI,
	kinds: map[Kind][]colMap{
		KindInvoices: {
			{f: fInvoiceID, parts: cols("BUKRS", "BELNR", "GJAHR"), required: true},
			{f: fCustomerID, cols: cols("KUNNR"), required: true},
			{f: fInvoiceDate, cols: cols("BLDAT"), required: true},
			{f: fAmount, cols: cols("WRBTR"), required: true},
			{f: fCurrency, cols: cols("WAERS"), required: true},
			{f: fClosedDate, cols: cols("AUGDT")},
		},
		KindPayments: {
			{f: fPaymentID, parts: cols("BUKRS", "BELNR", "GJAHR"), required: true},
			{f: fCustomerID, cols: cols("KUNNR"), required: true},
			{f: fReceivedDate, cols: cols("BUDAT"), required: true},
			{f: fAmount, cols: cols("WRBTR"), required: true},
			{f: fCurrency, cols: cols("WAERS"), required: true},
			{f: fReference, cols: cols("XBLNR")},
		},
	},
	customer: []colMap{
		{f: fCustomerID, cols: cols("KUNNR"), required: true},
		{f: fName, cols: cols("NAME1")},
		{f: fCountry, cols: cols("LAND1")},
	},
	classCol: "SHKZG",
	classes: []rowClass{
		{values: cols("S"), label: "S (debit)", kind: KindInvoices},
		{values: cols("H"), label: "H (credit)", kind: KindPayments},
	},
	extraRequired: cols("ZFBDT", "ZBD1T"),
	known:         cols("BUZEI", "AUGBL", "BLART", "ZBD2T", "ZBD3T", "ZTERM", "DMBTR", "SGTXT", "UMSKZ", "MANDT", "ZUONR"),
	dateLayouts:   []string{"20060102", "02.01.2006", "2006-01-02"},
	dateHint:      "YYYYMMDD or DD.MM.YYYY",
	nullRaw:       cols("00000000", "00.00.0000"),
	decimalComma:  true,
	derivedNames:  map[field]string{fDueDate: "ZFBDT+ZBD1T"},
	derive:        sapDerive,
}

// sapDerive computes the net due date (baseline date plus the days of the
// first payment term) and keeps only cleared credits as payments: an open
// credit item is a credit memo or unapplied cash, which needs credit support.
func sapDerive(r *row) *problem {
	switch r.kind {
	case KindInvoices:
		base, baseName := r.src("ZFBDT")
		if r.m().isNullDate(base) {
			base = ""
		}
		if base == "" {
			return &problem{field: baseName, rule: RuleMissing, reason: baseName + " (baseline date for the due date) is missing"}
		}
		t, pr := r.parseDate(baseName, base)
		if pr != nil {
			return pr
		}
		ds, dname := r.src("ZBD1T")
		days := 0
		if ds != "" {
			n, err := strconv.Atoi(ds)
			if err != nil || n < 0 || n > 9999 {
				return &problem{field: dname, value: ds, rule: RuleInvalidValue,
					reason: fmt.Sprintf("%s %s is not a number of days", dname, ds)}
			}
			days = n
		}
		r.vals[fDueDate] = t.AddDate(0, 0, days).Format("2006-01-02")
	case KindPayments:
		if bt, name := r.src("BLART"); strings.EqualFold(bt, "DG") {
			return &problem{field: name, value: bt, rule: RuleUnsupported,
				reason: "credit memos (document type DG) are not imported yet"}
		}
		if aug, name := r.src("AUGDT"); aug == "" || r.m().isNullDate(aug) {
			return &problem{field: name, value: aug, rule: RuleUnsupported,
				reason: "open credit items (SHKZG H not cleared: credit memos or payments on account) are not imported yet"}
		}
	}
	return nil
}

// d365Mapping reads Dynamics 365 Finance customer transactions (CustTrans).
var d365Mapping = &mapping{
	format: FormatD365,
	kinds: map[Kind][]colMap{
		KindInvoices: {
			{f: fInvoiceID, cols: cols("Invoice"), required: true},
			{f: fCustomerID, cols: cols("AccountNum"), required: true},
			{f: fInvoiceDate, cols: cols("TransDate"), required: true},
			{f: fDueDate, cols: cols("DueDate"), required: true},
			{f: fAmount, cols: cols("AmountCur"), required: true},
			{f: fCurrency, cols: cols("CurrencyCode"), required: true},
			{f: fClosedDate, cols: cols("Closed"), required: true},
		},
		KindPayments: {
			{f: fPaymentID, cols: cols("Voucher"), required: true},
			{f: fCustomerID, cols: cols("AccountNum"), required: true},
			{f: fReceivedDate, cols: cols("TransDate"), required: true},
			{f: fAmount, cols: cols("AmountCur"), required: true},
			{f: fCurrency, cols: cols("CurrencyCode"), required: true},
			{f: fReference, cols: cols("PaymReference", "Txt")},
		},
	},
	customer: []colMap{
		{f: fCustomerID, cols: cols("AccountNum"), required: true},
		{f: fName, cols: cols("Name", "CustName", "OrganizationName")},
	},
	classCol: "TransType",
	classes: []rowClass{
		{values: cols("Invoice", "Sales", "Sales order"), label: "invoice", kind: KindInvoices},
		{values: cols("Payment"), label: "Payment", kind: KindPayments, credit: true},
	},
	extraRequired: cols("SettleAmountCur"),
	known:         cols("RecId", "DataAreaId", "LastSettleDate", "PostingProfile", "ExchRate", "PaymMode", "Approved"),
	dateLayouts:   []string{"2006-01-02", "2006-01-02T15:04:05", time.RFC3339Nano, "1/2/2006", "1/2/2006 15:04:05", "1/2/2006 3:04:05 PM"},
	dateHint:      "YYYY-MM-DD or M/D/YYYY",
	nullDates:     []time.Time{minDate},
	derivedNames:  map[field]string{fOpenAmount: "AmountCur-SettleAmountCur"},
	derive:        d365Derive,
}

// d365Derive computes the open balance: CustTrans keeps the original amount
// and the settled part, not the remainder.
func d365Derive(r *row) *problem {
	if r.kind != KindInvoices {
		return nil
	}
	cur, pr := r.currency()
	if pr != nil {
		return pr
	}
	amt, ok, pr := r.amount(fAmount, cur)
	if pr != nil || !ok {
		return pr // a missing amount is reported by the invoice builder
	}
	sv, sname := r.src("SettleAmountCur")
	settled, pr := r.parseAmountText(sname, sv, cur, false)
	if pr != nil {
		return pr
	}
	open, err := amt.Sub(settled)
	if err != nil {
		return &problem{field: sname, value: sv, rule: RuleInvalidAmount,
			reason: fmt.Sprintf("%s %s cannot be subtracted from %s", sname, sv, r.vals[fAmount])}
	}
	r.vals[fOpenAmount] = open.Decimal()
	return nil
}

// ibmARMapping reads the IBM Watson Analytics accounts-receivable sample:
// one row per invoice, settled invoices yield their payment.
var ibmARMapping = &mapping{
	format: FormatIBMAR,
	kinds: map[Kind][]colMap{
		KindInvoices: {
			{f: fInvoiceID, cols: cols("invoiceNumber"), required: true},
			{f: fCustomerID, cols: cols("customerID"), required: true},
			{f: fInvoiceDate, cols: cols("InvoiceDate"), required: true},
			{f: fDueDate, cols: cols("DueDate"), required: true},
			{f: fAmount, cols: cols("InvoiceAmount"), required: true},
			{f: fDisputed, cols: cols("Disputed")},
			{f: fClosedDate, cols: cols("SettledDate")},
		},
	},
	customer: []colMap{
		{f: fCustomerID, cols: cols("customerID"), required: true},
		{f: fCountry, cols: cols("countryCode")},
		{f: fBilling, cols: cols("PaperlessBill")},
	},
	classes:           []rowClass{{label: "invoice", kind: KindInvoices}},
	known:             cols("PaperlessDate", "DaysToSettle", "DaysLate"),
	dateLayouts:       []string{"1/2/2006", "2006-01-02"},
	dateHint:          "M/D/YYYY",
	currency:          "USD",
	settlementPayment: true,
}

// mappingFor returns the mapping of a format, nil when unknown.
func mappingFor(f Format) *mapping {
	switch f {
	case FormatCanonical, "":
		return canonicalMapping
	case FormatOracleEBS:
		return oracleEBSMapping
	case FormatSAPFI:
		return sapFIMapping
	case FormatD365:
		return d365Mapping
	case FormatIBMAR:
		return ibmARMapping
	}
	return nil
}

func (m *mapping) isERP() bool { return m.format != FormatCanonical }

// isNullDate reports whether v is this source's "no date" value.
func (m *mapping) isNullDate(v string) bool {
	for _, n := range m.nullRaw {
		if strings.EqualFold(v, n) {
			return true
		}
	}
	if len(m.nullDates) == 0 {
		return false
	}
	t, ok, _ := m.parseDate(v)
	if !ok {
		return false
	}
	for _, n := range m.nullDates {
		if t.Equal(n) {
			return true
		}
	}
	return false
}

// parseDate tries the layouts in order and returns UTC midnight of the
// date. A timestamp counts on the calendar date written in it, whatever its
// offset: 2026-01-01T20:00:00-08:00 is the ERP's January 1st, not the UTC
// January 2nd. outOfRange tells an impossible date (2026-02-30) from an
// unreadable one.
func (m *mapping) parseDate(v string) (t time.Time, ok, outOfRange bool) {
	for _, l := range m.dateLayouts {
		p, err := time.Parse(l, v)
		if err == nil {
			y, mo, d := p.Date()
			return ledger.Date(y, mo, d), true, false
		}
		if strings.Contains(err.Error(), "out of range") {
			outOfRange = true
		}
	}
	return time.Time{}, false, outOfRange
}
