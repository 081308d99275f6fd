// Package portfolio generates a seeded, reproducible sample AR portfolio in
// Recoup's canonical CSV import format (shared/ingest/FORMAT.md): customers,
// contacts, invoices and payments, plus a manifest.json that records the
// configuration, row counts and every deliberately bad row.
//
// The same Config always produces byte-identical files, on any platform: the
// generator draws from math/rand/v2's PCG seeded from Config.Seed, uses only
// integer arithmetic (money in minor units, a fixed-point exp table for the
// log-normal amounts), never ranges over a map to produce output and never
// reads the clock. Good rows do not depend on Config.BadRows: bad rows are
// extra rows inserted between them, with ids of their own, so turning them on
// leaves every good record, and so the baseline KPIs, unchanged.
//
// The package lives under testdata so that `go test ./...` skips it; import
// it by its full path and test it with `go test ./testdata/portfolio/`.
package portfolio

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Config sizes and seeds a portfolio. Zero fields take the defaults noted;
// BadRows has no default because false is its zero value (Default sets it).
type Config struct {
	Seed      int64     `json:"seed"`      // 0 means 42
	Customers int       `json:"customers"` // 0 means 5000
	Invoices  int       `json:"invoices"`  // good invoice rows; 0 means 20000
	AsOf      time.Time `json:"as_of"`     // export date; zero means 2026-11-01 UTC
	Tenant    string    `json:"tenant"`    // "" means "demo"; not a CSV column, passed at import
	BadRows   bool      `json:"inject_bad_rows"`
}

// Default is the demo portfolio: 5000 customers, 20000 invoices as of
// 2026-11-01, tenant "demo", with bad rows.
func Default() Config {
	return Config{Seed: 42, Customers: 5000, Invoices: 20000, AsOf: ledger.Date(2026, 11, 1), Tenant: "demo", BadRows: true}
}

// withDefaults fills zero fields from Default (BadRows stays as given).
func (c Config) withDefaults() Config {
	d := Default()
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Customers == 0 {
		c.Customers = d.Customers
	}
	if c.Invoices == 0 {
		c.Invoices = d.Invoices
	}
	if c.AsOf.IsZero() {
		c.AsOf = d.AsOf
	}
	y, m, dd := c.AsOf.UTC().Date()
	c.AsOf = ledger.Date(y, m, dd)
	if c.Tenant == "" {
		c.Tenant = d.Tenant
	}
	return c
}

// Defect classes of bad rows. Each bad row has exactly one.
type Defect string

// Defect classes.
const (
	DueBeforeInvoice  Defect = "due_before_invoice" // invoices: due_date earlier than invoice_date
	UnknownCustomer   Defect = "unknown_customer"   // a customer_id that is not in customers.csv
	DuplicateInvoice  Defect = "duplicate_invoice"  // invoices: an earlier row's invoice_id again
	BadPhone          Defect = "bad_phone"          // contacts: a phone libphonenumber rejects
	BadEmail          Defect = "bad_email"          // contacts: not an RFC 5322 address
	ImpossibleDate    Defect = "impossible_date"    // a calendar date that does not exist
	ZeroAmount        Defect = "zero_amount"        // amount 0.00
	NegativeAmount    Defect = "negative_amount"    // amount below zero
	UnknownCurrency   Defect = "unknown_currency"   // not an ISO 4217 code
	MissingCustomerID Defect = "missing_customer_id"
	BadZIP            Defect = "bad_zip" // contacts: a US ZIP that is not 12345 or 12345-6789
)

// defectsByFile lists the classes each file gets, in the order they are
// dealt out, so every class appears once a file has as many bad rows.
var defectsByFile = map[string][]Defect{
	fileContacts: {BadPhone, BadEmail, BadZIP, UnknownCustomer, MissingCustomerID},
	fileInvoices: {DueBeforeInvoice, UnknownCustomer, DuplicateInvoice, ImpossibleDate, ZeroAmount,
		NegativeAmount, UnknownCurrency, MissingCustomerID},
	filePayments: {UnknownCustomer, ImpossibleDate, ZeroAmount, NegativeAmount, UnknownCurrency, MissingCustomerID},
}

// File names written by Generate.
const (
	fileCustomers = "customers.csv"
	fileContacts  = "contacts.csv"
	fileInvoices  = "invoices.csv"
	filePayments  = "payments.csv"
	fileManifest  = "manifest.json"
)

// FileInfo counts one CSV file's data rows (the header excluded).
type FileInfo struct {
	Rows int `json:"rows"` // rows written
	Good int `json:"good"` // rows without a defect
}

