package oracleebs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

// Reading AR from EBS: XX_RECOUP's read methods (WIRE.md, "Reads") page
// through customers, contact points, addresses, open receivables and
// receipts by keyset, and Snapshot turns them into one canonical import
// document (shared/ingest/FORMAT.md) so a live pull is validated row by row
// exactly like a file import.

// MaxLimit is the most rows a read may ask for per page.
const MaxLimit = 500

// Pull says what a read asks for.
type Pull struct {
	// Since asks only for rows changed at or after it (EBS's
	// LAST_UPDATE_DATE); zero reads everything, and open receivables only.
	Since time.Time
	// Limit is the rows per page, 1 to MaxLimit; MaxLimit when zero.
	Limit int
}

// CustomerRow is a customer account as customers answers it.
type CustomerRow struct {
	CustAccountID string // HZ_CUST_ACCOUNTS.CUST_ACCOUNT_ID, the keyset key
	AccountNumber string // HZ_CUST_ACCOUNTS.ACCOUNT_NUMBER: Recoup's customer id
	PartyID       string // HZ_PARTIES.PARTY_ID
	PartyName     string // HZ_PARTIES.PARTY_NAME
	PartyType     string // HZ_PARTIES.PARTY_TYPE: ORGANIZATION, PERSON, …
	CustomerClass string // HZ_CUST_ACCOUNTS.CUSTOMER_CLASS_CODE
	Country       string // HZ_LOCATIONS.COUNTRY of the identifying address
	Updated       string // LAST_UPDATE_DATE, RFC 3339 in UTC
}

// ContactPointRow is a phone or email (HZ_CONTACT_POINTS) of an account's
// party, its sites or its contacts, once per account.
type ContactPointRow struct {
	ContactPointID  string // the keyset key; repeated for each account sharing the point
	CustAccountID   string
	AccountNumber   string
	PartyType       string // of the account's party, which tells consumer from business
	Type            string // CONTACT_POINT_TYPE: PHONE or EMAIL
	Purpose         string // CONTACT_POINT_PURPOSE
	LineType        string // PHONE_LINE_TYPE
	CountryCode     string // PHONE_COUNTRY_CODE
	AreaCode        string // PHONE_AREA_CODE
	Number          string // PHONE_NUMBER
	Extension       string // PHONE_EXTENSION
	Email           string // EMAIL_ADDRESS
	Country         string // HZ_LOCATIONS.COUNTRY of the owning site or party
	Preference      string // HZ_CONTACT_PREFERENCES.PREFERENCE_CODE in force: DO, DO_NOT
	PreferenceStart string // its PREFERENCE_START_DATE
	Updated         string
}

// AddressRow is an account site (HZ_CUST_ACCT_SITES_ALL) with its location
// (HZ_LOCATIONS).
type AddressRow struct {
	CustAcctSiteID                         string // the keyset key
	CustAccountID                          string
	AccountNumber                          string
	Address1, Address2, Address3, Address4 string
	City, State, Province, PostalCode      string
	Country                                string
	Preference, PreferenceStart            string // for CONTACT_TYPE MAIL
	Updated                                string
}

// ReceivableRow is one transaction (RA_CUSTOMER_TRX_ALL) summed over its
// payment schedules (AR_PAYMENT_SCHEDULES_ALL).
type ReceivableRow struct {
	CustomerTrxID      string // the keyset key
	TrxNumber          string
	CustAccountID      string
	AccountNumber      string
	Class              string // INV, DM or CB
	TrxDate            string
	DueDate            string // earliest open installment's
	AmountDueOriginal  string // decimal text, never a float
	AmountDueRemaining string
	AmountInDispute    string
	Currency           string // INVOICE_CURRENCY_CODE
	Status             string // OP or CL
	DateClosed         string // ACTUAL_DATE_CLOSED when CL
	Installments       string
	Updated            string
}

