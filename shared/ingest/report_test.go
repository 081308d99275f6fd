package ingest

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestWriteRejectsCSV(t *testing.T) {
	rejects := []Reject{
		{File: "a.csv", Line: 3, Record: "row 2", Kind: KindInvoices, Field: "amount", Value: "-5.00",
			Reason: "amount -5.00 must be greater than zero", Rule: RuleNotPositive, Raw: "I1,C1,\"x, y\",-5.00"},
		{File: "a.csv", Line: 4, Record: "row 3", Kind: KindInvoices, Field: "invoice_id", Value: "=HYPERLINK(\"http://evil\")",
			Reason: "r", Rule: RuleInvalidID, Raw: "@SUM(A1)"},
		{File: "b.json", Line: 7, Record: "invoices[0]", Field: "x", Value: "-cmd|' /C calc'!A0", Reason: "r", Rule: RuleUnknownField, Raw: "+1\n{\n}"},
	}
	var buf bytes.Buffer
	if err := WriteRejectsCSV(&buf, rejects); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"file", "line", "record", "kind", "field", "value", "reason", "raw"},
		{"a.csv", "3", "row 2", "invoices", "amount", "-5.00", "amount -5.00 must be greater than zero", "I1,C1,\"x, y\",-5.00"},
		{"a.csv", "4", "row 3", "invoices", "invoice_id", "'=HYPERLINK(\"http://evil\")", "r", "'@SUM(A1)"},
		{"b.json", "7", "invoices[0]", "", "x", "'-cmd|' /C calc'!A0", "r", "'+1\n{\n}"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rejects CSV (-want +got):\n%s", d)
	}
}

func TestRawLines(t *testing.T) {
	// CRLF, a BOM, a quoted field spanning lines and a very long row.
	long := strings.Repeat("é", 400) // 800 bytes
	in := "\xef\xbb\xbf" + strings.ReplaceAll(hdrInv, "\n", "\r\n") +
		"I1,C9,2026-01-05,2026-02-04,10.00,,USD,,\r\n" +
		"\"I\r\n2\",C1,2026-01-05,2026-02-04,10.00,,USD,,\r\n" +
		"I3," + long + ",2026-01-05,2026-02-04,10.00,,USD,,\r\n"
	b := mustParse(t, opts(""), newLookup("C1"), csvFile("crlf.csv", in))
	want := []rj{{2, "customer_id", RuleUnknownCustomer}, {3, "invoice_id", RuleInvalidID}, {5, "customer_id", RuleInvalidID}}
	if d := cmp.Diff(want, rejectsOf(b)); d != "" {
		t.Fatalf("rejects (-want +got):\n%s", d)
	}
	if r := b.Rejects[0].Raw; r != "I1,C9,2026-01-05,2026-02-04,10.00,,USD,," {
		t.Errorf("raw = %q", r)
	}
	if r := b.Rejects[1].Raw; r != "\"I\r\n2\",C1,2026-01-05,2026-02-04,10.00,,USD,," {
		t.Errorf("raw = %q", r)
	}
	r := b.Rejects[2]
	if len(r.Raw) > maxRaw || len(r.Raw) < maxRaw-3 || !utf8.ValidString(r.Raw) || !strings.HasPrefix(r.Raw, "I3,éé") {
		t.Errorf("long raw: %d bytes, valid %v", len(r.Raw), utf8.ValidString(r.Raw))
	}
	if len(r.Value) > maxRaw || !utf8.ValidString(r.Value) {
		t.Errorf("long value: %d bytes", len(r.Value))
	}
}

func TestWriteReport(t *testing.T) {
	b := mustParse(t, opts(FormatOracleEBS), newLookup("C-1001"),
		testdataFile(t, "bad_rows.csv"), testdataFile(t, "ebs_ar_payment_schedules.csv"),
		csvFile("extra.csv", hdrPay[:len(hdrPay)-1]+",notes\nP1,C-1001,,5.00,USD,2026-02-01,,vip\n"))
	var buf bytes.Buffer
	if err := WriteReport(&buf, b); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"file                          format      kind            rows read   accepted   rejected\n",
		"bad_rows.csv                  canonical   invoices               25          2         23\n",
		"                                          (unclassified)          1          0          1\n",
		"total                                                            33          9         24\n",
		"1 blank row(s) skipped.",
		"records: 3 customers, 0 contacts, 7 invoices, 2 payments, 1 disputes",
		"unknown columns (ignored):\n  extra.csv: notes\n",
		"        2  amount        amount not above zero           bad_rows.csv line 14\n",
		"(other)       10 more field/reason pairs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// The table says where, never the rejected values (they may be personal data).
	if strings.Contains(out, "-50.00") {
		t.Errorf("report quotes a rejected value:\n%s", out)
	}
	// A clean import says so.
	buf.Reset()
	b = mustParse(t, opts(""), newLookup("C1"), csvFile("ok.csv", hdrInv+okInv))
	if err := WriteReport(&buf, b); err != nil || !strings.Contains(buf.String(), "no rejects") {
		t.Errorf("err %v, report:\n%s", err, buf.String())
	}
}
