package ingest

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The validation benchmark parses 20,000 generated invoice rows whose 2,000
// customers all exist in an in-memory ledger.
const benchRows, benchCustomers = 20000, 2000

// benchInvoices is a canonical invoices file of benchRows rows over
// benchCustomers known customers.
func benchInvoices() (string, *memLookup) {
	const rows, customers = benchRows, benchCustomers
	var sb strings.Builder
	sb.WriteString(hdrInv)
	lookup := newLookup()
	for c := 0; c < customers; c++ {
		lookup.ids[fmt.Sprintf("CUST-%05d", c)] = true
	}
	for i := 0; i < rows; i++ {
		day := 1 + i%28
		closed, open := "", fmt.Sprintf("%d.%02d", 100+i%900, i%100)
		if i%3 == 0 {
			closed, open = fmt.Sprintf("2026-02-%02d", day), "0"
		}
		fmt.Fprintf(&sb, "INV-%07d,CUST-%05d,2026-01-%02d,2026-02-%02d,%d.%02d,%s,USD,%t,%s\n",
			i, i%customers, day, day, 100+i%900, i%100, open, i%17 == 0, closed)
	}
	return sb.String(), lookup
}

// BenchmarkValidateRowsPerSecond is parse plus every validation rule;
// `make bench` reports it against BenchmarkBaselineCSVReadRowsPerSecond.
func BenchmarkValidateRowsPerSecond(b *testing.B) {
	const rows = benchRows
	data, lookup := benchInvoices()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		lookup.calls = nil
		batch, err := Parse(context.Background(), opts(""), []File{{Name: "bench.csv", R: strings.NewReader(data)}}, lookup)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Invoices) != rows {
			b.Fatalf("%d invoices, %d rejects: %+v", len(batch.Invoices), len(batch.Rejects), batch.Rejects[0])
		}
		total += rows
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkBaselineCSVReadRowsPerSecond reads the same bytes with
// encoding/csv and does nothing else: the floor validation is measured against.
func BenchmarkBaselineCSVReadRowsPerSecond(b *testing.B) {
	data, _ := benchInvoices()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		r := csv.NewReader(strings.NewReader(data))
		r.ReuseRecord = true
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows+1 {
			b.Fatalf("read %d records, want %d", n, benchRows+1)
		}
		total += benchRows
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
}