// ReceiptRow is a cash receipt (AR_CASH_RECEIPTS_ALL).
type ReceiptRow struct {
	CashReceiptID     string // the keyset key
	PaymentScheduleID string // its PMT schedule: the payment's id, as in the oracle-ebs export
	ReceiptNumber     string
	CustAccountID     string
	AccountNumber     string
	ReceiptDate       string
	Amount            string
	Currency          string
	TrxNumber         string // the one transaction it is applied to, if one
	Updated           string
}

// record is one X_ROWS_ITEM with every value as text.
type record map[string]string

// readSpec is one read method: its keyset column and what a row must hold.
type readSpec struct {
	method, key string
	// shared allows a key on consecutive rows: a contact point shared by
	// several accounts of one party comes once per account.
	shared bool
	// check refuses a row the package can only produce when it is broken;
	// a row with bad data is mapped and left for ingest to reject.
	check func(record) error
}

var (
	customersSpec = readSpec{method: "customers", key: "CUST_ACCOUNT_ID", check: require("PARTY_TYPE")}
	contactsSpec  = readSpec{method: "contact_points", key: "CONTACT_POINT_ID", shared: true, check: require("PARTY_TYPE")}
	addressesSpec = readSpec{method: "addresses", key: "CUST_ACCT_SITE_ID", check: require("COUNTRY")}
	// A missing remaining amount would import as fully open and a status
	// other than OP or CL cannot be mapped: both are broken rows.
	receivablesSpec = readSpec{method: "open_receivables", key: "CUSTOMER_TRX_ID", check: func(r record) error {
		if err := require("AMOUNT_DUE_REMAINING")(r); err != nil {
			return err
		}
		if s := r["STATUS"]; s != "OP" && s != "CL" {
			return fmt.Errorf("STATUS %q is not OP or CL", s)
		}
		return nil
	}}
	receiptsSpec = readSpec{method: "receipts", key: "CASH_RECEIPT_ID"}
)

// require refuses a row without the columns EBS holds as NOT NULL, whose
// absence would otherwise be read as a default (a consumer as a business, an
// address as American).
func require(cols ...string) func(record) error {
	return func(r record) error {
		for _, c := range cols {
			if r[c] == "" {
				return fmt.Errorf("no %s", c)
			}
		}
		return nil
	}
}

// Customers reads customer accounts page by page, calling fn with each.
func (c *Client) Customers(ctx context.Context, p Pull, fn func([]CustomerRow) error) error {
	return readPages(ctx, c, customersSpec, p, customerRow, fn)
}

func customerRow(r record) CustomerRow {
	return CustomerRow{CustAccountID: r["CUST_ACCOUNT_ID"], AccountNumber: r["ACCOUNT_NUMBER"], PartyID: r["PARTY_ID"],
		PartyName: r["PARTY_NAME"], PartyType: r["PARTY_TYPE"], CustomerClass: r["CUSTOMER_CLASS_CODE"],
		Country: r["COUNTRY"], Updated: r["LAST_UPDATE_DATE"]}
}

// ContactPoints reads active phone and email contact points page by page.
func (c *Client) ContactPoints(ctx context.Context, p Pull, fn func([]ContactPointRow) error) error {
	return readPages(ctx, c, contactsSpec, p, contactPointRow, fn)
}

func contactPointRow(r record) ContactPointRow {
	return ContactPointRow{ContactPointID: r["CONTACT_POINT_ID"], CustAccountID: r["CUST_ACCOUNT_ID"],
		AccountNumber: r["ACCOUNT_NUMBER"], PartyType: r["PARTY_TYPE"], Type: r["CONTACT_POINT_TYPE"],
		Purpose: r["CONTACT_POINT_PURPOSE"], LineType: r["PHONE_LINE_TYPE"], CountryCode: r["PHONE_COUNTRY_CODE"],
		AreaCode: r["PHONE_AREA_CODE"], Number: r["PHONE_NUMBER"], Extension: r["PHONE_EXTENSION"],
		Email: r["EMAIL_ADDRESS"], Country: r["COUNTRY"], Preference: r["PREFERENCE_CODE"],
		PreferenceStart: r["PREFERENCE_START_DATE"], Updated: r["LAST_UPDATE_DATE"]}
}

