package ebssim

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// AccountSeed is an account to create (POST /_sim/accounts).
type AccountSeed struct {
	Number string `json:"number"`
	// Currency is the account's and its transactions' currency; USD when
	// empty.
	Currency string `json:"currency,omitempty"`
	// CreditHold is the profile's starting hold, Y or N; N when empty.
	CreditHold   string   `json:"credit_hold,omitempty"`
	Transactions []string `json:"transactions,omitempty"`

	// The fields below feed XX_RECOUP's read methods (reads.go); all are
	// optional, and an account seeded without them reads as an
	// organisation named "Customer <number>" with nothing else.
	//
	// Name is HZ_PARTIES.PARTY_NAME; PartyType its PARTY_TYPE
	// (ORGANIZATION when empty, PERSON, GROUP or PARTY_RELATIONSHIP);
	// Country the identifying address's HZ_LOCATIONS.COUNTRY;
	// CustomerClass HZ_CUST_ACCOUNTS.CUSTOMER_CLASS_CODE.
	Name          string `json:"name,omitempty"`
	PartyType     string `json:"party_type,omitempty"`
	Country       string `json:"country,omitempty"`
	CustomerClass string `json:"customer_class,omitempty"`
	// UpdatedAt is the LAST_UPDATE_DATE the account's rows get when this
	// seed creates or changes them; the time of seeding when zero.
	UpdatedAt time.Time     `json:"updated_at,omitzero"`
	Contacts  []ContactSeed `json:"contacts,omitempty"`
	Addresses []AddressSeed `json:"addresses,omitempty"`
	Invoices  []InvoiceSeed `json:"invoices,omitempty"`
	Receipts  []ReceiptSeed `json:"receipts,omitempty"`
}

// Account is what the ERP holds for one customer account: the ids
// find_account answers, the account-level profile, the open transactions
// and every object the service calls created for it.
type Account struct {
	Number               string `json:"number"`
	Currency             string `json:"currency"`
	CustAccountID        int64  `json:"cust_account_id"`
	PartyID              int64  `json:"party_id"`
	CustAccountProfileID int64  `json:"cust_account_profile_id"`
	CreditHold           string `json:"credit_hold"`
	ObjectVersionNumber  int64  `json:"object_version_number"`
	// ProfileUpdates counts successful update_customer_profile calls, so a
	// test can tell a hold confirmed without an update from a blind write.
	ProfileUpdates  int           `json:"profile_updates"`
	Transactions    []Transaction `json:"transactions"`
	Notes           []Object      `json:"notes"`
	Tasks           []Object      `json:"tasks"`
	Promises        []Object      `json:"promises"`
	Disputes        []Object      `json:"disputes"`
	DunningRequests []Object      `json:"dunning_requests"`
	Applications    []Object      `json:"applications"`
}

// Transaction is an open invoice (RA_CUSTOMER_TRX_ALL) with its open
// delinquency (IEX_DELINQUENCIES_ALL).
type Transaction struct {
	Number        string `json:"number"`
	CustomerTrxID int64  `json:"customer_trx_id"`
	DelinquencyID int64  `json:"delinquency_id"`
	Currency      string `json:"currency"`
}

// Object is a row a write created: a note, task, promise, credit memo
// request, dunning request or receipt application.
type Object struct {
	ID int64 `json:"id"`
	// Key is the ATTRIBUTE15 (or P_KEY) stamp find_action searches by.
	Key string `json:"key"`
	// TrxNumber is the transaction a promise, dispute or application is
	// for.
	TrxNumber string `json:"trx_number,omitempty"`
	// NoteID is the note IEX creates with a promise that has a NOTE.
	NoteID int64 `json:"note_id,omitempty"`
	// Inputs are the InputParameters as sent.
	Inputs map[string]any `json:"inputs"`
}

// Object codes find_action answers (WIRE.md, XX_RECOUP).
const (
	codeNote        = "JTF_NOTE"
	codeTask        = "JTF_TASK"
	codePromise     = "IEX_PROMISE"
	codeCMRequest   = "AR_CM_REQUEST"
	codeApplication = "AR_RECEIVABLE_APP"
	codeDunning     = "XX_DUNNING"
)

type stamp struct {
	code string
	id   int64
}

type trxRef struct {
	acct *Account
	i    int
}

// state is the ERP's data. Every method is called with Server.mu held.
type state struct {
	accounts  map[string]*Account // by account number
	order     []string            // seeding order, for stable listings
	byID      map[int64]*Account  // by cust_account_id
	byProfile map[int64]*Account  // by cust_account_profile_id
	trx       map[int64]trxRef    // by customer_trx_id
	// stamps holds, per key, every object created with it in creation
	// order: find_action answers the first, Applied counts them all.
	stamps map[string][]stamp
	next   counters
	// reads holds what only the read methods serve (reads.go).
	reads *readState
}

// counters hand out ids. They start at distinct bases so an id in a log
// or an answer says what it is.
type counters struct {
	account, party, profile, trx, delinquency    int64
	note, task, promise, cmRequest, dunning, app int64
}

