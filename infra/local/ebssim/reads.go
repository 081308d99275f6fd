package ebssim

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file serves XX_RECOUP's read methods (WIRE.md, "Reads"): customers,
// contact_points, addresses, open_receivables and receipts, each a keyset
// page of string-valued rows. What they serve is seeded through
// AccountSeed's optional fields; a write never changes it (an applied
// receipt does not lower a balance), so a test controls every row.

// ContactSeed is a contact point (HZ_CONTACT_POINTS) owned by the
// account's party. Seeding the same point again (same type and number or
// address) replaces its other fields when they differ.
type ContactSeed struct {
	// Type is CONTACT_POINT_TYPE: PHONE or EMAIL.
	Type string `json:"type"`
	// Purpose is CONTACT_POINT_PURPOSE (BUSINESS, PERSONAL, COLLECTIONS,
	// DUNNING, …), served as seeded.
	Purpose string `json:"purpose,omitempty"`
	// LineType is a phone's PHONE_LINE_TYPE: GEN when empty, MOBILE,
	// VOICEMAIL, FAX or PAGER. Fax and pager lines are never served, as
	// the package filters them out.
	LineType    string `json:"line_type,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	AreaCode    string `json:"area_code,omitempty"`
	Number      string `json:"number,omitempty"`
	Extension   string `json:"extension,omitempty"`
	// Email is EMAIL_ADDRESS, free text as in EBS (nothing checks it).
	Email string `json:"email,omitempty"`
	// Status is A (when empty) or I; inactive points are not served.
	Status string `json:"status,omitempty"`
	// Preference is the HZ_CONTACT_PREFERENCES.PREFERENCE_CODE in force
	// for the point, DO or DO_NOT; PreferenceStart its
	// PREFERENCE_START_DATE.
	Preference      string    `json:"preference,omitempty"`
	PreferenceStart string    `json:"preference_start,omitempty"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

// AddressSeed is an account site (HZ_CUST_ACCT_SITES_ALL) and its
// location (HZ_LOCATIONS). The same Address1, PostalCode and Country seeded
// again replace the other fields when they differ.
type AddressSeed struct {
	Address1        string    `json:"address1"`
	Address2        string    `json:"address2,omitempty"`
	Address3        string    `json:"address3,omitempty"`
	Address4        string    `json:"address4,omitempty"`
	City            string    `json:"city,omitempty"`
	State           string    `json:"state,omitempty"`
	Province        string    `json:"province,omitempty"`
	PostalCode      string    `json:"postal_code,omitempty"`
	Country         string    `json:"country"`
	Preference      string    `json:"preference,omitempty"`
	PreferenceStart string    `json:"preference_start,omitempty"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

// InvoiceSeed is a transaction (RA_CUSTOMER_TRX_ALL) with one payment
// schedule (AR_PAYMENT_SCHEDULES_ALL). It is also a transaction the write
// methods find, like a number in AccountSeed.Transactions. The same Number
// seeded again replaces the other fields when they differ, which is how a
// test closes or pays down an invoice.
type InvoiceSeed struct {
	Number string `json:"number"`
	// Class is INV (when empty), DM or CB.
	Class   string `json:"class,omitempty"`
	TrxDate string `json:"trx_date"`
	DueDate string `json:"due_date"`
	// Amount is AMOUNT_DUE_ORIGINAL and Remaining AMOUNT_DUE_REMAINING
	// (Amount when empty), as decimal text; either may be negative, as EBS
	// allows.
	Amount    string `json:"amount"`
	Remaining string `json:"remaining,omitempty"`
	InDispute string `json:"in_dispute,omitempty"`
	// Currency is INVOICE_CURRENCY_CODE; the account's when empty.
	Currency string `json:"currency,omitempty"`
	// Status is OP (when empty) or CL, which needs ClosedDate
	// (ACTUAL_DATE_CLOSED).
	Status     string    `json:"status,omitempty"`
	ClosedDate string    `json:"closed_date,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// ReceiptSeed is a cash receipt (AR_CASH_RECEIPTS_ALL) from the account.
// The same Number seeded again replaces the other fields when they differ.
type ReceiptSeed struct {
	Number string `json:"number"`
	Date   string `json:"date"`
	Amount string `json:"amount"`
	// Currency is CURRENCY_CODE; the account's when empty.
	Currency string `json:"currency,omitempty"`
	// AppliedTo is the TRX_NUMBER the receipt is wholly applied to, if
	// any; it is not checked against the account's transactions.
	AppliedTo string    `json:"applied_to,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// readState is what the read methods serve beyond the write-side Account.
type readState struct {
	master map[int64]*master // by cust_account_id
	// schedule is each cash receipt's PMT payment schedule id.
	schedule map[int64]int64
	next     struct{ contactPoint, acctSite, receipt, schedule int64 }
}

// master is one account's party, sites, contact points, receivables and
// receipts, each with the LAST_UPDATE_DATE incremental reads filter on.
type master struct {
	name, partyType, country, class string
	updated                         time.Time
	contacts                        []row[ContactSeed]
	addresses                       []row[AddressSeed]
	invoices                        []row[InvoiceSeed] // id is the customer_trx_id
	receipts                        []row[ReceiptSeed]
}

// row is a seeded item with its id and last update.
type row[T any] struct {
	id      int64
	seed    T
	updated time.Time
}

// seedItem is a seed compared without its UpdatedAt, which says when a
// change happened, not what it is.
type seedItem[T any] interface {
	comparable
	untimed() T
}

func (c ContactSeed) untimed() ContactSeed { c.UpdatedAt = time.Time{}; return c }
func (a AddressSeed) untimed() AddressSeed { a.UpdatedAt = time.Time{}; return a }
func (i InvoiceSeed) untimed() InvoiceSeed { i.UpdatedAt = time.Time{}; return i }
func (r ReceiptSeed) untimed() ReceiptSeed { r.UpdatedAt = time.Time{}; return r }

func (st *state) readState() *readState {
	if st.reads == nil {
		st.reads = &readState{master: map[int64]*master{}, schedule: map[int64]int64{}}
		st.reads.next.contactPoint, st.reads.next.acctSite = 91001, 93001
		st.reads.next.receipt, st.reads.next.schedule = 96001, 98001
	}
	return st.reads
}

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	partyTypes  = []string{"ORGANIZATION", "PERSON", "GROUP", "PARTY_RELATIONSHIP"}
)

// checkReadSeed refuses what the EBS tables could not hold: a seed is
// checked whole before anything is created, like the rest of AccountSeed.
// Values EBS stores as free text (emails, names, amounts' signs) pass, so
// tests can seed the rows an import must reject.
func checkReadSeed(a AccountSeed) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	oneOf := func(what, v string, vs ...string) {
		if v != "" && !slices.Contains(vs, v) {
			bad("%s %q is not one of %q", what, v, vs)
		}
	}
	isDate := func(what, v string, required bool) {
		if v == "" && !required {
			return
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil || !dateOnly.MatchString(v) {
			bad("%s %q is not a date YYYY-MM-DD", what, v)
		}
	}
	isAmount := func(what, v string, required bool) {
		if (v != "" || required) && !decimal.MatchString(v) {
			bad("%s %q is not a decimal amount", what, v)
		}
	}
	isCurrency := func(what, v string) {
		if v != "" && !currencyCode.MatchString(v) {
			bad("%s %q is not an ISO 4217 code", what, v)
		}
	}
	oneOf("party_type", a.PartyType, partyTypes...)
	if a.Country != "" && !countryCode.MatchString(a.Country) {
		bad("country %q is not a two-letter territory code", a.Country)
	}
	for i, c := range a.Contacts {
		w := fmt.Sprintf("contacts[%d]", i)
		switch c.Type {
		case "PHONE":
			if c.Number == "" {
				bad("%s: a PHONE has no number", w)
			}
		case "EMAIL":
			if c.Email == "" {
				bad("%s: an EMAIL has no email", w)
			}
		default:
			bad("%s: type %q is not PHONE or EMAIL", w, c.Type)
		}
		oneOf(w+": line_type", c.LineType, "GEN", "MOBILE", "VOICEMAIL", "FAX", "PAGER")
		oneOf(w+": status", c.Status, "A", "I")
		oneOf(w+": preference", c.Preference, "DO", "DO_NOT")
		isDate(w+": preference_start", c.PreferenceStart, false)
	}
	for i, ad := range a.Addresses {
		w := fmt.Sprintf("addresses[%d]", i)
		if ad.Address1 == "" {
			bad("%s: no address1", w)
		}
		if !countryCode.MatchString(ad.Country) {
			bad("%s: country %q is not a two-letter territory code", w, ad.Country)
		}
		oneOf(w+": preference", ad.Preference, "DO", "DO_NOT")
		isDate(w+": preference_start", ad.PreferenceStart, false)
	}
	seen := map[string]bool{}
	for i, inv := range a.Invoices {
		w := fmt.Sprintf("invoices[%d]", i)
		if inv.Number == "" {
			bad("%s: no number", w)
		} else if seen[inv.Number] {
			bad("%s: number %s appears twice", w, inv.Number)
		}
		seen[inv.Number] = true
		oneOf(w+": class", inv.Class, "INV", "DM", "CB")
		isDate(w+": trx_date", inv.TrxDate, true)
		isDate(w+": due_date", inv.DueDate, true)
		isAmount(w+": amount", inv.Amount, true)
		isAmount(w+": remaining", inv.Remaining, false)
		isAmount(w+": in_dispute", inv.InDispute, false)
		isCurrency(w+": currency", inv.Currency)
		oneOf(w+": status", inv.Status, "OP", "CL")
		isDate(w+": closed_date", inv.ClosedDate, inv.Status == "CL")
	}
	clear(seen)
	for i, r := range a.Receipts {
		w := fmt.Sprintf("receipts[%d]", i)
		if r.Number == "" {
			bad("%s: no number", w)
		} else if seen[r.Number] {
			bad("%s: number %s appears twice", w, r.Number)
		}
		seen[r.Number] = true
		isDate(w+": date", r.Date, true)
		isAmount(w+": amount", r.Amount, true)
		isCurrency(w+": currency", r.Currency)
	}
	return errors.Join(errs...)
}

// seedReads stores a's read-side fields for acct, which seed has just
// created or found. An item already there keeps its id, and its update
// time unless a field changed, so seeding the same list twice changes
// nothing.
func (st *state) seedReads(acct *Account, a AccountSeed) {
	rs := st.readState()
	now := a.UpdatedAt
	if now.IsZero() {
		now = time.Now()
	}
	// EBS dates have whole seconds, and pulls ask in whole seconds.
	now = now.UTC().Truncate(time.Second)
	m := rs.master[acct.CustAccountID]
	if m == nil {
		m = &master{name: "Customer " + acct.Number, partyType: "ORGANIZATION", updated: now}
		rs.master[acct.CustAccountID] = m
	}
	for _, f := range []struct {
		to *string
		v  string
	}{{&m.name, a.Name}, {&m.partyType, a.PartyType}, {&m.country, a.Country}, {&m.class, a.CustomerClass}} {
		if f.v != "" && *f.to != f.v {
			*f.to, m.updated = f.v, now
		}
	}
	when := func(t time.Time) time.Time {
		if t.IsZero() {
			return now
		}
		return t.UTC().Truncate(time.Second)
	}
	counter := func(n *int64) func() int64 { return func() int64 { return take(n) } }
	for _, c := range a.Contacts {
		same := func(o ContactSeed) bool {
			return o.Type == c.Type && o.CountryCode == c.CountryCode && o.AreaCode == c.AreaCode &&
				o.Number == c.Number && o.Email == c.Email
		}
		upsert(&m.contacts, c, when(c.UpdatedAt), same, counter(&rs.next.contactPoint))
	}
	for _, ad := range a.Addresses {
		same := func(o AddressSeed) bool {
			return o.Address1 == ad.Address1 && o.PostalCode == ad.PostalCode && o.Country == ad.Country
		}
		upsert(&m.addresses, ad, when(ad.UpdatedAt), same, counter(&rs.next.acctSite))
	}
	for _, inv := range a.Invoices {
		if inv.Currency == "" {
			inv.Currency = acct.Currency
		}
		t, found := acct.transaction(inv.Number)
		if !found {
			t = Transaction{Number: inv.Number, CustomerTrxID: take(&st.next.trx), DelinquencyID: take(&st.next.delinquency), Currency: inv.Currency}
			acct.Transactions = append(acct.Transactions, t)
			st.trx[t.CustomerTrxID] = trxRef{acct: acct, i: len(acct.Transactions) - 1}
		} else {
			// find_transaction answers the invoice's currency, as EBS would.
			acct.Transactions[st.trx[t.CustomerTrxID].i].Currency = inv.Currency
		}
		same := func(o InvoiceSeed) bool { return o.Number == inv.Number }
		upsert(&m.invoices, inv, when(inv.UpdatedAt), same, func() int64 { return t.CustomerTrxID })
	}
	for _, r := range a.Receipts {
		if r.Currency == "" {
			r.Currency = acct.Currency
		}
		same := func(o ReceiptSeed) bool { return o.Number == r.Number }
		cr := upsert(&m.receipts, r, when(r.UpdatedAt), same, counter(&rs.next.receipt))
		if _, ok := rs.schedule[cr]; !ok {
			rs.schedule[cr] = take(&rs.next.schedule)
		}
	}
}

// upsert adds s with a newID, or replaces the item same finds when a
// field differs, and answers the item's id.
func upsert[T seedItem[T]](items *[]row[T], s T, updated time.Time, same func(T) bool, newID func() int64) int64 {
	for i := range *items {
		it := &(*items)[i]
		if !same(it.seed) {
			continue
		}
		if it.seed.untimed() != s.untimed() {
			it.seed, it.updated = s, updated
		}
		return it.id
	}
	*items = append(*items, row[T]{id: newID(), seed: s, updated: updated})
	return (*items)[len(*items)-1].id
}

// maxPage is the largest P_LIMIT the read methods accept.
const maxPage = 500

// pageInputs are every read method's inputs: P_AFTER is absent on the
// first page.
func pageInputs() []field {
	return []field{opt(num("P_AFTER")), num("P_LIMIT"), opt(moment("P_UPDATED_SINCE"))}
}

var readMethods = []*method{
	{alias: "xx_recoup", name: "customers", inputs: pageInputs(), run: serveCustomers},
	{alias: "xx_recoup", name: "contact_points", inputs: pageInputs(), run: serveContactPoints},
	{alias: "xx_recoup", name: "addresses", inputs: pageInputs(), run: serveAddresses},
	{alias: "xx_recoup", name: "open_receivables", inputs: pageInputs(), run: serveReceivables},
	{alias: "xx_recoup", name: "receipts", inputs: pageInputs(), run: serveReceipts},
}

func init() {
	for _, m := range readMethods {
		services[m.alias][m.name] = m
	}
}

// page is a read call's keyset position and filter.
type page struct {
	after int64
	limit int
	since time.Time // zero: a full read
}

func pageOf(in params) (page, *result) {
	p := page{after: in.id("P_AFTER")}
	limit := in.id("P_LIMIT")
	if limit < 1 || limit > maxPage {
		r := fail("FND_API_INVALID_PARAM: P_LIMIT %s is not between 1 and %d", clip(in.str("P_LIMIT")), maxPage)
		return p, &r
	}
	p.limit = int(limit)
	if s := in.str("P_UPDATED_SINCE"); s != "" {
		p.since = parseSince(s)
	}
	return p, nil
}

// parseSince reads a P_UPDATED_SINCE checkValues accepted. The contract
// sends UTC with a zone; a value without one is taken as UTC too.
func parseSince(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// candidate is one row a method may serve.
type candidate struct {
	key     int64
	updated time.Time
	// open is whether a full read (no P_UPDATED_SINCE) serves the row:
	// only open receivables, everything else always.
	open   bool
	fields map[string]string
}

// servePage pages candidates by key: rows after P_AFTER, changed since
// P_UPDATED_SINCE (or open, on a full read), P_LIMIT at most. Keys are
// ids that never change, so a row is on exactly one page of a pull.
func servePage(in params, rows []candidate) result {
	p, bad := pageOf(in)
	if bad != nil {
		return *bad
	}
	slices.SortFunc(rows, func(a, b candidate) int { return cmp.Compare(a.key, b.key) })
	var out []map[string]string
	more := "N"
	for _, r := range rows {
		if r.key <= p.after || (p.since.IsZero() && !r.open) || (!p.since.IsZero() && r.updated.Before(p.since)) {
			continue
		}
		if len(out) == p.limit {
			more = "Y"
			break
		}
		r.fields["LAST_UPDATE_DATE"] = r.updated.Format(time.RFC3339)
		out = append(out, r.fields)
	}
	if out == nil {
		out = []map[string]string{}
	}
	return success(map[string]any{"X_ROWS": map[string]any{"X_ROWS_ITEM": out}, "X_MORE": more})
}

// accounts walks every account with its read-side data in seeding order.
func (s *Server) accounts(fn func(a *Account, m *master)) {
	rs := s.st.readState()
	for _, n := range s.st.order {
		a := s.st.accounts[n]
		if m := rs.master[a.CustAccountID]; m != nil {
			fn(a, m)
		}
	}
}

func serveCustomers(s *Server, in params) result {
	var rows []candidate
	s.accounts(func(a *Account, m *master) {
		rows = append(rows, candidate{key: a.CustAccountID, updated: m.updated, open: true, fields: map[string]string{
			"CUST_ACCOUNT_ID": id(a.CustAccountID), "ACCOUNT_NUMBER": a.Number, "PARTY_ID": id(a.PartyID),
			"PARTY_NAME": m.name, "PARTY_TYPE": m.partyType, "CUSTOMER_CLASS_CODE": m.class, "COUNTRY": m.country}})
	})
	return servePage(in, rows)
}

func serveContactPoints(s *Server, in params) result {
	var rows []candidate
	s.accounts(func(a *Account, m *master) {
		for _, c := range m.contacts {
			lt := c.seed.LineType
			if c.seed.Type == "PHONE" && lt == "" {
				lt = "GEN"
			}
			if c.seed.Status == "I" || lt == "FAX" || lt == "PAGER" {
				continue
			}
			rows = append(rows, candidate{key: c.id, updated: c.updated, open: true, fields: map[string]string{
				"CONTACT_POINT_ID": id(c.id), "CUST_ACCOUNT_ID": id(a.CustAccountID), "ACCOUNT_NUMBER": a.Number,
				"PARTY_TYPE": m.partyType, "CONTACT_POINT_TYPE": c.seed.Type, "CONTACT_POINT_PURPOSE": c.seed.Purpose,
				"PHONE_LINE_TYPE": lt, "PHONE_COUNTRY_CODE": c.seed.CountryCode, "PHONE_AREA_CODE": c.seed.AreaCode,
				"PHONE_NUMBER": c.seed.Number, "PHONE_EXTENSION": c.seed.Extension, "EMAIL_ADDRESS": c.seed.Email,
				"COUNTRY": m.country, "PREFERENCE_CODE": c.seed.Preference, "PREFERENCE_START_DATE": c.seed.PreferenceStart}})
		}
	})
	return servePage(in, rows)
}

func serveAddresses(s *Server, in params) result {
	var rows []candidate
	s.accounts(func(a *Account, m *master) {
		for _, ad := range m.addresses {
			rows = append(rows, candidate{key: ad.id, updated: ad.updated, open: true, fields: map[string]string{
				"CUST_ACCT_SITE_ID": id(ad.id), "CUST_ACCOUNT_ID": id(a.CustAccountID), "ACCOUNT_NUMBER": a.Number,
				"ADDRESS1": ad.seed.Address1, "ADDRESS2": ad.seed.Address2, "ADDRESS3": ad.seed.Address3,
				"ADDRESS4": ad.seed.Address4, "CITY": ad.seed.City, "STATE": ad.seed.State, "PROVINCE": ad.seed.Province,
				"POSTAL_CODE": ad.seed.PostalCode, "COUNTRY": ad.seed.Country, "PREFERENCE_CODE": ad.seed.Preference,
				"PREFERENCE_START_DATE": ad.seed.PreferenceStart}})
		}
	})
	return servePage(in, rows)
}

func serveReceivables(s *Server, in params) result {
	var rows []candidate
	s.accounts(func(a *Account, m *master) {
		for _, inv := range m.invoices {
			v := inv.seed
			class, status, remaining := cmp.Or(v.Class, "INV"), cmp.Or(v.Status, "OP"), cmp.Or(v.Remaining, v.Amount)
			closed := ""
			if status == "CL" {
				closed = v.ClosedDate
			}
			rows = append(rows, candidate{key: inv.id, updated: inv.updated, open: status == "OP", fields: map[string]string{
				"CUSTOMER_TRX_ID": id(inv.id), "TRX_NUMBER": v.Number, "CUST_ACCOUNT_ID": id(a.CustAccountID),
				"ACCOUNT_NUMBER": a.Number, "CLASS": class, "TRX_DATE": v.TrxDate, "DUE_DATE": v.DueDate,
				"AMOUNT_DUE_ORIGINAL": v.Amount, "AMOUNT_DUE_REMAINING": remaining, "AMOUNT_IN_DISPUTE": v.InDispute,
				"INVOICE_CURRENCY_CODE": v.Currency, "STATUS": status, "ACTUAL_DATE_CLOSED": closed, "INSTALLMENTS": "1"}})
		}
	})
	return servePage(in, rows)
}

func serveReceipts(s *Server, in params) result {
	var rows []candidate
	s.accounts(func(a *Account, m *master) {
		for _, r := range m.receipts {
			rows = append(rows, candidate{key: r.id, updated: r.updated, open: true, fields: map[string]string{
				"CASH_RECEIPT_ID": id(r.id), "PAYMENT_SCHEDULE_ID": id(s.st.reads.schedule[r.id]),
				"RECEIPT_NUMBER": r.seed.Number, "CUST_ACCOUNT_ID": id(a.CustAccountID), "ACCOUNT_NUMBER": a.Number,
				"RECEIPT_DATE": r.seed.Date, "AMOUNT": r.seed.Amount, "CURRENCY_CODE": r.seed.Currency,
				"TRX_NUMBER": strings.TrimSpace(r.seed.AppliedTo)}})
		}
	})
	return servePage(in, rows)
}