// Addresses reads active account sites page by page.
func (c *Client) Addresses(ctx context.Context, p Pull, fn func([]AddressRow) error) error {
	return readPages(ctx, c, addressesSpec, p, addressRow, fn)
}

func addressRow(r record) AddressRow {
	return AddressRow{CustAcctSiteID: r["CUST_ACCT_SITE_ID"], CustAccountID: r["CUST_ACCOUNT_ID"],
		AccountNumber: r["ACCOUNT_NUMBER"], Address1: r["ADDRESS1"], Address2: r["ADDRESS2"], Address3: r["ADDRESS3"],
		Address4: r["ADDRESS4"], City: r["CITY"], State: r["STATE"], Province: r["PROVINCE"],
		PostalCode: r["POSTAL_CODE"], Country: r["COUNTRY"], Preference: r["PREFERENCE_CODE"],
		PreferenceStart: r["PREFERENCE_START_DATE"], Updated: r["LAST_UPDATE_DATE"]}
}

// OpenReceivables reads invoices, debit memos and chargebacks page by page:
// the open ones on a full pull, and also those closed since on an
// incremental one, so the ledger learns they were settled.
func (c *Client) OpenReceivables(ctx context.Context, p Pull, fn func([]ReceivableRow) error) error {
	return readPages(ctx, c, receivablesSpec, p, receivableRow, fn)
}

func receivableRow(r record) ReceivableRow {
	return ReceivableRow{CustomerTrxID: r["CUSTOMER_TRX_ID"], TrxNumber: r["TRX_NUMBER"],
		CustAccountID: r["CUST_ACCOUNT_ID"], AccountNumber: r["ACCOUNT_NUMBER"], Class: r["CLASS"],
		TrxDate: r["TRX_DATE"], DueDate: r["DUE_DATE"], AmountDueOriginal: r["AMOUNT_DUE_ORIGINAL"],
		AmountDueRemaining: r["AMOUNT_DUE_REMAINING"], AmountInDispute: r["AMOUNT_IN_DISPUTE"],
		Currency: r["INVOICE_CURRENCY_CODE"], Status: r["STATUS"], DateClosed: r["ACTUAL_DATE_CLOSED"],
		Installments: r["INSTALLMENTS"], Updated: r["LAST_UPDATE_DATE"]}
}

// Receipts reads customer cash receipts page by page.
func (c *Client) Receipts(ctx context.Context, p Pull, fn func([]ReceiptRow) error) error {
	return readPages(ctx, c, receiptsSpec, p, receiptRow, fn)
}

func receiptRow(r record) ReceiptRow {
	return ReceiptRow{CashReceiptID: r["CASH_RECEIPT_ID"], PaymentScheduleID: r["PAYMENT_SCHEDULE_ID"],
		ReceiptNumber: r["RECEIPT_NUMBER"], CustAccountID: r["CUST_ACCOUNT_ID"], AccountNumber: r["ACCOUNT_NUMBER"],
		ReceiptDate: r["RECEIPT_DATE"], Amount: r["AMOUNT"], Currency: r["CURRENCY_CODE"], TrxNumber: r["TRX_NUMBER"],
		Updated: r["LAST_UPDATE_DATE"]}
}

// readPages calls spec's method page after page, each asking for the rows
// after the last key of the one before, until X_MORE is N. Errors name the
// method and the page, so a pull that fails half way says where.
func readPages[T any](ctx context.Context, c *Client, spec readSpec, p Pull, conv func(record) T, fn func([]T) error) error {
	limit := p.Limit
	if limit == 0 {
		limit = MaxLimit
	}
	if limit < 1 || limit > MaxLimit {
		return fmt.Errorf("oracleebs: %s: limit %d is not between 1 and %d", spec.method, p.Limit, MaxLimit)
	}
	in := map[string]any{"P_LIMIT": strconv.Itoa(limit)}
	if !p.Since.IsZero() {
		// Whole seconds, rounded down: EBS dates have no fractions, and
		// an earlier bound reads a row twice rather than never.
		in["P_UPDATED_SINCE"] = p.Since.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	var after int64
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if after > 0 {
			in["P_AFTER"] = strconv.FormatInt(after, 10)
		}
		out, err := c.call(ctx, c.cfg.Aliases.Recoup, spec.method, in)
		if err != nil {
			return fmt.Errorf("oracleebs: read %s, page %d: %w", spec.method, page, err)
		}
		recs, last, more, err := decodePage(out, spec, after)
		if err != nil {
			return fmt.Errorf("oracleebs: read %s, page %d: %w", spec.method, page, err)
		}
		if len(recs) > 0 {
			rows := make([]T, len(recs))
			for i, r := range recs {
				rows[i] = conv(r)
			}
			if err := fn(rows); err != nil {
				return fmt.Errorf("oracleebs: read %s, page %d: %w", spec.method, page, err)
			}
		}
		if !more {
			return nil
		}
		after = last
	}
}

