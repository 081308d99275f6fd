package portfolio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var allFiles = []string{fileCustomers, fileContacts, fileInvoices, filePayments, fileManifest}

// small keeps most tests fast.
func small() Config {
	return Config{Seed: 7, Customers: 500, Invoices: 2000, BadRows: true}
}

func generate(t *testing.T, cfg Config) (string, Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := Generate(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// portfolio is a generated directory read back: records without headers,
// with each file's bad lines.
type portfolio struct {
	records map[string][][]string
	header  map[string][]string
	bad     map[string]map[int]BadRow // file -> line -> row
}

func load(t *testing.T, dir string, m Manifest) portfolio {
	t.Helper()
	p := portfolio{records: map[string][][]string{}, header: map[string][]string{}, bad: map[string]map[int]BadRow{}}
	for _, f := range allFiles[:4] {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// One record per physical line, so manifest lines are record numbers.
		lines := 0
		for sc := bufio.NewScanner(bytes.NewReader(data)); sc.Scan(); {
			lines++
		}
		if lines != len(recs) {
			t.Fatalf("%s: %d lines but %d records", f, lines, len(recs))
		}
		p.header[f], p.records[f] = recs[0], recs[1:]
		p.bad[f] = map[int]BadRow{}
	}
	for _, b := range m.BadRows {
		p.bad[b.File][b.Line] = b
	}
	return p
}

// get returns a record's field by column name.
func (p portfolio) get(file string, rec []string, field string) string {
	return rec[slices.Index(p.header[file], field)]
}

// good yields the records that are not manifest bad rows.
func (p portfolio) good(file string) [][]string {
	var out [][]string
	for i, r := range p.records[file] {
		if _, bad := p.bad[file][i+2]; !bad {
			out = append(out, r)
		}
	}
	return out
}

func TestDeterministic(t *testing.T) {
	cfg := small()
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	cfg.Seed = 8
	c, _ := generate(t, cfg)
	for _, f := range allFiles {
		da, _ := os.ReadFile(filepath.Join(a, f))
		db, _ := os.ReadFile(filepath.Join(b, f))
		dc, _ := os.ReadFile(filepath.Join(c, f))
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
		if bytes.Equal(da, dc) {
			t.Errorf("%s is the same for seeds 7 and 8", f)
		}
	}
}

// Turning bad rows off removes exactly the manifest's lines and changes no
// good row, so KPIs over the good data do not depend on the flag.
func TestBadRowsDoNotDisturbGoodRows(t *testing.T) {
	cfg := small()
	dirBad, mBad := generate(t, cfg)
	cfg.BadRows = false
	dirClean, mClean := generate(t, cfg)
	if len(mClean.BadRows) != 0 {
		t.Errorf("BadRows false: manifest lists %d bad rows", len(mClean.BadRows))
	}
	withBad, clean := load(t, dirBad, mBad), load(t, dirClean, mClean)
	for _, f := range allFiles[:4] {
		if diff := cmp.Diff(clean.records[f], withBad.good(f)); diff != "" {
			t.Errorf("%s: good rows differ with bad rows on (-off +on):\n%s", f, diff)
		}
	}
}

func TestCounts(t *testing.T) {
	cfg := small()
	dir, m := generate(t, cfg)
	p := load(t, dir, m)
	if got := len(p.records[fileCustomers]); got != cfg.Customers {
		t.Errorf("customers.csv has %d rows, want %d", got, cfg.Customers)
	}
	if got := m.Files[fileInvoices].Good; got != cfg.Invoices {
		t.Errorf("good invoices %d, want %d", got, cfg.Invoices)
	}
	for _, f := range allFiles[:4] {
		info := m.Files[f]
		if info.Rows != len(p.records[f]) {
			t.Errorf("%s: manifest says %d rows, file has %d", f, info.Rows, len(p.records[f]))
		}
		if bad := len(p.bad[f]); info.Rows-info.Good != bad {
			t.Errorf("%s: rows %d - good %d != %d bad rows", f, info.Rows, info.Good, bad)
		}
		classes := defectsByFile[f]
		if f == fileCustomers {
			continue
		}
		// About 0.5%, and every class at least once.
		want := max(len(classes), (info.Good*5+500)/1000)
		if len(p.bad[f]) != want {
			t.Errorf("%s: %d bad rows, want %d", f, len(p.bad[f]), want)
		}
		seen := map[Defect]bool{}
		for _, b := range p.bad[f] {
			seen[b.Class] = true
		}
		for _, c := range classes {
			if !seen[c] {
				t.Errorf("%s: no %s row", f, c)
			}
		}
	}
	// The manifest on disk is the one returned.
	data, err := os.ReadFile(filepath.Join(dir, fileManifest))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk Manifest
	if err := json.Unmarshal(data, &onDisk); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, onDisk); diff != "" {
		t.Errorf("manifest.json differs from the returned manifest:\n%s", diff)
	}
}

// phoneOK reports whether a phone field is valid the way FORMAT.md reads it.
func phoneOK(s, country string) bool {
	if country == "" {
		country = "US"
	}
	n, err := phonenumbers.Parse(s, country)
	return err == nil && phonenumbers.IsValidNumber(n)
}

var (
	usZIP     = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
	dateShape = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

func emailOK(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// validate checks every row of the contacts, invoices and payments files
// against the canonical format's rules and returns, per line, the defects
// found. It is written from FORMAT.md, independently of the generator.
func validate(t *testing.T, p portfolio) map[string]map[int][]Defect {
	t.Helper()
	found := map[string]map[int][]Defect{fileContacts: {}, fileInvoices: {}, filePayments: {}}
	customers := map[string]string{} // id -> currency
	for _, r := range p.records[fileCustomers] {
		customers[p.get(fileCustomers, r, "customer_id")] = p.get(fileCustomers, r, "currency")
	}
	customer := func(id string) []Defect {
		switch {
		case id == "":
			return []Defect{MissingCustomerID}
		case customers[id] == "":
			return []Defect{UnknownCustomer}
		}
		return nil
	}
	date := func(s string) (time.Time, []Defect) {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			if !dateShape.MatchString(s) {
				t.Errorf("date %q is not even date-shaped", s)
			}
			return d, []Defect{ImpossibleDate}
		}
		return d, nil
	}
	amount := func(s, code string) (money.Amount, []Defect) {
		cur, err := money.ParseCurrency(code)
		var defects []Defect
		if err != nil {
			defects = append(defects, UnknownCurrency)
			cur = usd
		}
		a, err := money.Parse(s, cur)
		switch {
		case err != nil:
			t.Errorf("amount %q does not parse: %v", s, err)
		case a.Minor == 0:
			defects = append(defects, ZeroAmount)
		case a.Minor < 0:
			defects = append(defects, NegativeAmount)
		}
		return a, defects
	}

	ids := map[string]bool{}
	for i, r := range p.records[fileContacts] {
		get := func(f string) string { return p.get(fileContacts, r, f) }
		d := customer(get("customer_id"))
		if ids[get("contact_id")] {
			d = append(d, "duplicate_contact")
		}
		ids[get("contact_id")] = true
		switch get("kind") {
		case "phone":
			if !phoneOK(get("phone"), get("country")) {
				d = append(d, BadPhone)
			}
		case "email":
			if !emailOK(get("email")) {
				d = append(d, BadEmail)
			}
		case "postal":
			if get("line1") == "" || get("city") == "" {
				d = append(d, "incomplete_address")
			}
			if get("country") == "US" && !usZIP.MatchString(get("zip")) {
				d = append(d, BadZIP)
			}
		default:
			d = append(d, "bad_kind")
		}
		found[fileContacts][i+2] = d
	}

	type goodInvoice struct{ customer, currency string }
	goodInvoices := map[string]goodInvoice{}
	clear(ids)
	for i, r := range p.records[fileInvoices] {
		get := func(f string) string { return p.get(fileInvoices, r, f) }
		d := customer(get("customer_id"))
		if ids[get("invoice_id")] {
			d = append(d, DuplicateInvoice)
		}
		ids[get("invoice_id")] = true
		invDate, dd := date(get("invoice_date"))
		d = append(d, dd...)
		due, dd := date(get("due_date"))
		d = append(d, dd...)
		if !invDate.IsZero() && !due.IsZero() && due.Before(invDate) {
			d = append(d, DueBeforeInvoice)
		}
		amt, dd := amount(get("amount"), get("currency"))
		d = append(d, dd...)
		if o := get("open_amount"); o != "" {
			open, err := money.Parse(o, amt.Currency)
			if err != nil || open.Minor < 0 || open.Minor > amt.Minor {
				d = append(d, "bad_open_amount")
			}
		}
		if c := get("closed_date"); c != "" {
			if closed, err := time.Parse("2006-01-02", c); err != nil || closed.Before(invDate) {
				d = append(d, "bad_closed_date")
			}
		}
		if len(d) == 0 && customers[get("customer_id")] != get("currency") {
			d = append(d, "currency_not_the_account's")
		}
		found[fileInvoices][i+2] = d
		if len(d) == 0 {
			goodInvoices[get("invoice_id")] = goodInvoice{get("customer_id"), get("currency")}
		}
	}

	clear(ids)
	for i, r := range p.records[filePayments] {
		get := func(f string) string { return p.get(filePayments, r, f) }
		d := customer(get("customer_id"))
		if ids[get("payment_id")] {
			d = append(d, "duplicate_payment")
		}
		ids[get("payment_id")] = true
		_, dd := date(get("received_date"))
		d = append(d, dd...)
		_, dd = amount(get("amount"), get("currency"))
		d = append(d, dd...)
		if id := get("invoice_id"); id != "" {
			// Payments may only name good invoices, of their own customer.
			inv, ok := goodInvoices[id]
			if !ok || inv.customer != get("customer_id") {
				d = append(d, "references_a_bad_invoice")
			}
		}
		found[filePayments][i+2] = d
	}
	return found
}

// Each manifest bad row has exactly its own defect, shown by the row's
// content, and no other row has any.
func TestBadRowsShowTheirDefect(t *testing.T) {
	dir, m := generate(t, small())
	p := load(t, dir, m)
	found := validate(t, p)
	for _, f := range []string{fileContacts, fileInvoices, filePayments} {
		for line, defects := range found[f] {
			b, isBad := p.bad[f][line]
			switch {
			case !isBad && len(defects) > 0:
				t.Errorf("%s line %d is not in the manifest but has %v: %q", f, line, defects, p.records[f][line-2])
			case isBad && !slices.Equal(defects, []Defect{b.Class}):
				t.Errorf("%s line %d: manifest says %s, row has %v: %q", f, line, b.Class, defects, p.records[f][line-2])
			case isBad && p.get(f, p.records[f][line-2], b.Field) != b.Value:
				t.Errorf("%s line %d: %s is %q, manifest says %q", f, line, b.Field,
					p.get(f, p.records[f][line-2], b.Field), b.Value)
			}
		}
	}
	// The duplicate is the later line: the first occurrence is a good row.
	for _, b := range m.BadRows {
		if b.Class != DuplicateInvoice {
			continue
		}
		first := -1
		for i, r := range p.records[fileInvoices] {
			if r[0] == b.Value {
				first = i + 2
				break
			}
		}
		if first >= b.Line || len(found[fileInvoices][first]) != 0 {
			t.Errorf("duplicate %s at line %d: first occurrence line %d", b.Value, b.Line, first)
		}
	}
}

// Phones are E.164 as written, valid, and only from the area codes table.
func TestPhonesValid(t *testing.T) {
	dir, m := generate(t, small())
	p := load(t, dir, m)
	n := 0
	for _, r := range p.good(fileContacts) {
		if p.get(fileContacts, r, "kind") != "phone" {
			continue
		}
		n++
		s := p.get(fileContacts, r, "phone")
		num, err := phonenumbers.Parse(s, "US")
		if err != nil || !phonenumbers.IsValidNumber(num) {
			t.Errorf("%s: phone %q is not valid (%v)", r[1], s, err)
			continue
		}
		if e := phonenumbers.Format(num, phonenumbers.E164); e != s {
			t.Errorf("%s: phone %q is not in E.164 (%q)", r[1], s, e)
		}
		if !strings.HasPrefix(s[5:], "55501") {
			t.Errorf("%s: phone %q is outside the fictional 555-01xx block", r[1], s)
		}
	}
	if n == 0 {
		t.Fatal("no phones")
	}
}

// Every area code in the tables is valid for its country in libphonenumber,
// with the fictional 555-01xx lines the generator uses.
func TestAreaCodesValid(t *testing.T) {
	for country, regions := range map[string][]region{"US": usStates, "CA": caProvinces} {
		for _, reg := range regions {
			for _, c := range reg.cities {
				for _, npa := range c.npas {
					for _, line := range []string{"00", "99"} {
						n, err := phonenumbers.Parse("+1"+npa+"55501"+line, country)
						if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.GetRegionCodeForNumber(n) != country {
							t.Errorf("%s %s area code %s: not a valid %s number", reg.code, c.name, npa, country)
						}
					}
				}
			}
		}
	}
}

// statesOfAreaCode maps each US area code to its state(s) in the tables.
func statesOfAreaCode() map[string]string {
	m := map[string]string{}
	for _, reg := range usStates {
		for _, c := range reg.cities {
			for _, npa := range c.npas {
				m[npa] = reg.code
			}
		}
	}
	return m
}

// Addresses and phones cover the states the compliance engine needs, ZIPs
// match their state, and some customers' phones are from another state than
// their address.
func TestGeography(t *testing.T) {
	dir, m := generate(t, small())
	p := load(t, dir, m)
	zip3 := map[string][]string{} // state -> prefixes
	for _, reg := range usStates {
		for _, c := range reg.cities {
			zip3[reg.code] = append(zip3[reg.code], c.zip3...)
		}
	}
	npaState := statesOfAreaCode()
	postalStates, phoneStates := map[string]bool{}, map[string]bool{}
	address := map[string]string{} // customer -> state
	phones := map[string][]string{}
	for _, r := range p.good(fileContacts) {
		get := func(f string) string { return p.get(fileContacts, r, f) }
		switch get("kind") {
		case "postal":
			if get("country") != "US" {
				continue
			}
			st := get("state")
			postalStates[st] = true
			address[get("customer_id")] = st
			if !slices.Contains(zip3[st], get("zip")[:3]) {
				t.Errorf("%s: ZIP %s is not one of %s's %v", get("contact_id"), get("zip"), st, zip3[st])
			}
		case "phone":
			if st := npaState[get("phone")[2:5]]; st != "" {
				phoneStates[st] = true
				phones[get("customer_id")] = append(phones[get("customer_id")], st)
			}
		}
	}
	for _, st := range mustCover {
		if !postalStates[st] || !phoneStates[st] {
			t.Errorf("state %s: address %v, phone %v", st, postalStates[st], phoneStates[st])
		}
	}
	mismatched := 0
	for cust, st := range address {
		for _, ps := range phones[cust] {
			if ps != st {
				mismatched++
			}
		}
	}
	if mismatched < len(forcedMismatch) {
		t.Errorf("%d phones in another state than the address, want at least %d", mismatched, len(forcedMismatch))
	}
}

// Emails are valid and only at reserved domains; some are employer-provided.
func TestEmails(t *testing.T) {
	dir, m := generate(t, small())
	p := load(t, dir, m)
	employer := 0
	for _, r := range p.good(fileContacts) {
		if p.get(fileContacts, r, "kind") != "email" {
			continue
		}
		e := p.get(fileContacts, r, "email")
		_, domain, _ := strings.Cut(e, "@")
		if !emailOK(e) || !slices.Contains(emailDomains, domain) {
			t.Errorf("%s: email %q", r[1], e)
		}
		if p.get(fileContacts, r, "employer_provided") == "true" {
			employer++
		}
	}
	if employer == 0 {
		t.Error("no employer-provided email")
	}
}

// The ledger the good rows describe adds up: each invoice's open amount is
// its amount less the payments applied to it, closed invoices are settled by
// their last payment, and nothing is dated after AsOf.
func TestLedgerConsistent(t *testing.T) {
	cfg := small()
	dir, m := generate(t, cfg)
	p := load(t, dir, m)
	asOf := m.AsOf
	from := asOf.AddDate(0, -18, 0)
	parse := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatalf("date %q: %v", s, err)
		}
		return d
	}
	type inv struct {
		amount, open, paid int64
		date, closed, last time.Time
		cur                string
	}
	invs := map[string]*inv{}
	var ids []string
	for _, r := range p.good(fileInvoices) {
		get := func(f string) string { return p.get(fileInvoices, r, f) }
		cur := money.MustCurrency(get("currency"))
		a, _ := money.Parse(get("amount"), cur)
		o, _ := money.Parse(get("open_amount"), cur)
		v := &inv{amount: a.Minor, open: o.Minor, date: parse(get("invoice_date")), cur: cur.Code()}
		if c := get("closed_date"); c != "" {
			v.closed = parse(c)
		}
		if v.date.Before(from) || !v.date.Before(asOf) {
			t.Errorf("%s dated %s, outside the 18 months before %s", get("invoice_id"), get("invoice_date"), asOf.Format("2006-01-02"))
		}
		invs[get("invoice_id")] = v
		ids = append(ids, get("invoice_id"))
	}
	for _, r := range p.good(filePayments) {
		get := func(f string) string { return p.get(filePayments, r, f) }
		d := parse(get("received_date"))
		if d.After(asOf) {
			t.Errorf("%s received %s, after AsOf", get("payment_id"), get("received_date"))
		}
		v := invs[get("invoice_id")]
		if v == nil {
			if get("reference") == "" {
				t.Errorf("unapplied %s has no reference", get("payment_id"))
			}
			continue
		}
		a, _ := money.Parse(get("amount"), money.MustCurrency(get("currency")))
		if get("currency") != v.cur || d.Before(v.date) {
			t.Errorf("%s: %s %s on %s for an invoice in %s of %s", get("payment_id"), get("amount"),
				get("currency"), get("received_date"), v.cur, v.date.Format("2006-01-02"))
		}
		v.paid += a.Minor
		if d.After(v.last) {
			v.last = d
		}
	}
	for _, id := range ids {
		v := invs[id]
		if v.open != v.amount-v.paid {
			t.Errorf("%s: open %d != amount %d - paid %d", id, v.open, v.amount, v.paid)
		}
		if (v.open == 0) != !v.closed.IsZero() || (!v.closed.IsZero() && !v.closed.Equal(v.last)) {
			t.Errorf("%s: open %d, closed %v, last payment %v", id, v.open, v.closed, v.last)
		}
	}
}