// BadRow locates one deliberately bad row.
type BadRow struct {
	File  string `json:"file"`
	Line  int    `json:"line"` // 1-based physical line; the header is line 1
	Field string `json:"field"`
	Class Defect `json:"class"`
	Value string `json:"value"` // the defective field as written
}

// Manifest describes a generated portfolio.
type Manifest struct {
	Config
	Files   map[string]FileInfo `json:"files"`
	BadRows []BadRow            `json:"bad_rows"` // by file, then line
}

// Generate writes customers.csv, contacts.csv, invoices.csv, payments.csv and
// manifest.json into dir (created if missing) and returns the manifest.
// Config.Invoices counts good invoices; bad rows, about 0.5% of the rows of
// contacts, invoices and payments when Config.BadRows is set, come on top.
func Generate(dir string, cfg Config) (Manifest, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.Customers < 1 || cfg.Customers > 999_999:
		return Manifest{}, fmt.Errorf("portfolio: customers %d outside 1..999999", cfg.Customers)
	case cfg.Invoices < 0 || cfg.Invoices > 9_999_999:
		return Manifest{}, fmt.Errorf("portfolio: invoices %d outside 0..9999999", cfg.Invoices)
	}
	if err := ledger.TenantID(cfg.Tenant).Validate(); err != nil {
		return Manifest{}, fmt.Errorf("portfolio: %w", err)
	}

	g := newGenerator(cfg)
	g.customers()
	g.contacts()
	g.invoices()
	g.payments()

	m := Manifest{Config: cfg, Files: map[string]FileInfo{}, BadRows: []BadRow{}}
	files := []struct {
		name   string
		header []string
		rows   [][]string
		bad    []badRow
	}{
		{fileCustomers, customerHeader, g.customerRows(), nil},
		{fileContacts, contactHeader, g.contactRows(), g.badContacts()},
		{fileInvoices, invoiceHeader, g.invoiceRows(), g.badInvoices()},
		{filePayments, paymentHeader, g.paymentRows(), g.badPayments()},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("portfolio: %w", err)
	}
	for _, f := range files {
		if !cfg.BadRows {
			f.bad = nil
		}
		rows, bad := merge(f.name, f.rows, f.bad)
		data, err := encodeCSV(f.header, rows)
		if err != nil {
			return Manifest{}, fmt.Errorf("portfolio: %s: %w", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), data, 0o644); err != nil {
			return Manifest{}, fmt.Errorf("portfolio: %w", err)
		}
		m.Files[f.name] = FileInfo{Rows: len(rows), Good: len(f.rows)}
		m.BadRows = append(m.BadRows, bad...)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("portfolio: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileManifest), append(data, '\n'), 0o644); err != nil {
		return Manifest{}, fmt.Errorf("portfolio: %w", err)
	}
	return m, nil
}

// badRow is a defective record and where it goes: after the good row with
// index after (so a duplicate can copy an id from a row already written).
type badRow struct {
	after  int
	record []string
	field  string
	class  Defect
}

// merge interleaves bad rows into the good ones and computes their lines.
func merge(file string, good [][]string, bad []badRow) ([][]string, []BadRow) {
	out := make([][]string, 0, len(good)+len(bad))
	var found []BadRow
	col := map[string]int{}
	for i, h := range headerOf(file) {
		col[h] = i
	}
	b := 0
	for i, row := range good {
		out = append(out, row)
		for b < len(bad) && bad[b].after == i {
			r := bad[b]
			out = append(out, r.record)
			found = append(found, BadRow{File: file, Line: len(out) + 1, Field: r.field, Class: r.class, Value: r.record[col[r.field]]})
			b++
		}
	}
	return out, found
}

func headerOf(file string) []string {
	switch file {
	case fileContacts:
		return contactHeader
	case fileInvoices:
		return invoiceHeader
	case filePayments:
		return paymentHeader
	}
	return customerHeader
}

// encodeCSV writes RFC 4180 CSV with LF line ends. No generated field holds a
// line break, so every record is one physical line and the manifest's line
// numbers are plain record numbers.
func encodeCSV(header []string, rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if len(r) != len(header) {
			return nil, errors.New("row width differs from header")
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Phases draw from independent streams so that, for example, a change in how
// contacts are generated does not reshuffle every invoice.
const (
	streamCustomers = iota + 1
	streamContacts
	streamInvoices
	streamPayments
	streamBadRows
)

func stream(seed int64, phase uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x7265636f7570<<8|phase)) // "recoup" + phase
}