func newState() *state {
	return &state{
		accounts: map[string]*Account{}, byID: map[int64]*Account{}, byProfile: map[int64]*Account{},
		trx: map[int64]trxRef{}, stamps: map[string][]stamp{},
		next: counters{account: 1001, party: 5001, profile: 7001, trx: 20001, delinquency: 30001,
			note: 10001, task: 40001, promise: 50001, cmRequest: 60001, dunning: 70001, app: 80001},
	}
}

func take(n *int64) int64 {
	id := *n
	*n++
	return id
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// seed creates the accounts not there yet and adds transactions an
// account lacks, so seeding the same list twice changes nothing.
func (st *state) seed(seeds []AccountSeed) ([]Account, error) {
	for _, a := range seeds {
		if a.Number == "" {
			return nil, errors.New("an account has no number")
		}
		if a.Currency != "" && !currencyCode.MatchString(a.Currency) {
			return nil, fmt.Errorf("account %s: currency %q is not an ISO 4217 code", a.Number, a.Currency)
		}
		if a.CreditHold != "" && a.CreditHold != "Y" && a.CreditHold != "N" {
			return nil, fmt.Errorf("account %s: credit_hold %q is not Y or N", a.Number, a.CreditHold)
		}
		for _, t := range a.Transactions {
			if t == "" {
				return nil, fmt.Errorf("account %s: a transaction has no number", a.Number)
			}
		}
		if err := checkReadSeed(a); err != nil {
			return nil, fmt.Errorf("account %s: %w", a.Number, err)
		}
	}
	out := make([]Account, 0, len(seeds))
	for _, a := range seeds {
		acct := st.accounts[a.Number]
		if acct == nil {
			acct = &Account{Number: a.Number, Currency: a.Currency, CreditHold: a.CreditHold, ObjectVersionNumber: 1,
				CustAccountID: take(&st.next.account), PartyID: take(&st.next.party), CustAccountProfileID: take(&st.next.profile)}
			if acct.Currency == "" {
				acct.Currency = "USD"
			}
			if acct.CreditHold == "" {
				acct.CreditHold = "N"
			}
			st.accounts[a.Number] = acct
			st.order = append(st.order, a.Number)
			st.byID[acct.CustAccountID] = acct
			st.byProfile[acct.CustAccountProfileID] = acct
		}
		for _, num := range a.Transactions {
			if _, ok := acct.transaction(num); ok {
				continue
			}
			t := Transaction{Number: num, CustomerTrxID: take(&st.next.trx), DelinquencyID: take(&st.next.delinquency), Currency: acct.Currency}
			acct.Transactions = append(acct.Transactions, t)
			st.trx[t.CustomerTrxID] = trxRef{acct: acct, i: len(acct.Transactions) - 1}
		}
		st.seedReads(acct, a)
		out = append(out, acct.snapshot())
	}
	return out, nil
}

func (a *Account) transaction(number string) (Transaction, bool) {
	for _, t := range a.Transactions {
		if t.Number == number {
			return t, true
		}
	}
	return Transaction{}, false
}

func (a *Account) delinquency(id int64) (Transaction, bool) {
	for _, t := range a.Transactions {
		if t.DelinquencyID == id {
			return t, true
		}
	}
	return Transaction{}, false
}

// snapshot copies the slices so a caller can keep it after the lock is
// released; stored Inputs are never changed, so they are shared.
func (a *Account) snapshot() Account {
	c := *a
	c.Transactions = slices.Clone(orEmpty(a.Transactions))
	c.Notes = slices.Clone(orEmpty(a.Notes))
	c.Tasks = slices.Clone(orEmpty(a.Tasks))
	c.Promises = slices.Clone(orEmpty(a.Promises))
	c.Disputes = slices.Clone(orEmpty(a.Disputes))
	c.DunningRequests = slices.Clone(orEmpty(a.DunningRequests))
	c.Applications = slices.Clone(orEmpty(a.Applications))
	return c
}

// orEmpty makes nil slices encode as [] in the control API.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// record stamps a created object. The ERP has no uniqueness on
// ATTRIBUTE15, so a second object with the same key is recorded too.
// create gives o the next id of its kind, adds it to the account's list and
// stamps its key, so find_action and /_sim/applied see it.
func (st *state) create(list *[]Object, next *int64, code string, o Object) Object {
	o.ID = take(next)
	*list = append(*list, o)
	st.stamps[o.Key] = append(st.stamps[o.Key], stamp{code: code, id: o.ID})
	return o
}

func (st *state) applied() map[string]int {
	out := make(map[string]int, len(st.stamps))
	for k, v := range st.stamps {
		out[k] = len(v)
	}
	return out
}

func (st *state) snapshot() []Account {
	out := make([]Account, 0, len(st.order))
	for _, n := range st.order {
		out = append(out, st.accounts[n].snapshot())
	}
	return out
}
