package d365sim

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// CustomerSeed is a customer to create (POST /_sim/accounts).
type CustomerSeed struct {
	// Company is the dataAreaId; usmf when empty.
	Company string `json:"company,omitempty"`
	Account string `json:"account"`
	// OnHoldStatus is a CustVendorBlocked member; No when empty.
	OnHoldStatus string `json:"on_hold,omitempty"`
	// Currency is the customer's and its transactions' currency; USD when
	// empty.
	Currency string   `json:"currency,omitempty"`
	Invoices []string `json:"invoices,omitempty"`
}

// Customer is a CustomersV3 row with what hangs off it: its open
// transactions (with their dispute rows) and its attachments.
type Customer struct {
	Company      string `json:"company"`
	Account      string `json:"account"`
	OnHoldStatus string `json:"on_hold"`
	Currency     string `json:"currency"`
	// Version is the row version behind its ETag, W/"{version}".
	Version int64 `json:"version"`
	// HoldUpdates counts accepted PATCHes, so a test can tell a hold
	// confirmed without a write from a blind or repeated one.
	HoldUpdates  int           `json:"hold_updates"`
	Transactions []Transaction `json:"transactions"`
	Attachments  []Attachment  `json:"attachments"`
}

// Transaction is a CustTransactions row: an open invoice.
type Transaction struct {
	RecID    int64    `json:"rec_id"`
	Invoice  string   `json:"invoice"`
	Currency string   `json:"currency"`
	Dispute  *Dispute `json:"dispute,omitempty"`
}

// Dispute is a CustDisputes row, at most one per transaction.
type Dispute struct {
	RecID        int64  `json:"rec_id"`
	CustTrans    int64  `json:"cust_trans"`
	Status       string `json:"status"`
	FollowUpDate string `json:"follow_up_date,omitempty"`
	AmountCur    string `json:"amount_cur,omitempty"`
	Note         string `json:"note"`
	Version      int64  `json:"version"`
	Updates      int    `json:"updates"`
}

// Attachment is a CustomerAttachments row (a DocuRef).
type Attachment struct {
	DocumentID string `json:"document_id"`
	TypeID     string `json:"type_id"`
	Name       string `json:"name"`
	Notes      string `json:"notes"`
}

// Activity is an Activities row. F&O's activities carry no customer.
type Activity struct {
	Company       string `json:"company"`
	Number        string `json:"number"`
	Category      string `json:"category"`
	Purpose       string `json:"purpose"`
	Notes         string `json:"notes"`
	StartDateTime string `json:"start"`
	EndDateTime   string `json:"end"`
	Closed        string `json:"closed"`
}

// State is everything the simulated ERP holds (GET /_sim/state).
type State struct {
	Customers  []Customer `json:"customers"`
	Activities []Activity `json:"activities"`
}

type custKey struct{ company, account string }

// keyOf folds the account's case: F&O's SQL collation compares keys
// without it.
func keyOf(company, account string) custKey {
	return custKey{strings.ToLower(company), strings.ToLower(account)}
}

// trans locates a transaction.
type trans struct {
	cust *Customer
	i    int
}

// state is the ERP's data. Every method is called with Server.mu held.
type state struct {
	customers  map[custKey]*Customer
	order      []custKey
	trans      map[int64]trans // by RecId
	disputes   map[int64]int64 // dispute RecId → transaction RecId
	activities []*Activity
	// stamps counts, per action key, the markers writes carried into
	// records: Applied.
	stamps map[string]int
	// noteTypes are the DocuType ids that exist (Config.NoteTypes).
	noteTypes []string
	next      struct{ rec, dispute, activity, doc int64 }
}

func newState(noteTypes []string) *state {
	st := &state{customers: map[custKey]*Customer{}, trans: map[int64]trans{}, disputes: map[int64]int64{},
		stamps: map[string]int{}, noteTypes: noteTypes}
	// RecIds start where F&O's do; other ids at distinct bases, so an id in
	// a log or an answer says what it is.
	st.next.rec, st.next.dispute, st.next.activity, st.next.doc = 5637144576, 5637200001, 1, 1
	return st
}

func take(n *int64) int64 {
	id := *n
	*n++
	return id
}

var (
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	companyID    = regexp.MustCompile(`^[a-z0-9]{1,4}$`)
	// markerRe finds action keys in written text (WIRE.md, the key marker).
	markerRe = regexp.MustCompile(`recoup:[0-9a-f]{40}`)
)