// decodePage reads one page's X_ROWS and X_MORE and checks the keyset: keys
// are ids after the cursor, in order, and a page that says there is more
// moved the cursor, so a broken package cannot loop a pull forever.
func decodePage(out output, spec readSpec, after int64) ([]record, int64, bool, error) {
	bad := func(format string, args ...any) ([]record, int64, bool, error) {
		return nil, 0, false, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response", NotSent: true,
			Message: spec.method + ": " + fmt.Sprintf(format, args...)}
	}
	var more bool
	switch m := out.str("X_MORE"); m {
	case "Y":
		more = true
	case "N":
	default:
		return bad("X_MORE %q is not Y or N", m)
	}
	recs, err := decodeRows(out["X_ROWS"])
	if err != nil {
		return bad("X_ROWS: %v", err)
	}
	last := after
	for i, r := range recs {
		k, err := strconv.ParseInt(r[spec.key], 10, 64)
		if err != nil || k <= 0 || !digitsOnly(r[spec.key]) {
			return bad("row %d: %s %q is not an id", i, spec.key, clipText(r[spec.key]))
		}
		if k < last || k == last && (i == 0 || !spec.shared) {
			return bad("row %d: %s %d does not follow %d: the rows are not in keyset order", i, spec.key, k, last)
		}
		last = k
		if spec.check != nil {
			if err := spec.check(r); err != nil {
				return bad("row %d (%s %d): %v", i, spec.key, k, err)
			}
		}
	}
	if more && len(recs) == 0 {
		return bad("X_MORE is Y on an empty page")
	}
	return recs, last, more, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func clipText(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// decodeRows reads a table OUT parameter, {"X_ROWS_ITEM": [...]}. ISG
// writes a table of one as a bare object and an empty one as null, "" or
// {}, so all of those are read; values are strings, numbers (kept as
// written) or null, and anything else is refused rather than guessed at.
func decodeRows(raw json.RawMessage) ([]record, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte(`""`)) {
		return nil, nil
	}
	var tbl map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tbl); err != nil {
		return nil, errors.New("not a table object {\"X_ROWS_ITEM\": [...]}")
	}
	var items json.RawMessage
	for k, v := range tbl {
		switch k {
		case "X_ROWS_ITEM":
			items = bytes.TrimSpace(v)
		case "@xmlns":
		default:
			return nil, fmt.Errorf("unexpected key %q in the table", clipText(k))
		}
	}
	if len(items) == 0 || bytes.Equal(items, []byte("null")) {
		return nil, nil
	}
	var objs []json.RawMessage
	if items[0] == '{' {
		objs = []json.RawMessage{items}
	} else if err := json.Unmarshal(items, &objs); err != nil {
		return nil, errors.New("X_ROWS_ITEM is not a list of records")
	}
	recs := make([]record, 0, len(objs))
	for i, o := range objs {
		r, err := decodeRecord(o)
		if err != nil {
			return nil, fmt.Errorf("X_ROWS_ITEM[%d]: %w", i, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func decodeRecord(raw json.RawMessage) (record, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, errors.New("not a record object")
	}
	r := make(record, len(fields))
	for k, v := range fields {
		if k == "@xmlns" {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, fmt.Errorf("%s: %v", clipText(k), err)
		}
		switch x := x.(type) {
		case string:
			r[k] = x
		case json.Number:
			r[k] = x.String()
		case nil:
			r[k] = ""
		default:
			return nil, fmt.Errorf("%s is not a string, number or null", clipText(k))
		}
	}
	return r, nil
}

// Counts says what a Snapshot wrote.
type Counts struct {
	Customers, Contacts, Invoices, Payments int
	// Latest is the newest LAST_UPDATE_DATE among the rows read, by EBS's
	// clock: the next incremental pull can start from it (less a margin
	// for transactions that were still open) without trusting ours. Zero
	// when no row carried one.
	Latest time.Time
}

// Snapshot pulls customers, contact points and addresses, receivables and
// receipts changed since since (zero: everything, open receivables only)
// and writes them to w as ONE canonical JSON import document
// ({"customers": [...], "contacts": [...], "invoices": [...],
// "payments": [...]}, FORMAT.md), for ingest.Parse to validate every row
// as it does a file. It streams page by page, one record per line, and
// holds no more than a page in memory.
//
// EBS values are carried as they are (amounts as decimal text); only codes
// are mapped (WIRE.md, "From EBS rows to canonical records"). A value the
// mapping cannot place is written as it is, so ingest rejects that record
// naming the field, instead of a guess going in.
//
// On an error the document is incomplete (and not valid JSON): discard it.
// An incremental document's invoices may name customers it does not hold,
// so give ingest.Parse a lookup over the ledger.
func Snapshot(ctx context.Context, c *Client, w io.Writer, since time.Time) (Counts, error) {
	return snapshot(ctx, c, w, Pull{Since: since})
}

func snapshot(ctx context.Context, c *Client, w io.Writer, p Pull) (Counts, error) {
	d := &doc{w: bufio.NewWriterSize(w, 64<<10)}
	d.enc = json.NewEncoder(&d.rec)
	d.enc.SetEscapeHTML(false) // the rejects file quotes records; keep them readable
	var n Counts
	seen := func(updated string) {
		if t, err := time.Parse(time.RFC3339, updated); err == nil && t.After(n.Latest) {
			n.Latest = t.UTC()
		}
	}
	d.raw("{")
	d.open("customers")
	err := c.Customers(ctx, p, func(rows []CustomerRow) error {
		for _, r := range rows {
			seen(r.Updated)
			d.put(customerRecord(r))
		}
		return d.err
	})
	n.Customers = d.count
	if err == nil {
		d.raw("],\n")
		d.open("contacts")
		err = c.ContactPoints(ctx, p, func(rows []ContactPointRow) error {
			for _, r := range rows {
				seen(r.Updated)
				d.put(contactRecord(r))
			}
			return d.err
		})
	}
	if err == nil {
		err = c.Addresses(ctx, p, func(rows []AddressRow) error {
			for _, r := range rows {
				seen(r.Updated)
				d.put(addressRecord(r))
			}
			return d.err
		})
		n.Contacts = d.count
	}
	if err == nil {
		d.raw("],\n")
		d.open("invoices")
		err = c.OpenReceivables(ctx, p, func(rows []ReceivableRow) error {
			for _, r := range rows {
				seen(r.Updated)
				d.put(invoiceRecord(r))
			}
			return d.err
		})
		n.Invoices = d.count
	}
	if err == nil {
		d.raw("],\n")
		d.open("payments")
		err = c.Receipts(ctx, p, func(rows []ReceiptRow) error {
			for _, r := range rows {
				seen(r.Updated)
				d.put(paymentRecord(r))
			}
			return d.err
		})
		n.Payments = d.count
	}
	if err == nil {
		d.raw("]}\n")
	}
	if ferr := d.w.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if err == nil {
		err = d.err
	}
	if err != nil {
		return n, fmt.Errorf("oracleebs: snapshot: %w", err)
	}
	return n, nil
}

// doc writes the import document; its first error sticks.
type doc struct {
	w     *bufio.Writer
	rec   bytes.Buffer
	enc   *json.Encoder
	count int // records in the open array
	err   error
}

func (d *doc) raw(s string) {
	if d.err == nil {
		_, d.err = d.w.WriteString(s)
	}
}

func (d *doc) open(kind string) {
	d.raw(`"` + kind + `": [`)
	d.count = 0
}

// put writes one record on its own line, so a reject's line number finds it.
func (d *doc) put(v any) {
	if d.err != nil {
		return
	}
	d.rec.Reset()
	if d.err = d.enc.Encode(v); d.err != nil {
		return
	}
	if d.count > 0 {
		d.raw(",")
	}
	d.raw("\n")
	if d.err == nil {
		_, d.err = d.w.Write(bytes.TrimRight(d.rec.Bytes(), "\n"))
	}
	d.count++
}

// The canonical records (FORMAT.md). Empty fields are left out, which
// ingest reads as empty, except currency: an invoice or payment without
// the key would silently take the import's default currency.
type customerRec struct {
	CustomerID string `json:"customer_id"`
	Name       string `json:"name"`
	Kind       string `json:"kind,omitempty"`
	Country    string `json:"country,omitempty"`
	Segment    string `json:"segment,omitempty"`
}

type contactRec struct {
	CustomerID       string `json:"customer_id"`
	ContactID        string `json:"contact_id"`
	Kind             string `json:"kind"`
	Phone            string `json:"phone,omitempty"`
	LineType         string `json:"line_type,omitempty"`
	Email            string `json:"email,omitempty"`
	EmployerProvided string `json:"employer_provided,omitempty"`
	Line1            string `json:"line1,omitempty"`
	Line2            string `json:"line2,omitempty"`
	City             string `json:"city,omitempty"`
	State            string `json:"state,omitempty"`
	ZIP              string `json:"zip,omitempty"`
	Country          string `json:"country,omitempty"`
	Consent          string `json:"consent,omitempty"`
	ConsentAt        string `json:"consent_at,omitempty"`
}

type invoiceRec struct {
	InvoiceID   string `json:"invoice_id"`
	CustomerID  string `json:"customer_id"`
	InvoiceDate string `json:"invoice_date"`
	DueDate     string `json:"due_date"`
	Amount      string `json:"amount"`
	OpenAmount  string `json:"open_amount"`
	Currency    string `json:"currency"`
	Disputed    string `json:"disputed,omitempty"`
	ClosedDate  string `json:"closed_date,omitempty"`
}

type paymentRec struct {
	PaymentID    string `json:"payment_id"`
	CustomerID   string `json:"customer_id"`
	InvoiceID    string `json:"invoice_id,omitempty"`
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	ReceivedDate string `json:"received_date"`
	Reference    string `json:"reference,omitempty"`
}

func customerRecord(r CustomerRow) customerRec {
	return customerRec{CustomerID: r.AccountNumber, Name: r.PartyName, Kind: customerKind(r.PartyType),
		Country: r.Country, Segment: r.CustomerClass}
}

// customerKind: a person's debt is a consumer debt (FDCPA, Reg F, TCPA). A
// party type that is neither is passed on lower-cased for ingest to reject:
// defaulting it to business would drop those protections unseen.
func customerKind(partyType string) string {
	switch t := strings.ToUpper(strings.TrimSpace(partyType)); t {
	case "ORGANIZATION":
		return "business"
	case "PERSON":
		return "consumer"
	default:
		return strings.ToLower(t)
	}
}

func contactRecord(r ContactPointRow) contactRec {
	c := contactRec{CustomerID: r.AccountNumber, ContactID: "CP-" + r.ContactPointID + "-" + r.CustAccountID}
	business := strings.EqualFold(strings.TrimSpace(r.Purpose), "BUSINESS")
	switch t := strings.ToUpper(strings.TrimSpace(r.Type)); t {
	case "PHONE":
		c.Kind, c.Phone, c.LineType, c.Country = "phone", phoneText(r), lineType(r.LineType, business), r.Country
	case "EMAIL":
		c.Kind, c.Email = "email", r.Email
		// Reg F §1006.22(f)(3): a consumer's business address is taken
		// as employer-provided, the conservative reading.
		if business && strings.EqualFold(r.PartyType, "PERSON") {
			c.EmployerProvided = "true"
		}
	default:
		c.Kind = strings.ToLower(t)
	}
	c.Consent, c.ConsentAt = consent(r.Preference, r.PreferenceStart)
	return c
}

// phoneText writes the number for ingest to parse: with "+country code"
// when EBS has one, else in the contact's country. The extension is
// dropped: the ledger keeps E.164 numbers, which have none.
func phoneText(r ContactPointRow) string {
	local := strings.TrimSpace(strings.TrimSpace(r.AreaCode) + " " + strings.TrimSpace(r.Number))
	cc := strings.TrimLeft(strings.TrimSpace(r.CountryCode), "+")
	if cc == "" || local == "" {
		return local
	}
	return "+" + cc + " " + local
}

// lineType maps PHONE_LINE_TYPE. GEN is EBS's default line and says
// nothing about the number being a mobile, so it is unknown (the TCPA
// checks then treat it as possibly mobile), or work when its purpose is
// BUSINESS. Other codes (a fax that slipped through) go on for ingest to
// reject.
func lineType(code string, business bool) string {
	switch c := strings.ToUpper(strings.TrimSpace(code)); c {
	case "MOBILE":
		return "mobile"
	case "", "GEN", "VOICEMAIL":
		if business {
			return "work"
		}
		return "unknown"
	default:
		return strings.ToLower(c)
	}
}

// consent maps the contact preference in force: DO_NOT is a revoked
// consent from its start date. DO is a preference, not a record of prior
// express consent, so it stays unknown for the consent ledger to decide.
// Other codes go on for ingest to reject.
func consent(code, start string) (string, string) {
	switch c := strings.ToUpper(strings.TrimSpace(code)); c {
	case "":
		return "", ""
	case "DO":
		return "", ""
	case "DO_NOT":
		if _, err := time.Parse(time.DateOnly, start); err == nil {
			start += "T00:00:00Z"
		}
		return "revoked", start
	default:
		return strings.ToLower(c), ""
	}
}

func addressRecord(r AddressRow) contactRec {
	state := r.State
	if state == "" {
		state = r.Province
	}
	var rest []string
	for _, l := range []string{r.Address2, r.Address3, r.Address4} {
		if l = strings.TrimSpace(l); l != "" {
			rest = append(rest, l)
		}
	}
	c := contactRec{CustomerID: r.AccountNumber, ContactID: "AS-" + r.CustAcctSiteID, Kind: "postal",
		Line1: r.Address1, Line2: strings.Join(rest, ", "), City: r.City, State: state, ZIP: r.PostalCode,
		Country: r.Country}
	c.Consent, c.ConsentAt = consent(r.Preference, r.PreferenceStart)
	return c
}

func invoiceRecord(r ReceivableRow) invoiceRec {
	v := invoiceRec{InvoiceID: r.TrxNumber, CustomerID: r.AccountNumber, InvoiceDate: r.TrxDate, DueDate: r.DueDate,
		Amount: r.AmountDueOriginal, OpenAmount: r.AmountDueRemaining, Currency: r.Currency,
		Disputed: disputed(r.AmountInDispute)}
	if r.Status == "CL" {
		v.ClosedDate = r.DateClosed
	}
	return v
}

// disputed is true when any amount is in dispute. A value that is not a
// decimal goes on for ingest to reject as not a boolean.
func disputed(amount string) string {
	s := strings.TrimSpace(amount)
	switch {
	case s == "":
		return ""
	case !decimalText.MatchString(s):
		return amount
	case strings.ContainsAny(s, "123456789"):
		return "true"
	}
	return ""
}

// decimalText is a plain decimal as Oracle's TO_CHAR writes one: "12.50",
// "-3", ".5".
var decimalText = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

func paymentRecord(r ReceiptRow) paymentRec {
	return paymentRec{PaymentID: r.PaymentScheduleID, CustomerID: r.AccountNumber, InvoiceID: r.TrxNumber,
		Amount: r.Amount, Currency: r.Currency, ReceivedDate: r.ReceiptDate, Reference: r.ReceiptNumber}
}