// The default portfolio at full size: fast, and shaped like the brief says.
func TestFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size portfolio")
	}
	start := time.Now()
	dir, m := generate(t, Default())
	elapsed := time.Since(start)
	if elapsed > 3*time.Second {
		t.Errorf("full-size generation took %v, want < 3s", elapsed)
	}
	p := load(t, dir, m)

	var consumers, keys int
	currencies := map[string]int{}
	for _, r := range p.records[fileCustomers] {
		if p.get(fileCustomers, r, "kind") == "consumer" {
			consumers++
		}
		if p.get(fileCustomers, r, "key_account") == "true" {
			keys++
		}
		currencies[p.get(fileCustomers, r, "currency")]++
	}
	var open, disputed, over90 int
	for _, r := range p.good(fileInvoices) {
		get := func(f string) string { return p.get(fileInvoices, r, f) }
		if get("disputed") == "true" {
			disputed++
		}
		if get("closed_date") == "" {
			open++
			due, _ := time.Parse("2006-01-02", get("due_date"))
			if ledger.DaysBetween(due, m.AsOf) > 90 {
				over90++
			}
		}
	}
	var unapplied, partial int
	perInvoice := map[string]int{}
	for _, r := range p.good(filePayments) {
		if id := p.get(filePayments, r, "invoice_id"); id == "" {
			unapplied++
		} else {
			perInvoice[id]++
			if perInvoice[id] == 2 {
				partial++
			}
		}
	}
	n := float64(m.Customers)
	checks := []struct {
		what      string
		got       float64
		low, high float64
	}{
		{"consumer share", float64(consumers) / n, 0.25, 0.35},
		{"key-account share", float64(keys) / n, 0.01, 0.03},
		{"CAD accounts", float64(currencies["CAD"]), 20, 400},
		{"EUR accounts", float64(currencies["EUR"]), 20, 400},
		{"disputed share", float64(disputed) / float64(m.Invoices), 0.02, 0.04},
		{"open invoices", float64(open), 1000, 8000},
		{"open 90+ days past due", float64(over90), 300, 4000},
		{"unapplied payments", float64(unapplied), 10, 500},
		{"invoices paid in parts", float64(partial), 100, 5000},
		{"bad share of invoices.csv", float64(len(p.bad[fileInvoices])) / float64(m.Files[fileInvoices].Rows), 0.004, 0.006},
	}
	for _, c := range checks {
		if c.got < c.low || c.got > c.high {
			t.Errorf("%s = %v, want %v..%v", c.what, c.got, c.low, c.high)
		}
	}
	found := validate(t, p)
	for _, f := range []string{fileContacts, fileInvoices, filePayments} {
		for line, defects := range found[f] {
			b, isBad := p.bad[f][line]
			if (!isBad && len(defects) > 0) || (isBad && !slices.Equal(defects, []Defect{b.Class})) {
				t.Errorf("%s line %d: manifest %v, found %v", f, line, b.Class, defects)
			}
		}
	}
	t.Logf("generated in %v: %+v, %d bad rows; %d consumers, %d key accounts, currencies %v, "+
		"%d open invoices (%d over 90 days), %d disputed, %d unapplied payments",
		elapsed, m.Files, len(m.BadRows), consumers, keys, currencies, open, over90, disputed, unapplied)
}

