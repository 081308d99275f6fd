package oracleebs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// readSim starts an empty simulator, seeds it and returns it with a
// client using Basic auth.
func readSim(t *testing.T, seeds ...ebssim.AccountSeed) (*ebssim.Server, *Client) {
	t.Helper()
	sim := ebssim.New(ebssim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if _, err := sim.Seed(seeds); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: srv.URL, User: "RECOUP_ISG", Password: "welcome1", Context: simContext,
		Resource: "100001", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

var (
	t1 = time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	t2 = time.Date(2026, 2, 10, 8, 0, 0, 0, time.UTC)
	t3 = time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC)
)

// fiveAccounts are five accounts, each with one phone, one invoice and one
// receipt; the first three last changed at t1, the others at t2.
func fiveAccounts() []ebssim.AccountSeed {
	var out []ebssim.AccountSeed
	for i := 1; i <= 5; i++ {
		at := t1
		if i > 3 {
			at = t2
		}
		n := fmt.Sprint(i)
		out = append(out, ebssim.AccountSeed{Number: "C-" + n, Currency: "USD", UpdatedAt: at,
			Contacts: []ebssim.ContactSeed{{Type: "PHONE", LineType: "MOBILE", CountryCode: "1", AreaCode: "617", Number: "253-100" + n}},
			Invoices: []ebssim.InvoiceSeed{{Number: "INV-" + n, TrxDate: "2026-01-0" + n, DueDate: "2026-02-0" + n, Amount: n + "00.00"}},
			Receipts: []ebssim.ReceiptSeed{{Number: "R-" + n, Date: "2026-01-2" + n, Amount: "10.00", AppliedTo: "INV-" + n}}})
	}
	return out
}

// collect runs one reader and answers the account numbers (or invoice and
// receipt numbers) it read, page by page.
func collect(t *testing.T, c *Client, method string, p Pull) ([][]string, error) {
	t.Helper()
	var pages [][]string
	add := func(ids ...string) { pages = append(pages, ids) }
	ctx := context.Background()
	switch method {
	case "customers":
		return pages, c.Customers(ctx, p, func(rows []CustomerRow) error {
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.AccountNumber)
			}
			add(ids...)
			return nil
		})
	case "contact_points":
		return pages, c.ContactPoints(ctx, p, func(rows []ContactPointRow) error {
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.Number)
			}
			add(ids...)
			return nil
		})
	case "open_receivables":
		return pages, c.OpenReceivables(ctx, p, func(rows []ReceivableRow) error {
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.TrxNumber+"/"+r.Status)
			}
			add(ids...)
			return nil
		})
	case "receipts":
		return pages, c.Receipts(ctx, p, func(rows []ReceiptRow) error {
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.ReceiptNumber+"→"+r.TrxNumber)
			}
			add(ids...)
			return nil
		})
	}
	t.Fatalf("no reader %s", method)
	return nil, nil
}

// TestReadersPageByKeyset: with two rows a page, five rows come in three
// pages, in key order, each row once; since reads only what changed.
func TestReadersPageByKeyset(t *testing.T) {
	sim, c := readSim(t, fiveAccounts()...)
	tests := []struct {
		method string
		pull   Pull
		want   [][]string
	}{
		{"customers", Pull{Limit: 2}, [][]string{{"C-1", "C-2"}, {"C-3", "C-4"}, {"C-5"}}},
		{"customers", Pull{Limit: 5}, [][]string{{"C-1", "C-2", "C-3", "C-4", "C-5"}}},
		{"customers", Pull{Limit: 2, Since: t2}, [][]string{{"C-4", "C-5"}}},
		{"customers", Pull{Since: t2.Add(-time.Nanosecond)}, [][]string{{"C-4", "C-5"}}},
		{"customers", Pull{Since: t3}, nil},
		{"contact_points", Pull{Limit: 3}, [][]string{{"253-1001", "253-1002", "253-1003"}, {"253-1004", "253-1005"}}},
		{"open_receivables", Pull{Limit: 4}, [][]string{{"INV-1/OP", "INV-2/OP", "INV-3/OP", "INV-4/OP"}, {"INV-5/OP"}}},
		{"receipts", Pull{Limit: 2, Since: t1}, [][]string{{"R-1→INV-1", "R-2→INV-2"}, {"R-3→INV-3", "R-4→INV-4"}, {"R-5→INV-5"}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d %s", tt.method, tt.pull.Limit, tt.pull.Since.Format(time.DateOnly)), func(t *testing.T) {
			before := sim.Stats().Requests["xx_recoup/"+tt.method]
			got, err := collect(t, c, tt.method, tt.pull)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("pages (-want +got):\n%s", d)
			}
			calls := sim.Stats().Requests["xx_recoup/"+tt.method] - before
			if want := max(len(tt.want), 1); calls != want {
				t.Errorf("%d calls, want %d", calls, want)
			}
		})
	}
}

