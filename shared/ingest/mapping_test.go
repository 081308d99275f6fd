package ingest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestCanonicalCSVSamples(t *testing.T) {
	lookup := newLookup("C-2000")
	b := mustParse(t, opts(""), lookup,
		testdataFile(t, "canonical_invoices.csv"), // before its customers: resolution is import-wide
		testdataFile(t, "canonical_customers.csv"),
		testdataFile(t, "canonical_contacts.csv"),
		testdataFile(t, "canonical_payments.csv"),
	)
	if len(b.Rejects) != 0 {
		t.Fatalf("rejects: %+v", b.Rejects)
	}
	wantCust := []string{
		`C-1001 "Acme Industrial Supply" business country=US billing=electronic`,
		`C-1002 "Northwind Traders Ltd" business country=GB billing=paper`,
		`C-1003 "Dana Whitfield" consumer country=US billing=electronic`,
		`C-1004 "Müller & Söhne GmbH" business country=DE billing=electronic`,
	}
	if d := cmp.Diff(wantCust, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	c0 := b.Customers[0]
	if !c0.KeyAcct || c0.Segment != "enterprise" || c0.Currency.Code() != "USD" || c0.Source != (ledger.Source{System: "canonical", File: "canonical_customers.csv", Line: 2}) {
		t.Errorf("customer C-1001 = %+v", c0)
	}
	wantInv := []string{
		"INV-2026-0001 cust=C-1001 2026-01-05..2026-02-04 12500.00 USD open=12500.00 disputed=false closed=-",
		"INV-2026-0002 cust=C-1001 2026-01-12..2026-02-11 980.40 USD open=0.00 disputed=false closed=2026-02-09",
		"INV-2026-0003 cust=C-1002 2026-01-15..2026-02-14 4200.00 GBP open=4200.00 disputed=true closed=-",
		"INV-2026-0004 cust=C-1003 2026-01-20..2026-02-19 149.99 USD open=49.99 disputed=false closed=-",
		"INV-2026-0005 cust=C-1004 2026-02-01..2026-03-03 1999.50 EUR open=1999.50 disputed=true closed=-",
		"INV-2026-0006 cust=C-2000 2026-02-02..2026-03-04 320000 JPY open=320000 disputed=false closed=-",
	}
	if d := cmp.Diff(wantInv, summaries(b.Invoices, summary)); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	wantPay := []string{
		`PMT-55001 cust=C-1001 inv=INV-2026-0002 980.40 USD on 2026-02-09 ref="ACH 0209 ACME IND"`,
		`PMT-55002 cust=C-1003 inv=INV-2026-0004 100.00 USD on 2026-02-15 ref="CARD ****4242"`,
		`PMT-55003 cust=C-1002 inv= 500.00 GBP on 2026-02-20 ref="BACS NORTHWIND TRADERS"`,
	}
	if d := cmp.Diff(wantPay, summaries(b.Payments, paySummary)); d != "" {
		t.Errorf("payments (-want +got):\n%s", d)
	}
	wantDisp := []ledger.Dispute{
		{Tenant: "t1", ID: "DSP-INV-2026-0003", Customer: "C-1002", Invoice: "INV-2026-0003", Reason: "disputed in the source system",
			OpenedAt: ledger.Date(2026, time.January, 15), Status: ledger.DisputeOpen,
			Source: ledger.Source{System: "canonical", File: "canonical_invoices.csv", Line: 4}},
		{Tenant: "t1", ID: "DSP-INV-2026-0005", Customer: "C-1004", Invoice: "INV-2026-0005", Reason: "disputed in the source system",
			OpenedAt: ledger.Date(2026, time.February, 1), Status: ledger.DisputeOpen,
			Source: ledger.Source{System: "canonical", File: "canonical_invoices.csv", Line: 6}},
	}
	if d := cmp.Diff(wantDisp, b.Disputes, cmpOpts); d != "" {
		t.Errorf("disputes (-want +got):\n%s", d)
	}
	wantContacts := []ledger.ContactPoint{
		{Customer: "C-1001", ID: "C-1001-P1", Kind: ledger.ContactPhone, Phone: &ledger.Phone{E164: "+16172531000", Line: ledger.LineWork},
			Consent: ledger.ConsentGranted, ConsentAt: time.Date(2025, time.November, 3, 14, 5, 0, 0, time.UTC)},
		{Customer: "C-1001", ID: "C-1001-E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "ap@acme-industrial.com"}, Consent: ledger.ConsentUnknown},
		{Customer: "C-1001", ID: "C-1001-A1", Kind: ledger.ContactPostal, Consent: ledger.ConsentUnknown,
			Postal: &ledger.PostalAddress{Line1: "1200 Commerce Park Dr", Line2: "Suite 400", City: "Springfield", State: "IL", ZIP: "62704", Country: "US"}},
		{Customer: "C-1002", ID: "C-1002-P1", Kind: ledger.ContactPhone, Phone: &ledger.Phone{E164: "+442079460958", Line: ledger.LineLandline}, Consent: ledger.ConsentUnknown},
		{Customer: "C-1002", ID: "C-1002-A1", Kind: ledger.ContactPostal, Consent: ledger.ConsentUnknown,
			Postal: &ledger.PostalAddress{Line1: "27 Old Gloucester Street", City: "London", ZIP: "WC1N 3AX", Country: "GB"}},
		{Customer: "C-1003", ID: "C-1003-M1", Kind: ledger.ContactPhone, Phone: &ledger.Phone{E164: "+14155552671", Line: ledger.LineMobile},
			Consent: ledger.ConsentRevoked, ConsentAt: time.Date(2026, time.January, 10, 17, 0, 0, 0, time.UTC)},
		{Customer: "C-1003", ID: "C-1003-E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "dana.whitfield@gmail.com"},
			Consent: ledger.ConsentGranted, ConsentAt: time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)},
		{Customer: "C-1004", ID: "C-1004-E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "buchhaltung@mueller-soehne.de", EmployerProvided: true}, Consent: ledger.ConsentUnknown},
	}
	for i := range b.Contacts {
		b.Contacts[i].Tenant, b.Contacts[i].Source = "", ledger.Source{}
	}
	if d := cmp.Diff(wantContacts, b.Contacts); d != "" {
		t.Errorf("contacts (-want +got):\n%s", d)
	}
	// The ledger is asked only about the id no file defines.
	if d := cmp.Diff([][]string{{"C-2000"}}, lookup.calls); d != "" {
		t.Errorf("lookup calls (-want +got):\n%s", d)
	}
}

func TestCanonicalJSON(t *testing.T) {
	b := mustParse(t, opts(""), nil, testdataFile(t, "canonical.json"))
	if len(b.Rejects) != 0 {
		t.Fatalf("rejects: %+v", b.Rejects)
	}
	wantInv := []string{
		"GX-7001 cust=C-3001 2026-01-02..2026-02-01 120.00 USD open=120.00 disputed=false closed=-",
		"GX-7002 cust=C-3001 2026-01-09..2026-02-08 2500.50 USD open=0.00 disputed=true closed=2026-02-20",
		"JR-1 cust=C-3002 2026-01-15..2026-01-15 89.90 USD open=89.90 disputed=true closed=-",
	}
	if d := cmp.Diff(wantInv, summaries(b.Invoices, summary)); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	var lines []int
	for _, c := range b.Customers {
		lines = append(lines, c.Source.Line)
	}
	for _, c := range b.Contacts {
		lines = append(lines, c.Source.Line)
	}
	for _, i := range b.Invoices {
		lines = append(lines, i.Source.Line)
	}
	for _, p := range b.Payments {
		lines = append(lines, p.Source.Line)
	}
	if d := cmp.Diff([]int{3, 4, 7, 10, 14, 16, 19, 23}, lines); d != "" {
		t.Errorf("record start lines (-want +got):\n%s", d)
	}
	if b.Disputes[0].Status != ledger.DisputeResolved || !b.Disputes[0].ResolvedAt.Equal(ledger.Date(2026, time.February, 20)) {
		t.Errorf("dispute of a closed invoice = %+v", b.Disputes[0])
	}
	if !b.Customers[0].KeyAcct || b.Customers[1].Kind != ledger.Consumer {
		t.Errorf("customers = %+v", b.Customers)
	}
}

func TestJSONRecordRejects(t *testing.T) {
	doc := `{"invoices": [
  {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": "10.00", "currency": "USD", "colour": "red"},
  {"invoice_id": "I2", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": 10.005, "currency": "USD"},
  "I3",
  {"invoice_id": "I4", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": "10", "currency": true},
  {"invoice_id": "I5", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": ["10"], "currency": "USD"},
  {"invoice_id": "I6", "invoice_id": "I6", "customer_id": "C1"},
  {"invoice_id": "I7", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": 1e3, "currency": "USD"},
  {"invoice_id": "I8", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": 12, "currency": "USD", "disputed": null},
  {"invoice_id": "I9", "customer_id": "C1", "invoice_date": "2026-01-05", "due_date": "2026-02-04", "amount": 12}
 ],
 "payments": null}`
	b := mustParse(t, opts(""), newLookup("C1"), csvFile("x.json", doc))
	want := []rj{
		{2, "colour", RuleUnknownField},
		{3, "amount", RuleTooManyDecimals},
		{4, "", RuleMalformed},
		{5, "currency", RuleInvalidValue},
		{6, "amount", RuleInvalidValue},
		{7, "invoice_id", RuleMalformed},
		{8, "amount", RuleInvalidAmount},
		{10, "currency", RuleMissing}, // no currency key and no default currency
	}
	if d := cmp.Diff(want, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if b.Rejects[2].Record != "invoices[2]" || b.Rejects[2].Raw != `"I3"` {
		t.Errorf("reject = %+v", b.Rejects[2])
	}
	// With a default currency a record without a currency key is fine.
	o := opts("")
	o.DefaultCurrency = money.MustCurrency("EUR")
	b = mustParse(t, o, newLookup("C1"), csvFile("x.json", doc))
	if got := b.Invoices[len(b.Invoices)-1]; got.ID != "I9" || got.Amount.String() != "12.00 EUR" {
		t.Errorf("last invoice = %s", summary(got))
	}
}

func TestFileErrors(t *testing.T) {
	sapHeader := "MANDT,BUKRS,KUNNR,BELNR,GJAHR,BLDAT,BUDAT,ZFBDT,ZBD1T,WRBTR,WAERS,SHKZG\n"
	tests := []struct {
		name   string
		opts   Options
		file   File
		substr []string
	}{
		{"SAP export read as oracle-ebs", opts(FormatOracleEBS), csvFile("open_items.csv", sapHeader),
			[]string{"open_items.csv: format oracle-ebs needs columns TRX_NUMBER, ACCOUNT_NUMBER or CUSTOMER_ID, TRX_DATE, DUE_DATE", "header has MANDT, BUKRS"}},
		{"EBS export read as sap-fi", opts(FormatSAPFI), csvFile("aps.csv", "PAYMENT_SCHEDULE_ID,TRX_NUMBER,CLASS\n"),
			[]string{"aps.csv: format sap-fi needs columns BUKRS, BELNR, GJAHR, KUNNR", "SHKZG, ZFBDT, ZBD1T"}},
		{"canonical kind given, column missing", opts(""), File{Name: "inv.csv", Kind: KindInvoices, R: strings.NewReader("invoice_id,customer_id,amount,currency\n")},
			[]string{"inv.csv: format canonical needs columns invoice_date, due_date for invoices; header has invoice_id"}},
		{"kind not detectable", opts(""), csvFile("mystery.csv", "id,value\n1,2\n"),
			[]string{"mystery.csv: cannot tell what the rows are", "invoices needs invoice_id, customer_id"}},
		{"no currency anywhere", opts(""), csvFile("inv.csv", "invoice_id,customer_id,invoice_date,due_date,amount\n"),
			[]string{"inv.csv: format canonical needs column currency for invoices (or a default currency)"}},
		{"duplicate column", opts(""), csvFile("dup.csv", "invoice_id,INVOICE_ID\n"), []string{"dup.csv: column INVOICE_ID appears twice"}},
		{"empty file", opts(""), csvFile("empty.csv", ""), []string{"empty.csv: is empty"}},
		{"only a BOM and blank lines", opts(""), csvFile("bom.csv", "\xef\xbb\xbf\n\n"), []string{"bom.csv: is empty"}},
		{"binary", opts(""), csvFile("book.xlsx", "PK\x03\x04\x14\x00\x06\x00"), []string{"book.xlsx: is a binary file"}},
		{"JSON array", opts(""), csvFile("a.json", `[{"invoice_id": "1"}]`), []string{"a.json: JSON must be an object"}},
		{"JSON unknown key", opts(""), csvFile("a.json", "{\n\"invoices\": [],\n\"credits\": []}"), []string{`a.json: unknown key "credits" at line 3`}},
		{"JSON syntax", opts(""), csvFile("a.json", "{\"invoices\": [\n{\"invoice_id\": \"1\",}\n]}"), []string{"a.json: invalid JSON near line 2"}},
		{"JSON truncated", opts(""), csvFile("a.json", `{"invoices": [{"invoice_id": "1"}`), []string{"a.json: invalid JSON"}},
		{"JSON trailing data", opts(""), csvFile("a.json", `{"invoices": []} {}`), []string{"a.json: unexpected data after the JSON object"}},
		{"JSON not an array", opts(""), csvFile("a.json", `{"invoices": {}}`), []string{`a.json: "invoices" must be an array`}},
		{"JSON kind restricted", opts(""), File{Name: "a.json", Kind: KindPayments, R: strings.NewReader(`{"invoices": []}`)}, []string{"a.json: holds invoices but the file was given as payments"}},
		{"unknown kind", opts(""), File{Name: "a.csv", Kind: "credits", R: strings.NewReader("x\n")}, []string{`a.csv: unknown kind "credits"`}},
		{"unknown file format", opts(""), File{Name: "a.csv", Format: "quickbooks", R: strings.NewReader("x\n")}, []string{`a.csv: unknown format "quickbooks"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse(context.Background(), tt.opts, []File{tt.file}, nil)
			if err == nil {
				t.Fatalf("no error; batch %+v", b)
			}
			for _, s := range tt.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestAllFileErrorsReported(t *testing.T) {
	_, err := Parse(context.Background(), opts(""), []File{
		csvFile("a.csv", ""), csvFile("b.csv", hdrInv+okInv), csvFile("c.csv", "x,y\n"),
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "a.csv:") || !strings.Contains(err.Error(), "c.csv:") || strings.Contains(err.Error(), "b.csv") {
		t.Errorf("err = %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Tenant: "", Format: FormatCanonical},
		{Tenant: "t#1"},
		{Tenant: "t1", Format: "sage"},
		{Tenant: "t1", DefaultRegion: "Utopia"},
	} {
		if _, err := Parse(context.Background(), o, nil, nil); err == nil {
			t.Errorf("Parse(%+v) accepted bad options", o)
		}
	}
}

func TestOracleEBS(t *testing.T) {
	b := mustParse(t, opts(FormatOracleEBS), nil, testdataFile(t, "ebs_ar_payment_schedules.csv"))
	wantInv := []string{
		"101234 cust=10040 2026-01-05..2026-02-04 15000.00 USD open=15000.00 disputed=false closed=-",
		"101235 cust=10040 2026-01-12..2026-02-11 2450.75 USD open=0.00 disputed=false closed=2026-02-09",
		"101236 cust=10041 2026-01-20..2026-02-19 860.00 USD open=860.00 disputed=true closed=-",
		"DM-7781 cust=10041 2026-02-02..2026-03-04 125.00 USD open=125.00 disputed=false closed=-",
		"101238 cust=10042 2026-02-14..2026-03-16 3100.00 EUR open=3100.00 disputed=false closed=-",
	}
	if d := cmp.Diff(wantInv, summaries(b.Invoices, summary)); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	wantPay := []string{`300105 cust=10040 inv= 2450.75 USD on 2026-02-09 ref="RCPT-22019"`}
	if d := cmp.Diff(wantPay, summaries(b.Payments, paySummary)); d != "" {
		t.Errorf("payments (-want +got):\n%s", d)
	}
	wantCust := []string{
		`10040 "Vision Operations Corp" business country= billing=`,
		`10041 "Hilltop Services, Inc." business country= billing=`,
		`10042 "Blue Yonder Freight" business country= billing=`,
	}
	if d := cmp.Diff(wantCust, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]rj{{7, "CLASS", RuleUnsupported}}, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if len(b.Disputes) != 1 || b.Disputes[0].ID != "DSP-101236" {
		t.Errorf("disputes = %+v", b.Disputes)
	}
	f := b.Files[0]
	if f.Format != FormatOracleEBS || len(f.UnknownColumns) != 0 || b.Invoices[0].Source.System != "oracle-ebs" {
		t.Errorf("file stats = %+v", f)
	}
	wantKinds := []KindStats{{KindInvoices, 5, 5, 0}, {KindPayments, 1, 1, 0}, {"", 1, 0, 1}}
	if d := cmp.Diff(wantKinds, f.Kinds); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
}

func TestOracleEBSRowRules(t *testing.T) {
	hdr := "PAYMENT_SCHEDULE_ID,CUSTOMER_ID,TRX_NUMBER,TRX_DATE,DUE_DATE,AMOUNT_DUE_ORIGINAL,AMOUNT_DUE_REMAINING,AMOUNT_IN_DISPUTE,INVOICE_CURRENCY_CODE,CLASS,STATUS,ACTUAL_DATE_CLOSED\n"
	tests := []struct {
		name string
		row  string
		want []rj
	}{
		{"ok", "1,77,T1,15-JAN-2026,14-FEB-2026,100,100,0,USD,INV,OP,31-DEC-4712", nil},
		{"receipt must be negative", "1,77,R1,15-JAN-2026,15-JAN-2026,100,0,,USD,PMT,CL,15-JAN-2026", []rj{{2, "AMOUNT_DUE_ORIGINAL", RuleWrongSign}}},
		{"unknown class", "1,77,T1,15-JAN-2026,14-FEB-2026,100,100,0,USD,GUAR,OP,", []rj{{2, "CLASS", RuleUnsupported}}},
		{"bad status", "1,77,T1,15-JAN-2026,14-FEB-2026,100,100,0,USD,INV,XX,", []rj{{2, "STATUS", RuleInvalidValue}}},
		{"closed with balance", "1,77,T1,15-JAN-2026,14-FEB-2026,100,40,0,USD,INV,CL,", []rj{{2, "AMOUNT_DUE_REMAINING", RuleClosedWithBalance}}},
		{"impossible EBS date", "1,77,T1,31-FEB-2026,14-MAR-2026,100,100,0,USD,INV,OP,", []rj{{2, "TRX_DATE", RuleInvalidDate}}},
		{"two-digit year", "1,77,T1,15-JAN-26,14-FEB-2026,100,100,0,USD,INV,OP,", []rj{{2, "TRX_DATE", RuleInvalidDate}}},
		{"due before trx date", "1,77,T1,15-JAN-2026,14-JAN-2026,100,100,0,USD,INV,OP,", []rj{{2, "DUE_DATE", RuleDueBeforeInvoice}}},
		{"dispute amount not a number", "1,77,T1,15-JAN-2026,14-FEB-2026,100,100,n/a,USD,INV,OP,", []rj{{2, "AMOUNT_IN_DISPUTE", RuleInvalidAmount}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, opts(FormatOracleEBS), nil, csvFile("e.csv", hdr+tt.row+"\n"))
			if d := cmp.Diff(tt.want, rejectsOf(b)); d != "" {
				t.Errorf("rejects (-want +got):\n%s\n%+v", d, b.Rejects)
			}
		})
	}
	// CUSTOMER_ID stands in for the account number, and names the rejects.
	b := mustParse(t, opts(FormatOracleEBS), nil, csvFile("e.csv", hdr+"1,77,T1,15-JAN-2026,14-JAN-2026,100,100,0,USD,INV,OP,\n"))
	if r := b.Rejects[0]; r.Reason != "DUE_DATE 14-JAN-2026 is before TRX_DATE 15-JAN-2026" {
		t.Errorf("reason = %q", r.Reason)
	}
}

func TestSAPFI(t *testing.T) {
	b := mustParse(t, opts(FormatSAPFI), nil, testdataFile(t, "sap_fi_open_items.csv"))
	wantInv := []string{
		"1000-1800000123-2026 cust=0000100234 2026-01-15..2026-02-14 1234.56 EUR open=1234.56 disputed=false closed=-",
		"1000-1800000124-2026 cust=0000100234 2026-01-20..2026-02-03 12500.00 EUR open=0.00 disputed=false closed=2026-02-01",
		"2000-1800000123-2026 cust=0000200777 2026-02-03..2026-03-05 45000.00 SEK open=45000.00 disputed=false closed=-",
		"3000-1800004410-2026 cust=0000300010 2026-02-05..2026-04-11 1250000 JPY open=1250000 disputed=false closed=-",
	}
	if d := cmp.Diff(wantInv, summaries(b.Invoices, summary)); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	wantPay := []string{`1000-1400000055-2026 cust=0000100234 inv= 12500.00 EUR on 2026-02-01 ref="ZAHLUNG 90001235"`}
	if d := cmp.Diff(wantPay, summaries(b.Payments, paySummary)); d != "" {
		t.Errorf("payments (-want +got):\n%s", d)
	}
	wantCust := []string{
		`0000100234 "Bäckerei Schmidt GmbH" business country=DE billing=`,
		`0000200777 "Nordic Parts AB" business country=SE billing=`,
		`0000300010 "Tanaka Shoji KK" business country=JP billing=`,
	}
	if d := cmp.Diff(wantCust, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]rj{{7, "BLART", RuleUnsupported}}, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
}

func TestSAPFIRowRules(t *testing.T) {
	hdr := "BUKRS,KUNNR,BELNR,GJAHR,BLDAT,BUDAT,ZFBDT,ZBD1T,WRBTR,WAERS,SHKZG,AUGDT\n"
	tests := []struct {
		name string
		row  string
		want []rj
	}{
		{"ok", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,30,"1.234,56",EUR,S,`, nil},
		{"trailing minus", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,30,"100,00-",EUR,S,`, []rj{{2, "WRBTR", RuleNotPositive}}},
		{"bad grouping", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,30,"12.34,5",EUR,S,`, []rj{{2, "WRBTR", RuleInvalidAmount}}},
		{"too many decimals", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,30,"1,234",KWD,S,`, nil},
		{"JPY decimals", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,30,"12,5",JPY,S,`, []rj{{2, "WRBTR", RuleTooManyDecimals}}},
		{"missing BELNR", `1000,K1,,2026,15.01.2026,15.01.2026,15.01.2026,30,10,EUR,S,`, []rj{{2, "BELNR", RuleMissing}}},
		{"bad baseline date", `1000,K1,18001,2026,15.01.2026,15.01.2026,32.01.2026,30,10,EUR,S,`, []rj{{2, "ZFBDT", RuleInvalidDate}}},
		{"missing baseline date", `1000,K1,18001,2026,15.01.2026,15.01.2026,00000000,30,10,EUR,S,`, []rj{{2, "ZFBDT", RuleMissing}}},
		{"bad term days", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,net30,10,EUR,S,`, []rj{{2, "ZBD1T", RuleInvalidValue}}},
		{"baseline before document date", `1000,K1,18001,2026,15.01.2026,15.01.2026,01.01.2026,7,10,EUR,S,`, []rj{{2, "ZFBDT+ZBD1T", RuleDueBeforeInvoice}}},
		{"open credit", `1000,K1,14001,2026,15.01.2026,15.01.2026,15.01.2026,0,10,EUR,H,`, []rj{{2, "AUGDT", RuleUnsupported}}},
		{"unknown indicator", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,0,10,EUR,X,`, []rj{{2, "SHKZG", RuleUnsupported}}},
		{"missing indicator", `1000,K1,18001,2026,15.01.2026,15.01.2026,15.01.2026,0,10,EUR,,`, []rj{{2, "SHKZG", RuleMissing}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, opts(FormatSAPFI), nil, csvFile("s.csv", hdr+tt.row+"\n"))
			if d := cmp.Diff(tt.want, rejectsOf(b)); d != "" {
				t.Errorf("rejects (-want +got):\n%s\n%+v", d, b.Rejects)
			}
		})
	}
}

func TestD365(t *testing.T) {
	b := mustParse(t, opts(FormatD365), nil, testdataFile(t, "d365_custtrans.csv"))
	wantInv := []string{
		"CIV-000101 cust=US-001 2026-01-08..2026-02-07 5000.00 USD open=5000.00 disputed=false closed=-",
		"CIV-000102 cust=US-001 2026-01-15..2026-02-14 1200.00 USD open=0.00 disputed=false closed=2026-02-10",
		"FTI-000045 cust=US-002 2026-01-20..2026-02-19 750.50 USD open=500.00 disputed=false closed=-",
	}
	if d := cmp.Diff(wantInv, summaries(b.Invoices, summary)); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	wantPay := []string{`ARPAY-000301 cust=US-001 inv= 1200.00 USD on 2026-02-10 ref="CHK 10442"`}
	if d := cmp.Diff(wantPay, summaries(b.Payments, paySummary)); d != "" {
		t.Errorf("payments (-want +got):\n%s", d)
	}
	wantCust := []string{
		`US-001 "Contoso Retail San Diego" business country= billing=`,
		`US-002 "Forest Wholesales" business country= billing=`,
	}
	if d := cmp.Diff(wantCust, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]rj{{6, "TransType", RuleUnsupported}}, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if u := b.Files[0].UnknownColumns; len(u) != 0 {
		t.Errorf("unknown columns %v", u)
	}
}

func TestD365RowRules(t *testing.T) {
	hdr := "AccountNum,Invoice,Voucher,TransDate,DueDate,AmountCur,SettleAmountCur,CurrencyCode,TransType,Closed\n"
	tests := []struct {
		name string
		row  string
		want []rj
	}{
		{"ok", "A1,I1,V1,2026-01-08,2026-02-07,100.00,0,USD,Sales,1900-01-01", nil},
		{"settled more than amount", "A1,I1,V1,2026-01-08,2026-02-07,100.00,120.00,USD,Sales,", []rj{{2, "AmountCur-SettleAmountCur", RuleOpenOutOfRange}}},
		{"closed but open", "A1,I1,V1,2026-01-08,2026-02-07,100.00,20.00,USD,Sales,2026-02-01", []rj{{2, "AmountCur-SettleAmountCur", RuleClosedWithBalance}}},
		{"bad settle", "A1,I1,V1,2026-01-08,2026-02-07,100.00,abc,USD,Sales,", []rj{{2, "SettleAmountCur", RuleInvalidAmount}}},
		{"positive payment", "A1,,V2,2026-01-08,2026-01-08,100.00,0,USD,Payment,", []rj{{2, "AmountCur", RuleWrongSign}}},
		{"payment without voucher", "A1,,,2026-01-08,2026-01-08,-100.00,0,USD,Payment,", []rj{{2, "Voucher", RuleMissing}}},
		{"US date timestamp", "A1,I1,V1,1/8/2026 3:04:05 PM,2/7/2026,100.00,0,USD,Invoice,", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, opts(FormatD365), nil, csvFile("d.csv", hdr+tt.row+"\n"))
			if d := cmp.Diff(tt.want, rejectsOf(b)); d != "" {
				t.Errorf("rejects (-want +got):\n%s\n%+v", d, b.Rejects)
			}
		})
	}
}

func TestIBMARRowRules(t *testing.T) {
	hdr := "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate\n"
	b := mustParse(t, opts(FormatIBMAR), nil, csvFile("ibm.csv", hdr+
		"391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0\n"+
		"391,0379-NEVHP,4/6/2013,0000611366,5/2/2013,6/1/2013,10.00,Yes,,Electronic,,\n"+
		"391,0379-NEVHP,4/6/2013,0000611367,5/2/2013,6/1/2013,10.00,No,,Fax,,\n"+
		"391,0379-NEVHP,4/6/2013,0000611365,5/3/2013,6/2/2013,10.00,No,5/9/2013,Paper,6,0\n"))
	want := []rj{{4, "PaperlessBill", RuleInvalidValue}, {5, "invoiceNumber", RuleDuplicate}}
	if d := cmp.Diff(want, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	// An unsettled row stays open, has no payment and an open dispute.
	if len(b.Payments) != 1 || b.Invoices[1].Open.Decimal() != "10.00" || b.Disputes[0].Status != ledger.DisputeOpen {
		t.Errorf("payments %v invoices %v disputes %+v", summaries(b.Payments, paySummary), summaries(b.Invoices, summary), b.Disputes)
	}
	// The customer is described by its most recent row (electronic by May).
	if d := cmp.Diff([]string{`0379-NEVHP "0379-NEVHP" business country=391 billing=electronic`}, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
}

func TestERPWithCustomersFile(t *testing.T) {
	ebs := "PAYMENT_SCHEDULE_ID,ACCOUNT_NUMBER,TRX_NUMBER,TRX_DATE,DUE_DATE,AMOUNT_DUE_ORIGINAL,AMOUNT_DUE_REMAINING,INVOICE_CURRENCY_CODE,CLASS\n" +
		"1,A1,T1,15-JAN-2026,14-FEB-2026,100,100,USD,INV\n" +
		"2,A2,T2,15-JAN-2026,14-FEB-2026,100,100,USD,INV\n" +
		"3,A3,T3,15-JAN-2026,14-FEB-2026,100,100,USD,INV\n"
	customers := hdrCust + "A1,Alpha Ltd,,,,,,\n"
	// With a customers file, it and the ledger are authoritative: A3 is a typo.
	b := mustParse(t, opts(FormatOracleEBS), newLookup("A2"), csvFile("aps.csv", ebs), csvFile("customers.csv", customers))
	if d := cmp.Diff([]rj{{4, "ACCOUNT_NUMBER", RuleUnknownCustomer}}, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{`A1 "Alpha Ltd" business country= billing=`}, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	if b.Files[1].Format != FormatCanonical {
		t.Errorf("customers file read as %s", b.Files[1].Format)
	}
	// Without one, rows imply their accounts, the ledger's too (the same
	// files always give the same records); each is marked Implied so the
	// store never lets it overwrite the ledger's richer record.
	b = mustParse(t, opts(FormatOracleEBS), newLookup("A2"), csvFile("aps.csv", ebs))
	if d := cmp.Diff([]string{`A1 "A1" business country= billing=`, `A2 "A2" business country= billing=`, `A3 "A3" business country= billing=`}, summaries(b.Customers, custSummary)); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	for _, c := range b.Customers {
		if !c.Implied {
			t.Errorf("customer %s from an EBS row is not marked Implied", c.ID)
		}
	}
}

func TestLookupBatching(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(hdrInv)
	for i := 0; i < 250; i++ {
		// 230 distinct customers, referenced out of order and some twice.
		c := (i * 7) % 230
		sb.WriteString("I" + itoa(i) + ",C" + itoa(c) + ",2026-01-05,2026-02-04,10.00,,USD,,\n")
	}
	known := newLookup()
	for c := 0; c < 230; c += 2 {
		known.ids["C"+itoa(c)] = true
	}
	b := mustParse(t, opts(""), known, csvFile("f.csv", sb.String()), csvFile("c.csv", hdrCust+"C1,One,,,,,,\n"))
	var sizes []int
	seen := map[string]bool{}
	for _, call := range known.calls {
		sizes = append(sizes, len(call))
		if !cmp.Equal(call, sorted(call)) {
			t.Errorf("batch not sorted: %v", call)
		}
		for _, id := range call {
			if seen[id] {
				t.Errorf("%s looked up twice", id)
			}
			seen[id] = true
		}
	}
	if d := cmp.Diff([]int{100, 100, 29}, sizes); d != "" { // C1 is in the customers file
		t.Errorf("batch sizes (-want +got):\n%s", d)
	}
	if len(b.Invoices)+len(b.Rejects) != 250 {
		t.Errorf("%d invoices + %d rejects", len(b.Invoices), len(b.Rejects))
	}
	for _, r := range b.Rejects {
		if r.Rule != RuleUnknownCustomer {
			t.Errorf("unexpected reject %+v", r)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPaymentAgainstInvoice(t *testing.T) {
	inv := hdrInv + "I1,C1,2026-01-05,2026-02-04,10.00,,USD,,\n"
	pay := hdrPay +
		"P1,C1,I1,10.00,USD,2026-02-01,\n" + // fine
		"P2,C2,I1,10.00,USD,2026-02-01,\n" + // wrong customer
		"P3,C1,I1,10.00,EUR,2026-02-01,\n" + // wrong currency
		"P4,C1,I-ELSEWHERE,10.00,USD,2026-02-01,\n" // not in this import: cannot be checked
	// Payments first: the invoice is still found.
	b := mustParse(t, opts(""), newLookup("C1", "C2"), csvFile("p.csv", pay), csvFile("i.csv", inv))
	want := []rj{{3, "invoice_id", RulePaymentMismatch}, {4, "invoice_id", RulePaymentMismatch}}
	if d := cmp.Diff(want, rejectsOf(b)); d != "" {
		t.Errorf("rejects (-want +got):\n%s", d)
	}
	if b.Rejects[0].Reason != "invoice I1 belongs to customer C1, not C2" || b.Rejects[1].Reason != "payment is in EUR but invoice I1 is in USD" {
		t.Errorf("reasons %q / %q", b.Rejects[0].Reason, b.Rejects[1].Reason)
	}
}

func TestDuplicatesAcrossFiles(t *testing.T) {
	b := mustParse(t, opts(""), newLookup("C1"), csvFile("a.csv", hdrInv+okInv), csvFile("b.csv", hdrInv+okInv))
	if len(b.Rejects) != 1 || b.Rejects[0].File != "b.csv" || b.Rejects[0].Reason != "invoice_id I1 already appears in a.csv line 2" {
		t.Errorf("rejects %+v", b.Rejects)
	}
}

func TestDatesAndTimestamps(t *testing.T) {
	b := mustParse(t, opts(""), newLookup("C1"), csvFile("f.csv", hdrInv+
		"I1,C1,2026-01-05T23:30:00-05:00,2026-02-04T00:00:00Z,10.00,,USD,,\n"))
	if got := summary(b.Invoices[0]); got != "I1 cust=C1 2026-01-05..2026-02-04 10.00 USD open=10.00 disputed=false closed=-" { // the date written, not its UTC date
		t.Errorf("got %s", got)
	}
	if loc := b.Invoices[0].InvoiceDate.Location(); loc != time.UTC {
		t.Errorf("location %v", loc)
	}
}

func TestFileKindAndHeaderCase(t *testing.T) {
	// Header names are case-insensitive and trimmed; unknown columns are listed.
	b := mustParse(t, opts(""), newLookup("C1"), File{Name: "f.csv", Kind: KindPayments,
		R: strings.NewReader(" Payment_ID ,CUSTOMER_ID,Amount,Currency,Received_Date,Memo\nP1,C1,5,USD,2026-01-01,hello\n")})
	if len(b.Payments) != 1 || !cmp.Equal(b.Files[0].UnknownColumns, []string{"Memo"}) {
		t.Errorf("payments %v files %+v", summaries(b.Payments, paySummary), b.Files)
	}
	// A contacts header with a contact-person "name" column is still contacts.
	b = mustParse(t, opts(""), newLookup("C1"), csvFile("c.csv", "customer_id,contact_id,kind,email,name\nC1,E1,email,a@b.co,Dana\n"))
	if len(b.Contacts) != 1 {
		t.Errorf("contacts %+v rejects %+v", b.Contacts, b.Rejects)
	}
}

func TestNormalizeLocaleAmount(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
		ok    bool
	}{
		{"1.234,56", 2, "1234.56", true},
		{"1,234.56", 2, "1234.56", true},
		{"1 234 567,89", 2, "1234567.89", true},
		{"1234,5", 2, "1234.5", true},
		{"1234.5", 2, "1234.5", true},
		{"1.234", 2, "1234", true},
		{"1,234", 0, "1234", true},
		{"1.234", 3, "1.234", true},
		{"0,500", 2, "0.500", true},
		{"1.234.567", 2, "1234567", true},
		{"1.234.567,89", 2, "1234567.89", true},
		{"100,00-", 2, "-100.00", true},
		{"-100,00", 2, "-100.00", true},
		{",5", 2, "0.5", true},
		{"12345", 2, "12345", true},
		{"12.34.5", 2, "", false},
		{"1.23,4.5", 2, "", false},
		{"1,2345.00", 2, "", false},
		{"1 23,00", 2, "", false},
		{"1 234.5,6", 2, "", false},
		{"12,", 2, "", false},
		{"abc", 2, "", false},
		{"", 2, "", false},
		{"-", 2, "", false},
	}
	for _, tt := range tests {
		got, ok := normalizeLocaleAmount(tt.in, tt.scale)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeLocaleAmount(%q, %d) = %q, %v; want %q, %v", tt.in, tt.scale, got, ok, tt.want, tt.ok)
		}
	}
}

func TestInvariantOverTestdata(t *testing.T) {
	for _, tc := range []struct {
		format Format
		files  []string
	}{
		{FormatCanonical, []string{"canonical_customers.csv", "canonical_contacts.csv", "canonical_invoices.csv", "canonical_payments.csv", "canonical.json", "bad_rows.csv"}},
		{FormatOracleEBS, []string{"ebs_ar_payment_schedules.csv"}},
		{FormatSAPFI, []string{"sap_fi_open_items.csv"}},
		{FormatD365, []string{"d365_custtrans.csv"}},
	} {
		var files []File
		for _, n := range tc.files {
			files = append(files, testdataFile(t, n))
		}
		b := mustParse(t, opts(tc.format), newLookup("C-2000"), files...) // checks the invariant
		read := 0
		for _, f := range b.Files {
			read += f.Read
		}
		if read == 0 {
			t.Errorf("%s: nothing read", tc.format)
		}
	}
}

type failingLookup struct{}

func (failingLookup) ExistingCustomers(context.Context, ledger.TenantID, []string) (map[string]bool, error) {
	return nil, context.DeadlineExceeded
}

func TestLookupFailureAndCancel(t *testing.T) {
	_, err := Parse(context.Background(), opts(""), []File{csvFile("f.csv", hdrInv+okInv)}, failingLookup{})
	if err == nil || !strings.Contains(err.Error(), "looking up customers") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Parse(ctx, opts(""), []File{csvFile("f.csv", hdrInv+okInv)}, nil); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
