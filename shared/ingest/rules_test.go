package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

const (
	hdrInv  = "invoice_id,customer_id,invoice_date,due_date,amount,open_amount,currency,disputed,closed_date\n"
	hdrPay  = "payment_id,customer_id,invoice_id,amount,currency,received_date,reference\n"
	hdrCust = "customer_id,name,kind,country,billing,segment,key_account,currency\n"
	hdrCont = "customer_id,contact_id,kind,phone,line_type,email,employer_provided,line1,line2,city,state,zip,country,consent,consent_at\n"
	okInv   = "I1,C1,2026-01-05,2026-02-04,10.00,,USD,,\n"
)

// TestValidationRules runs one tiny file per rule. Customers C1 and C2 are
// in the ledger; every row of a case but the one named in want is valid.
func TestValidationRules(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name   string
		file   string
		want   []rj
		reason string // substring of the first reject's reason
	}{
		// invoices
		{"valid invoice", hdrInv + okInv, nil, ""},
		{"missing invoice_id", hdrInv + ",C1,2026-01-05,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_id", RuleMissing}}, "invoice_id is missing"},
		{"missing customer_id", hdrInv + "I1,,2026-01-05,2026-02-04,10.00,,USD,,\n", []rj{{2, "customer_id", RuleMissing}}, ""},
		{"missing invoice_date", hdrInv + "I1,C1,,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_date", RuleMissing}}, ""},
		{"missing due_date", hdrInv + "I1,C1,2026-01-05,,10.00,,USD,,\n", []rj{{2, "due_date", RuleMissing}}, ""},
		{"missing amount", hdrInv + "I1,C1,2026-01-05,2026-02-04,,,USD,,\n", []rj{{2, "amount", RuleMissing}}, ""},
		{"empty currency cell", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,,,\n", []rj{{2, "currency", RuleMissing}}, ""},
		{"id with #", hdrInv + "I#1,C1,2026-01-05,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_id", RuleInvalidID}}, "'#'"},
		{"id too long", hdrInv + long + ",C1,2026-01-05,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_id", RuleInvalidID}}, "128 bytes"},
		{"impossible date", hdrInv + "I1,C1,2026-02-30,2026-03-04,10.00,,USD,,\n", []rj{{2, "invoice_date", RuleInvalidDate}}, "invoice_date 2026-02-30 is not a real calendar date"},
		{"month 13", hdrInv + "I1,C1,2026-01-05,2026-13-04,10.00,,USD,,\n", []rj{{2, "due_date", RuleInvalidDate}}, ""},
		{"unreadable date", hdrInv + "I1,C1,5 Jan 2026,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_date", RuleInvalidDate}}, "expected YYYY-MM-DD"},
		{"before 1900", hdrInv + "I1,C1,1899-12-31,2026-02-04,10.00,,USD,,\n", []rj{{2, "invoice_date", RuleDateRange}}, "before 1900"},
		{"5 years ahead is fine", hdrInv + "I1,C1,2026-01-05,2031-03-01,10.00,,USD,,\n", nil, ""},
		{"over 5 years ahead", hdrInv + "I1,C1,2026-01-05,2031-03-02,10.00,,USD,,\n", []rj{{2, "due_date", RuleDateRange}}, "more than 5 years"},
		{"due before invoice", hdrInv + "I1,C1,2026-02-01,2026-01-01,10.00,,USD,,\n", []rj{{2, "due_date", RuleDueBeforeInvoice}}, "due_date 2026-01-01 is before invoice_date 2026-02-01"},
		{"due on invoice date", hdrInv + "I1,C1,2026-02-01,2026-02-01,10.00,,USD,,\n", nil, ""},
		{"closed before invoice", hdrInv + "I1,C1,2026-02-01,2026-03-01,10.00,,USD,,2026-01-31\n", []rj{{2, "closed_date", RuleClosedBefore}}, "closed_date 2026-01-31 is before invoice_date 2026-02-01"},
		{"closed with balance", hdrInv + "I1,C1,2026-02-01,2026-03-01,10.00,4.00,USD,,2026-02-10\n", []rj{{2, "open_amount", RuleClosedWithBalance}}, ""},
		{"unknown currency", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,ABC,,\n", []rj{{2, "currency", RuleUnknownCurrency}}, "ABC is not an ISO 4217"},
		{"too many decimals USD", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.001,,USD,,\n", []rj{{2, "amount", RuleTooManyDecimals}}, "more decimals than USD allows (2)"},
		{"decimals for JPY", hdrInv + "I1,C1,2026-01-05,2026-02-04,1000.5,,JPY,,\n", []rj{{2, "amount", RuleTooManyDecimals}}, ""},
		{"three decimals KWD", hdrInv + "I1,C1,2026-01-05,2026-02-04,1.234,,KWD,,\n", nil, ""},
		{"trailing zeros are not decimals", hdrInv + "I1,C1,2026-01-05,2026-02-04,55.940,,USD,,\n", nil, ""},
		{"negative amount", hdrInv + "I1,C1,2026-01-05,2026-02-04,-10.00,,USD,,\n", []rj{{2, "amount", RuleNotPositive}}, "must be greater than zero"},
		{"zero amount", hdrInv + "I1,C1,2026-01-05,2026-02-04,0,,USD,,\n", []rj{{2, "amount", RuleNotPositive}}, ""},
		{"decimal comma", hdrInv + "I1,C1,2026-01-05,2026-02-04,\"10,5\",,USD,,\n", []rj{{2, "amount", RuleInvalidAmount}}, "use a dot"},
		{"exponent", hdrInv + "I1,C1,2026-01-05,2026-02-04,1e3,,USD,,\n", []rj{{2, "amount", RuleInvalidAmount}}, ""},
		{"open above amount", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,10.01,USD,,\n", []rj{{2, "open_amount", RuleOpenOutOfRange}}, "open_amount 10.01 is more than amount 10.00"},
		{"open negative", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,-0.01,USD,,\n", []rj{{2, "open_amount", RuleOpenOutOfRange}}, ""},
		{"bad boolean", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,USD,perhaps,\n", []rj{{2, "disputed", RuleInvalidValue}}, ""},
		{"unknown customer", hdrInv + "I1,C9,2026-01-05,2026-02-04,10.00,,USD,,\n", []rj{{2, "customer_id", RuleUnknownCustomer}}, "customer_id C9 is not a customer"},
		{"duplicate invoice", hdrInv + okInv + "I2,C1,2026-01-05,2026-02-04,10.00,,USD,,\n" + okInv, []rj{{4, "invoice_id", RuleDuplicate}}, "invoice_id I1 already appears in f.csv line 2"},
		{"first of duplicates rejected", hdrInv + "I1,C1,2026-02-30,2026-02-04,10.00,,USD,,\n" + okInv, []rj{{2, "invoice_date", RuleInvalidDate}}, ""},
		{"too few fields", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00\n", []rj{{2, "", RuleFieldCount}}, "5 fields but the header has 9"},
		{"too many fields", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,USD,,,x\n", []rj{{2, "", RuleFieldCount}}, ""},
		{"bare quote", hdrInv + "I1,C\"1,2026-01-05,2026-02-04,10.00,,USD,,\n" + okInv, []rj{{2, "", RuleMalformed}}, "not valid CSV"},
		{"not UTF-8", hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,USD,,\xff\n", []rj{{2, "", RuleEncoding}}, ""},
		{"blank rows skipped", hdrInv + "\n" + okInv + ",,,,,,,,\n\n", nil, ""},
		{"lines count inside quoted fields", hdrInv + "\"I\n1\",C1,2026-01-05,2026-02-04,10.00,,USD,,\nI2,C9,2026-01-05,2026-02-04,10.00,,USD,,\n",
			[]rj{{2, "invoice_id", RuleInvalidID}, {4, "customer_id", RuleUnknownCustomer}}, "contains '\\n'"},

		// payments
		{"valid payment", hdrPay + "P1,C1,I1,10.00,USD,2026-02-01,ref\n", nil, ""},
		{"missing payment_id", hdrPay + ",C1,,10.00,USD,2026-02-01,\n", []rj{{2, "payment_id", RuleMissing}}, ""},
		{"missing received_date", hdrPay + "P1,C1,,10.00,USD,,\n", []rj{{2, "received_date", RuleMissing}}, ""},
		{"payment negative", hdrPay + "P1,C1,,-10.00,USD,2026-02-01,\n", []rj{{2, "amount", RuleNotPositive}}, ""},
		{"payment invoice id with #", hdrPay + "P1,C1,I#1,10.00,USD,2026-02-01,\n", []rj{{2, "invoice_id", RuleInvalidID}}, ""},
		{"payment unknown customer", hdrPay + "P1,C7,,10.00,USD,2026-02-01,\n", []rj{{2, "customer_id", RuleUnknownCustomer}}, ""},
		{"duplicate payment", hdrPay + "P1,C1,,10.00,USD,2026-02-01,\nP1,C2,,12.00,USD,2026-02-02,\n", []rj{{3, "payment_id", RuleDuplicate}}, "line 2"},

		// customers
		{"valid customer", hdrCust + "C5,Acme,business,US,paper,smb,yes,USD\n", nil, ""},
		{"customer missing name", hdrCust + "C5,,,,,,,\n", []rj{{2, "name", RuleMissing}}, ""},
		{"customer bad kind", hdrCust + "C5,Acme,government,,,,,\n", []rj{{2, "kind", RuleInvalidValue}}, "business, consumer"},
		{"customer bad country", hdrCust + "C5,Acme,,USA,,,,\n", []rj{{2, "country", RuleInvalidValue}}, ""},
		{"customer bad billing", hdrCust + "C5,Acme,,,fax,,,\n", []rj{{2, "billing", RuleInvalidValue}}, ""},
		{"customer bad currency", hdrCust + "C5,Acme,,,,,,XXX\n", []rj{{2, "currency", RuleUnknownCurrency}}, ""},
		{"duplicate customer", hdrCust + "C5,Acme,,,,,,\nC5,Acme Corp,,,,,,\n", []rj{{3, "customer_id", RuleDuplicate}}, "customer_id C5 already appears in f.csv line 2"},

		// contacts
		{"valid phone", hdrCont + "C1,P1,phone,(617) 253-1000,work,,,,,,,,,,\n", nil, ""},
		{"phone too short", hdrCont + "C1,P1,phone,12345,,,,,,,,,,,\n", []rj{{2, "phone", RuleInvalidPhone}}, ""},
		{"phone not a number", hdrCont + "C1,P1,phone,call me,,,,,,,,,,,\n", []rj{{2, "phone", RuleInvalidPhone}}, ""},
		{"phone invalid for region", hdrCont + "C1,P1,phone,+1 555 555 5555,,,,,,,,,,,\n", []rj{{2, "phone", RuleInvalidPhone}}, ""},
		{"phone missing", hdrCont + "C1,P1,phone,,,,,,,,,,,,\n", []rj{{2, "phone", RuleMissing}}, ""},
		{"bad line type", hdrCont + "C1,P1,phone,(617) 253-1000,pager,,,,,,,,,,\n", []rj{{2, "line_type", RuleInvalidValue}}, ""},
		{"valid email", hdrCont + "C1,E1,email,,,ap@acme.com,yes,,,,,,,,\n", nil, ""},
		{"email without @", hdrCont + "C1,E1,email,,,ap.acme.com,,,,,,,,,\n", []rj{{2, "email", RuleInvalidEmail}}, ""},
		{"email with display name", hdrCont + "C1,E1,email,,,Dana <dana@acme.com>,,,,,,,,,\n", []rj{{2, "email", RuleInvalidEmail}}, ""},
		{"email without dotted domain", hdrCont + "C1,E1,email,,,dana@localhost,,,,,,,,,\n", []rj{{2, "email", RuleInvalidEmail}}, ""},
		{"valid US postal", hdrCont + "C1,A1,postal,,,,,1 Main St,,Boston,ma,02108-1234,US,,\n", nil, ""},
		{"bad US state", hdrCont + "C1,A1,postal,,,,,1 Main St,,Boston,ZZ,02108,,,\n", []rj{{2, "state", RuleInvalidState}}, ""},
		{"missing US state", hdrCont + "C1,A1,postal,,,,,1 Main St,,Boston,,02108,,,\n", []rj{{2, "state", RuleMissing}}, ""},
		{"bad ZIP", hdrCont + "C1,A1,postal,,,,,1 Main St,,Boston,MA,2108,,,\n", []rj{{2, "zip", RuleInvalidZIP}}, ""},
		{"non-US postal has no state rules", hdrCont + "C1,A1,postal,,,,,10 Downing St,,London,,SW1A 2AA,GB,,\n", nil, ""},
		{"postal missing line1", hdrCont + "C1,A1,postal,,,,,,,Boston,MA,02108,,,\n", []rj{{2, "line1", RuleMissing}}, ""},
		{"bad contact kind", hdrCont + "C1,X1,fax,,,,,,,,,,,,\n", []rj{{2, "kind", RuleInvalidValue}}, ""},
		{"email on a phone row", hdrCont + "C1,P1,phone,(617) 253-1000,,a@b.com,,,,,,,,,\n", []rj{{2, "email", RuleConflict}}, ""},
		{"bad consent", hdrCont + "C1,E1,email,,,ap@acme.com,,,,,,,,maybe,\n", []rj{{2, "consent", RuleInvalidValue}}, ""},
		{"bad consent_at", hdrCont + "C1,E1,email,,,ap@acme.com,,,,,,,,granted,2026-01-01\n", []rj{{2, "consent_at", RuleInvalidDate}}, ""},
		{"contact unknown customer", hdrCont + "C8,E1,email,,,ap@acme.com,,,,,,,,,\n", []rj{{2, "customer_id", RuleUnknownCustomer}}, ""},
		{"duplicate contact", hdrCont + "C1,E1,email,,,ap@acme.com,,,,,,,,,\nC2,E1,email,,,ar@acme.com,,,,,,,,,\n", []rj{{3, "contact_id", RuleDuplicate}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, opts(FormatCanonical), newLookup("C1", "C2"), csvFile("f.csv", tt.file))
			if d := cmp.Diff(tt.want, rejectsOf(b)); d != "" {
				t.Fatalf("rejects (-want +got):\n%s\n%+v", d, b.Rejects)
			}
			if tt.reason != "" && !strings.Contains(b.Rejects[0].Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", b.Rejects[0].Reason, tt.reason)
			}
		})
	}
}

// TestBadRows reads testdata/bad_rows.csv, where every row but BAD-001 and
// BAD-026 breaks one rule; the table says which line breaks which.
func TestBadRows(t *testing.T) {
	want := []rj{
		{3, "", RuleFieldCount},
		{4, "invoice_id", RuleMissing},
		{5, "invoice_id", RuleInvalidID},
		{6, "invoice_date", RuleInvalidDate},
		{7, "invoice_date", RuleInvalidDate},
		{8, "invoice_date", RuleDateRange},
		{9, "due_date", RuleDateRange},
		{10, "due_date", RuleDueBeforeInvoice},
		{11, "closed_date", RuleClosedBefore},
		{12, "currency", RuleUnknownCurrency},
		{13, "amount", RuleTooManyDecimals},
		{14, "amount", RuleNotPositive},
		{15, "amount", RuleNotPositive},
		{16, "open_amount", RuleOpenOutOfRange},
		{17, "open_amount", RuleOpenOutOfRange},
		{18, "open_amount", RuleClosedWithBalance},
		{19, "amount", RuleInvalidAmount},
		{20, "disputed", RuleInvalidValue},
		{21, "customer_id", RuleUnknownCustomer},
		{22, "invoice_id", RuleDuplicate},
		{23, "currency", RuleMissing},
		{24, "", RuleMalformed},
		{26, "amount", RuleInvalidAmount},
	}
	b := mustParse(t, opts(FormatCanonical), newLookup("C-1001"), testdataFile(t, "bad_rows.csv"))
	if d := cmp.Diff(want, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if got := summaries(b.Invoices, func(i ledger.Invoice) string { return i.ID }); !cmp.Equal(got, []string{"BAD-001", "BAD-026"}) {
		t.Errorf("accepted %v", got)
	}
	f := b.Files[0]
	if f.Read != 25 || f.Accepted != 2 || f.Rejected != 23 || f.Blank != 1 {
		t.Errorf("stats = %+v", f)
	}
	dup := b.Rejects[19]
	if dup.Reason != "invoice_id BAD-001 already appears in bad_rows.csv line 2" || dup.Record != "row 21" ||
		dup.Raw != "BAD-001,C-1001,2026-01-06,2026-02-05,200.00,,USD,," {
		t.Errorf("duplicate reject = %+v", dup)
	}
}

// TestUnclosedQuoteFailsTheFile: an unclosed quote would swallow every later
// line into one record, so the file is refused rather than one "row"
// rejected and the rest silently lost.
func TestUnclosedQuoteFailsTheFile(t *testing.T) {
	content := hdrInv +
		"I1,C1,2026-01-05,2026-02-04,10.00,,USD,,\n" +
		"I2,\"C1,2026-01-05,2026-02-04,10.00,,USD,,\n" +
		"I3,C1,2026-01-05,2026-02-04,10.00,,USD,,\n" +
		"I4,C1,2026-01-05,2026-02-04,10.00,,USD,,\n"
	b, err := Parse(context.Background(), opts(FormatCanonical), []File{csvFile("inv.csv", content)}, newLookup("C1"))
	if err == nil {
		t.Fatalf("Parse accepted a file with an unclosed quote: %d invoices, %d rejects", len(b.Invoices), len(b.Rejects))
	}
	for _, want := range []string{"inv.csv", "line 3", "not closed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestOverlongValueIsRejectedNotWritten(t *testing.T) {
	long := strings.Repeat("x", MaxFieldBytes+1)
	b := mustParse(t, opts(FormatCanonical), nil,
		csvFile("customers.csv", "customer_id,name\nC1,"+long+"\nC2,Birch Bakery\n"))
	if diff := cmp.Diff([]rj{{2, "name", RuleTooLong}}, rejectsOf(b)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if len(b.Customers) != 1 || b.Customers[0].ID != "C2" {
		t.Errorf("customers = %+v, want only C2", b.Customers)
	}
}

func TestTimestampCountsOnItsWrittenDate(t *testing.T) {
	b := mustParse(t, opts(FormatCanonical), newLookup("C1"), csvFile("inv.csv", hdrInv+
		"I1,C1,2026-01-01T20:00:00-08:00,2026-01-01,10.00,,USD,,\n"))
	if len(b.Rejects) != 0 {
		t.Fatalf("rejects: %+v", b.Rejects)
	}
	if got := b.Invoices[0].InvoiceDate.Format("2006-01-02"); got != "2026-01-01" {
		t.Errorf("invoice date = %s, want 2026-01-01", got)
	}
}

// ledgerWithInvoices is a lookup that also knows the ledger's invoice owners.
type ledgerWithInvoices struct {
	*memLookup
	owners map[string]InvoiceOwner
}

func (l ledgerWithInvoices) InvoiceOwners(_ context.Context, _ ledger.TenantID, ids []string) (map[string]InvoiceOwner, error) {
	out := map[string]InvoiceOwner{}
	for _, id := range ids {
		if o, ok := l.owners[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func TestInvoiceNumbersAreUniquePerTenantAcrossImports(t *testing.T) {
	usd := money.MustCurrency("USD")
	lk := ledgerWithInvoices{newLookup("C1", "C2"), map[string]InvoiceOwner{
		"I1": {Customer: "C1", Currency: usd},
		"I9": {Customer: "C2", Currency: money.MustCurrency("EUR")},
	}}
	tests := []struct {
		name string
		file File
		want []rj
	}{
		{"same invoice, same customer: an update", csvFile("inv.csv", hdrInv+"I1,C1,2026-01-05,2026-02-04,10.00,,USD,,\n"), nil},
		{"same number under another customer", csvFile("inv.csv", hdrInv+"I1,C2,2026-01-05,2026-02-04,10.00,,USD,,\n"),
			[]rj{{2, "invoice_id", RuleDuplicate}}},
		{"payment for another customer's ledger invoice", csvFile("pay.csv", hdrPay+"P1,C2,I1,5.00,USD,2026-02-01,\n"),
			[]rj{{2, "invoice_id", RulePaymentMismatch}}},
		{"payment in another currency than its ledger invoice", csvFile("pay.csv", hdrPay+"P2,C2,I9,5.00,USD,2026-02-01,\n"),
			[]rj{{2, "invoice_id", RulePaymentMismatch}}},
		{"payment for its customer's ledger invoice", csvFile("pay.csv", hdrPay+"P3,C1,I1,5.00,USD,2026-02-01,\n"), nil},
	}
	for _, tt := range tests {
		b := mustParse(t, opts(FormatCanonical), lk, tt.file)
		if diff := cmp.Diff(tt.want, rejectsOf(b)); diff != "" {
			t.Errorf("%s: rejects (-want +got):\n%s", tt.name, diff)
		}
	}
}