// seed creates the customers not there yet and adds invoices a customer
// lacks, so seeding the same list twice changes nothing.
func (st *state) seed(seeds []CustomerSeed) ([]Customer, error) {
	for i := range seeds {
		c := &seeds[i]
		if c.Company == "" {
			c.Company = "usmf"
		}
		if !companyID.MatchString(c.Company) {
			return nil, fmt.Errorf("customer %s: company %q is not a dataAreaId (1-4 lower-case letters or digits)", c.Account, c.Company)
		}
		if strings.TrimSpace(c.Account) == "" {
			return nil, errors.New("a customer has no account")
		}
		if c.Currency != "" && !currencyCode.MatchString(c.Currency) {
			return nil, fmt.Errorf("customer %s: currency %q is not an ISO 4217 code", c.Account, c.Currency)
		}
		if c.OnHoldStatus != "" && !slices.Contains(custVendorBlocked, c.OnHoldStatus) {
			return nil, fmt.Errorf("customer %s: on_hold %q is not one of %v", c.Account, c.OnHoldStatus, custVendorBlocked)
		}
		for _, inv := range c.Invoices {
			if strings.TrimSpace(inv) == "" {
				return nil, fmt.Errorf("customer %s: an invoice has no number", c.Account)
			}
		}
	}
	out := make([]Customer, 0, len(seeds))
	for _, sd := range seeds {
		k := keyOf(sd.Company, sd.Account)
		c := st.customers[k]
		if c == nil {
			c = &Customer{Company: sd.Company, Account: sd.Account, OnHoldStatus: sd.OnHoldStatus, Currency: sd.Currency, Version: 1}
			if c.OnHoldStatus == "" {
				c.OnHoldStatus = "No"
			}
			if c.Currency == "" {
				c.Currency = "USD"
			}
			st.customers[k] = c
			st.order = append(st.order, k)
		}
		for _, inv := range sd.Invoices {
			if slices.ContainsFunc(c.Transactions, func(t Transaction) bool { return t.Invoice == inv }) {
				continue
			}
			t := Transaction{RecID: take(&st.next.rec), Invoice: inv, Currency: c.Currency}
			c.Transactions = append(c.Transactions, t)
			st.trans[t.RecID] = trans{cust: c, i: len(c.Transactions) - 1}
		}
		out = append(out, st.customerSnapshot(c))
	}
	return out, nil
}

func (st *state) customer(company, account string) *Customer {
	return st.customers[keyOf(company, account)]
}

// company reports whether any customer lives in the company, the
// simulator's test of a dataAreaId that exists.
func (st *state) company(c string) bool {
	for _, k := range st.order {
		if k.company == c {
			return true
		}
	}
	return false
}

// transaction answers the transaction with rec in company, nil if none.
func (st *state) transaction(company string, rec int64) (*Customer, *Transaction) {
	t, ok := st.trans[rec]
	if !ok || !strings.EqualFold(t.cust.Company, company) {
		return nil, nil
	}
	return t.cust, &t.cust.Transactions[t.i]
}

// stamp counts the markers text adds over before: a write that repeats a
// marker already there adds nothing, one that carries it again adds one.
func (st *state) stamp(before, after string) {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, k := range markerRe.FindAllString(s, -1) {
			m[strings.TrimPrefix(k, "recoup:")]++
		}
		return m
	}
	was := count(before)
	for k, n := range count(after) {
		if d := n - was[k]; d > 0 {
			st.stamps[k] += d
		}
	}
}

func (st *state) customerSnapshot(c *Customer) Customer {
	out := *c
	out.Transactions = make([]Transaction, len(c.Transactions))
	for i, t := range c.Transactions {
		if t.Dispute != nil {
			d := *t.Dispute
			t.Dispute = &d
		}
		out.Transactions[i] = t
	}
	out.Attachments = slices.Clone(c.Attachments)
	if out.Attachments == nil {
		out.Attachments = []Attachment{}
	}
	return out
}

func (st *state) snapshot() State {
	out := State{Customers: make([]Customer, 0, len(st.order)), Activities: make([]Activity, 0, len(st.activities))}
	for _, k := range st.order {
		out.Customers = append(out.Customers, st.customerSnapshot(st.customers[k]))
	}
	for _, a := range st.activities {
		out.Activities = append(out.Activities, *a)
	}
	return out
}