// Tiny portfolios still get every bad-row class and stay valid otherwise.
func TestTiny(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 1, Customers: 1, Invoices: 1, BadRows: true},
		{Seed: 2, Customers: 20, Invoices: 5, BadRows: true},
		{Seed: 3, Customers: 3, Invoices: 40, BadRows: true},
	} {
		dir, m := generate(t, cfg)
		p := load(t, dir, m)
		for f, lines := range validate(t, p) {
			for line, defects := range lines {
				b, isBad := p.bad[f][line]
				if (!isBad && len(defects) > 0) || (isBad && !slices.Equal(defects, []Defect{b.Class})) {
					t.Errorf("%+v: %s line %d: manifest %v, found %v", cfg, f, line, b.Class, defects)
				}
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Customers: -1},
		{Invoices: -5},
		{Tenant: "a#b"},
		{Customers: 1_000_000},
	} {
		if _, err := Generate(t.TempDir(), cfg); err == nil {
			t.Errorf("Generate(%+v) succeeded", cfg)
		}
	}
}

// The zero Config is the default portfolio without bad rows.
func TestDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	want := Default()
	want.BadRows = false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zero Config defaults (-want +got):\n%s", diff)
	}
}

// lognormal stays within its table and centres on the median.
func TestLognormal(t *testing.T) {
	r := stream(1, 99)
	var below int
	for range 10000 {
		v := lognormal(r, 100_000, 900)
		if v <= 0 {
			t.Fatalf("non-positive amount %d", v)
		}
		if v < 100_000 {
			below++
		}
	}
	if below < 4700 || below > 5300 {
		t.Errorf("%d of 10000 below the median, want about half", below)
	}
	if e := expTable[expSteps+32]; e < 2_718_000 || e > 2_718_600 {
		t.Errorf("exp(1) in the table = %d, want ~2718282", e)
	}
}