// TestReadIncrementalCloses: an invoice paid off in EBS leaves the full
// pull, and an incremental pull reports it closed.
func TestReadIncrementalCloses(t *testing.T) {
	sim, c := readSim(t, fiveAccounts()...)
	if _, err := sim.Seed([]ebssim.AccountSeed{{Number: "C-2", Invoices: []ebssim.InvoiceSeed{{Number: "INV-2",
		TrxDate: "2026-01-02", DueDate: "2026-02-02", Amount: "200.00", Remaining: "0", Status: "CL",
		ClosedDate: "2026-02-19", UpdatedAt: t3}}}}); err != nil {
		t.Fatal(err)
	}
	full, err := collect(t, c, "open_receivables", Pull{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]string{{"INV-1/OP", "INV-3/OP", "INV-4/OP", "INV-5/OP"}}, full); d != "" {
		t.Errorf("full pull (-want +got):\n%s", d)
	}
	var got []ReceivableRow
	if err := c.OpenReceivables(context.Background(), Pull{Since: t3}, func(rows []ReceivableRow) error {
		got = append(got, rows...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []ReceivableRow{{CustomerTrxID: "20002", TrxNumber: "INV-2", CustAccountID: "1002", AccountNumber: "C-2",
		Class: "INV", TrxDate: "2026-01-02", DueDate: "2026-02-02", AmountDueOriginal: "200.00", AmountDueRemaining: "0",
		Currency: "USD", Status: "CL", DateClosed: "2026-02-19", Installments: "1", Updated: "2026-02-20T08:00:00Z"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("incremental pull (-want +got):\n%s", d)
	}
}

func TestReadEmptyTenant(t *testing.T) {
	sim, c := readSim(t)
	for _, m := range []string{"customers", "contact_points", "open_receivables", "receipts"} {
		pages, err := collect(t, c, m, Pull{Limit: 1})
		if err != nil || pages != nil {
			t.Errorf("%s: %v, %v", m, pages, err)
		}
		if n := sim.Stats().Requests["xx_recoup/"+m]; n != 1 {
			t.Errorf("%s: %d calls, want 1", m, n)
		}
	}
}

// TestReadErrorMidPull: a business error on page 2 ends the pull with an
// error that names the method and the page and keeps EBS's code, after
// page 1 was handed over.
func TestReadErrorMidPull(t *testing.T) {
	sim, c := readSim(t, fiveAccounts()...)
	var pages int
	err := c.Customers(context.Background(), Pull{Limit: 2}, func([]CustomerRow) error {
		pages++
		return sim.SetFaults(ebssim.Faults{Rate: 1, Kinds: []ebssim.FaultKind{ebssim.FaultBusinessError}})
	})
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.ClassPermanent || e.Code != "GL_PERIOD_CLOSED" {
		t.Fatalf("got %v, want the permanent GL_PERIOD_CLOSED", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "read customers, page 2") {
		t.Errorf("%q does not name the method and page", msg)
	}
	if pages != 1 {
		t.Errorf("%d pages handed over before the error, want 1", pages)
	}

	// The callback's own error stops the pull too, named the same way.
	if err := sim.SetFaults(ebssim.Faults{}); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("disk full")
	err = c.Receipts(context.Background(), Pull{Limit: 2}, func([]ReceiptRow) error { return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "read receipts, page 1") {
		t.Errorf("got %v", err)
	}
	if err := c.Customers(context.Background(), Pull{Limit: MaxLimit + 1}, nil); err == nil {
		t.Error("a limit over MaxLimit was sent")
	}
}

func TestDecodePage(t *testing.T) {
	page := func(more string, rows string) output {
		return output{"X_RETURN_STATUS": json.RawMessage(`"S"`), "X_MORE": json.RawMessage(more), "X_ROWS": json.RawMessage(rows)}
	}
	tests := []struct {
		name  string
		spec  readSpec
		after int64
		out   output
		want  []record
		last  int64
		more  bool
		bad   string // in the error; "" for none
	}{
		{name: "a list", spec: customersSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CUST_ACCOUNT_ID":"7","PARTY_TYPE":"PERSON","PARTY_NAME":null,"N":12.50}]}`),
			want: []record{{"CUST_ACCOUNT_ID": "7", "PARTY_TYPE": "PERSON", "PARTY_NAME": "", "N": "12.50"}}, last: 7},
		{name: "a table of one is a bare object", spec: receiptsSpec, after: 3, out: page(`"Y"`, `{"X_ROWS_ITEM":{"CASH_RECEIPT_ID":9}}`),
			want: []record{{"CASH_RECEIPT_ID": "9"}}, last: 9, more: true},
		{name: "an empty table as null", spec: receiptsSpec, out: page(`"N"`, `null`)},
		{name: "an empty table as {}", spec: receiptsSpec, out: page(`"N"`, `{}`)},
		{name: "an empty table as an empty string", spec: receiptsSpec, out: page(`"N"`, `""`)},
		{name: "no X_ROWS at all", spec: receiptsSpec, out: output{"X_MORE": json.RawMessage(`"N"`)}},
		{name: "shared keys repeat", spec: contactsSpec, after: 1, out: page(`"N"`,
			`{"X_ROWS_ITEM":[{"CONTACT_POINT_ID":"2","PARTY_TYPE":"PERSON"},{"CONTACT_POINT_ID":"2","PARTY_TYPE":"PERSON"}]}`),
			want: []record{{"CONTACT_POINT_ID": "2", "PARTY_TYPE": "PERSON"}, {"CONTACT_POINT_ID": "2", "PARTY_TYPE": "PERSON"}}, last: 2},

		{name: "X_MORE missing", spec: receiptsSpec, out: output{}, bad: `X_MORE "" is not Y or N`},
		{name: "more on an empty page", spec: receiptsSpec, out: page(`"Y"`, `{"X_ROWS_ITEM":[]}`), bad: "X_MORE is Y on an empty page"},
		{name: "a key at the cursor", spec: receiptsSpec, after: 9, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CASH_RECEIPT_ID":"9"}]}`), bad: "does not follow 9"},
		{name: "keys out of order", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CASH_RECEIPT_ID":"9"},{"CASH_RECEIPT_ID":"8"}]}`), bad: "row 1"},
		{name: "a repeated key", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CASH_RECEIPT_ID":"9"},{"CASH_RECEIPT_ID":"9"}]}`), bad: "keyset order"},
		{name: "a key that is not an id", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CASH_RECEIPT_ID":"-4"}]}`), bad: `"-4" is not an id`},
		{name: "no key", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"AMOUNT":"1"}]}`), bad: "CASH_RECEIPT_ID"},
		{name: "no party type", spec: customersSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CUST_ACCOUNT_ID":"1"}]}`), bad: "no PARTY_TYPE"},
		{name: "a receivable without its remaining amount", spec: receivablesSpec,
			out: page(`"N"`, `{"X_ROWS_ITEM":[{"CUSTOMER_TRX_ID":"1","STATUS":"OP"}]}`), bad: "no AMOUNT_DUE_REMAINING"},
		{name: "a receivable status", spec: receivablesSpec,
			out: page(`"N"`, `{"X_ROWS_ITEM":[{"CUSTOMER_TRX_ID":"1","STATUS":"PE","AMOUNT_DUE_REMAINING":"0"}]}`), bad: `STATUS "PE"`},
		{name: "a nested value", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":[{"CASH_RECEIPT_ID":"1","X":{"Y":"1"}}]}`), bad: "X is not a string"},
		{name: "a list of scalars", spec: receiptsSpec, out: page(`"N"`, `{"X_ROWS_ITEM":["1"]}`), bad: "not a record"},
		{name: "another table name", spec: receiptsSpec, out: page(`"N"`, `{"ROWS_ITEM":[]}`), bad: "unexpected key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, last, more, err := decodePage(tt.out, tt.spec, tt.after)
			if tt.bad != "" {
				var e *erp.Error
				if !errors.As(err, &e) || e.Code != "malformed_response" || !strings.Contains(e.Message, tt.bad) ||
					!strings.HasPrefix(e.Message, tt.spec.method+": ") {
					t.Fatalf("got %v, want malformed_response naming %q", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.last == 0 {
				tt.last = tt.after
			}
			if d := cmp.Diff(tt.want, got); d != "" || last != tt.last || more != tt.more {
				t.Errorf("last %d more %v (-want +got):\n%s", last, more, d)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	t.Run("contacts", func(t *testing.T) {
		tests := []struct {
			name string
			row  ContactPointRow
			want contactRec
		}{
			{"a consumer's mobile", ContactPointRow{ContactPointID: "9", CustAccountID: "1", AccountNumber: "C", PartyType: "PERSON",
				Type: "PHONE", LineType: "MOBILE", CountryCode: "+1", AreaCode: "617", Number: "253-1000", Extension: "12", Country: "US"},
				contactRec{CustomerID: "C", ContactID: "CP-9-1", Kind: "phone", Phone: "+1 617 253-1000", LineType: "mobile", Country: "US"}},
			{"a general line is not assumed a landline", ContactPointRow{Type: "PHONE", LineType: "GEN", Number: "6172531000", Country: "US"},
				contactRec{ContactID: "CP--", Kind: "phone", Phone: "6172531000", LineType: "unknown", Country: "US"}},
			{"a business line", ContactPointRow{Type: "PHONE", Purpose: "BUSINESS", AreaCode: "617", Number: "2531000"},
				contactRec{ContactID: "CP--", Kind: "phone", Phone: "617 2531000", LineType: "work"}},
			{"a fax goes on to be rejected", ContactPointRow{Type: "PHONE", LineType: "FAX", Number: "1"},
				contactRec{ContactID: "CP--", Kind: "phone", Phone: "1", LineType: "fax"}},
			{"a consumer's business email", ContactPointRow{Type: "EMAIL", Purpose: "BUSINESS", PartyType: "PERSON", Email: "j@acme.example", Country: "US"},
				contactRec{ContactID: "CP--", Kind: "email", Email: "j@acme.example", EmployerProvided: "true"}},
			{"an organisation's business email", ContactPointRow{Type: "EMAIL", Purpose: "BUSINESS", PartyType: "ORGANIZATION", Email: "ar@acme.example"},
				contactRec{ContactID: "CP--", Kind: "email", Email: "ar@acme.example"}},
			{"do not contact", ContactPointRow{Type: "EMAIL", Email: "a@b.example", Preference: "DO_NOT", PreferenceStart: "2026-01-05"},
				contactRec{ContactID: "CP--", Kind: "email", Email: "a@b.example", Consent: "revoked", ConsentAt: "2026-01-05T00:00:00Z"}},
			{"a DO preference is not consent", ContactPointRow{Type: "EMAIL", Email: "a@b.example", Preference: "DO", PreferenceStart: "2026-01-05"},
				contactRec{ContactID: "CP--", Kind: "email", Email: "a@b.example"}},
			{"an unknown preference goes on", ContactPointRow{Type: "EMAIL", Email: "a@b.example", Preference: "MAYBE"},
				contactRec{ContactID: "CP--", Kind: "email", Email: "a@b.example", Consent: "maybe"}},
			{"another type goes on", ContactPointRow{Type: "WEB"}, contactRec{ContactID: "CP--", Kind: "web"}},
		}
		for _, tt := range tests {
			if d := cmp.Diff(tt.want, contactRecord(tt.row)); d != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, d)
			}
		}
	})
	t.Run("customers", func(t *testing.T) {
		for in, want := range map[string]string{"ORGANIZATION": "business", "PERSON": "consumer", "person": "consumer", "GROUP": "group"} {
			if got := customerRecord(CustomerRow{PartyType: in}).Kind; got != want {
				t.Errorf("%s: %q, want %q", in, got, want)
			}
		}
	})
	t.Run("addresses", func(t *testing.T) {
		got := addressRecord(AddressRow{CustAcctSiteID: "5", AccountNumber: "C", Address1: "1 Main St", Address2: "Suite 2",
			Address4: "Attn AP", City: "Toronto", Province: "ON", PostalCode: "M5V 2T6", Country: "CA", Preference: "DO_NOT"})
		want := contactRec{CustomerID: "C", ContactID: "AS-5", Kind: "postal", Line1: "1 Main St", Line2: "Suite 2, Attn AP",
			City: "Toronto", State: "ON", ZIP: "M5V 2T6", Country: "CA", Consent: "revoked"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("invoices", func(t *testing.T) {
		tests := []struct {
			row  ReceivableRow
			want invoiceRec
		}{
			{ReceivableRow{TrxNumber: "I", AccountNumber: "C", TrxDate: "2026-01-01", DueDate: "2026-02-01", AmountDueOriginal: "1,000.10",
				AmountDueRemaining: ".5", AmountInDispute: "0.00", Status: "OP", DateClosed: "2026-03-01"},
				invoiceRec{InvoiceID: "I", CustomerID: "C", InvoiceDate: "2026-01-01", DueDate: "2026-02-01", Amount: "1,000.10", OpenAmount: ".5"}},
			{ReceivableRow{AmountDueRemaining: "0", AmountInDispute: "-.01", Status: "CL", DateClosed: "2026-03-01", Currency: "EUR"},
				invoiceRec{OpenAmount: "0", Currency: "EUR", Disputed: "true", ClosedDate: "2026-03-01"}},
			{ReceivableRow{AmountDueRemaining: "1", AmountInDispute: "1e3"}, invoiceRec{OpenAmount: "1", Disputed: "1e3"}},
		}
		for _, tt := range tests {
			if d := cmp.Diff(tt.want, invoiceRecord(tt.row)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		}
	})
}

// TestSnapshotIngest: a live pull goes through ingest.Parse as a file
// would: good rows become ledger records, bad rows become rejects naming
// the record and field, and nothing is lost.
func TestSnapshotIngest(t *testing.T) {
	sim, c := readSim(t,
		ebssim.AccountSeed{Number: "C-1", Currency: "USD", Name: "Acme Corp", Country: "US", CustomerClass: "COMMERCIAL", UpdatedAt: t1,
			Contacts: []ebssim.ContactSeed{
				{Type: "PHONE", Purpose: "BUSINESS", CountryCode: "1", AreaCode: "617", Number: "253-1000"},
				{Type: "PHONE", LineType: "FAX", AreaCode: "617", Number: "253-1001"},
				{Type: "EMAIL", Purpose: "COLLECTIONS", Email: "ap@acme.example"},
				{Type: "EMAIL", Email: "old@acme.example", Status: "I"}},
			Addresses: []ebssim.AddressSeed{{Address1: "77 Massachusetts Ave", City: "Cambridge", State: "MA", PostalCode: "02139", Country: "US"}},
			Invoices: []ebssim.InvoiceSeed{
				{Number: "INV-1", TrxDate: "2026-01-05", DueDate: "2026-02-04", Amount: "1200.00", Remaining: "700.00"},
				{Number: "INV-2", TrxDate: "2026-01-06", DueDate: "2026-02-05", Amount: "80.50", InDispute: "80.50"},
				{Number: "INV-0", TrxDate: "2025-11-01", DueDate: "2025-12-01", Amount: "10.00", Remaining: "0", Status: "CL", ClosedDate: "2025-12-15"}},
			Receipts: []ebssim.ReceiptSeed{{Number: "R-1", Date: "2026-01-20", Amount: "500.00", AppliedTo: "INV-1"}}},
		ebssim.AccountSeed{Number: "C-2", Currency: "USD", Name: "Jane Doe", PartyType: "PERSON", Country: "US", UpdatedAt: t1,
			Contacts: []ebssim.ContactSeed{
				{Type: "PHONE", LineType: "MOBILE", CountryCode: "1", AreaCode: "415", Number: "555-2671", Preference: "DO_NOT", PreferenceStart: "2026-01-10"},
				{Type: "EMAIL", Purpose: "BUSINESS", Email: "jane@employer.example"},
				{Type: "EMAIL", Email: "jane at home"}},
			Invoices: []ebssim.InvoiceSeed{
				{Number: "INV-3", TrxDate: "2026-01-07", DueDate: "2026-02-06", Amount: "300.00", Remaining: "-20.00"},
				{Number: "INV-4", TrxDate: "2026-01-08", DueDate: "2026-02-07", Amount: "90.00", Currency: "EUR"}}},
		// The seed shape before reads still works: a write-back fixture
		// reads as a named organisation without receivables.
		ebssim.AccountSeed{Number: "C-3", Currency: "USD", Transactions: []string{"INV-9"}},
	)
	var doc bytes.Buffer
	n, err := snapshot(context.Background(), c, &doc, Pull{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(doc.Bytes()) {
		t.Fatalf("not JSON:\n%s", doc.String())
	}
	if want := (Counts{Customers: 3, Contacts: 6, Invoices: 4, Payments: 1, Latest: t1}); n.Customers != want.Customers ||
		n.Contacts != want.Contacts || n.Invoices != want.Invoices || n.Payments != want.Payments || !n.Latest.After(t1.Add(-time.Second)) {
		t.Errorf("counts %+v, want %+v (Latest at or after t1)", n, want)
	}
	if calls := sim.Stats().Requests["xx_recoup/open_receivables"]; calls != 2 {
		t.Errorf("%d open_receivables pages, want 2 of at most 2 rows", calls)
	}

	b, err := ingest.Parse(context.Background(), ingest.Options{Tenant: "t1", AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		[]ingest.File{{Name: "oracle-ebs", R: bytes.NewReader(doc.Bytes())}}, nil)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, doc.String())
	}

	type cust struct {
		ID, Name string
		Kind     ledger.CustomerKind
		Country  string
	}
	var custs []cust
	for _, c := range b.Customers {
		custs = append(custs, cust{c.ID, c.Name, c.Kind, c.Country})
	}
	if d := cmp.Diff([]cust{{"C-1", "Acme Corp", ledger.Business, "US"}, {"C-2", "Jane Doe", ledger.Consumer, "US"},
		{"C-3", "Customer C-3", ledger.Business, ""}}, custs); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}

	var contacts []string
	for _, c := range b.Contacts {
		s := c.Customer + " " + string(c.Kind) + " "
		switch {
		case c.Phone != nil:
			s += c.Phone.E164 + " " + string(c.Phone.Line)
		case c.Email != nil:
			s += fmt.Sprintf("%s employer=%v", c.Email.Address, c.Email.EmployerProvided)
		case c.Postal != nil:
			s += c.Postal.Line1 + " " + c.Postal.State + " " + c.Postal.ZIP
		}
		contacts = append(contacts, s+" "+string(c.Consent))
	}
	if d := cmp.Diff([]string{
		"C-1 phone +16172531000 work unknown",
		"C-1 email ap@acme.example employer=false unknown",
		"C-2 phone +14155552671 mobile revoked",
		"C-2 email jane@employer.example employer=true unknown",
		"C-1 postal 77 Massachusetts Ave MA 02139 unknown",
	}, contacts); d != "" {
		t.Errorf("contacts (-want +got):\n%s", d)
	}

	var invoices []string
	for _, i := range b.Invoices {
		invoices = append(invoices, fmt.Sprintf("%s %s %d/%d %s disputed=%v", i.ID, i.Customer, i.Open.Minor, i.Amount.Minor, i.Amount.Currency, i.Disputed))
	}
	if d := cmp.Diff([]string{"INV-1 C-1 70000/120000 USD disputed=false", "INV-2 C-1 8050/8050 USD disputed=true",
		"INV-4 C-2 9000/9000 EUR disputed=false"}, invoices); d != "" {
		t.Errorf("invoices (-want +got):\n%s", d)
	}
	if len(b.Payments) != 1 || b.Payments[0].ID != "98001" || b.Payments[0].Invoice != "INV-1" ||
		b.Payments[0].Amount.Minor != 50000 || b.Payments[0].Reference != "R-1" {
		t.Errorf("payments %+v", b.Payments)
	}

	type rej struct {
		Record, Field, Value string
		Rule                 ingest.Rule
	}
	var rejects []rej
	for _, r := range b.Rejects {
		rejects = append(rejects, rej{r.Record, r.Field, r.Value, r.Rule})
		if !strings.Contains(r.Raw, r.Value) {
			t.Errorf("reject raw %q does not hold %q", r.Raw, r.Value)
		}
	}
	if d := cmp.Diff([]rej{
		{"contacts[4]", "email", "jane at home", ingest.RuleInvalidEmail},
		{"invoices[2]", "open_amount", "-20.00", ingest.RuleOpenOutOfRange},
	}, rejects); d != "" {
		t.Errorf("rejects (-want +got):\n%s\n%s", d, doc.String())
	}
	if f := b.Files[0]; f.Read != 3+6+4+1 || f.Rejected != 2 {
		t.Errorf("read %d, rejected %d", f.Read, f.Rejected)
	}
}

// TestSnapshotFailsWhole: a pull that fails half way returns the error,
// and what was written is not a document ingest would take.
func TestSnapshotFailsWhole(t *testing.T) {
	sim, c := readSim(t, fiveAccounts()...)
	if err := sim.SetFaults(ebssim.Faults{Rate: 1, Kinds: []ebssim.FaultKind{ebssim.FaultUnexpectedError}}); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	_, err := Snapshot(context.Background(), c, &doc, time.Time{})
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.ClassTransient || !strings.Contains(err.Error(), "read customers, page 1") {
		t.Fatalf("got %v", err)
	}
	if _, err := ingest.Parse(context.Background(), ingest.Options{Tenant: "t1"},
		[]ingest.File{{Name: "partial", R: &doc}}, nil); err == nil {
		t.Errorf("ingest took a partial document: %s", doc.String())
	}
}
