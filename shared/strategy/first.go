// Package strategy turns the ledger into planned contacts. Decide is the
// engine: from the scores, the channel preference, the customer's state and
// the tenant's Config (sequences by segment and days past due, promises,
// escalation, approvals, business hours) it chooses the next best action
// and when, deterministically, recording what produced it.
//
// FirstContacts is the first, deliberately simple plan the demo's
// compliance day still uses: one contact per overdue invoice on the
// customer's usual channel.
package strategy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Account is what the plan knows of one customer.
type Account = ledger.Account

// Accounts groups a tenant's records by customer, customers in id order.
func Accounts(customers []ledger.Customer, contacts []ledger.ContactPoint, invoices []ledger.Invoice, disputes []ledger.Dispute) []Account {
	by := make(map[string]*Account, len(customers))
	for _, c := range customers {
		by[c.ID] = &Account{Customer: c}
	}
	get := func(id string) *Account {
		if a, ok := by[id]; ok {
			return a
		}
		a := &Account{Customer: ledger.Customer{ID: id}}
		by[id] = a
		return a
	}
	for _, c := range contacts {
		a := get(c.Customer)
		a.Contacts = append(a.Contacts, c)
	}
	for _, i := range invoices {
		a := get(i.Customer)
		a.Invoices = append(a.Invoices, i)
	}
	for _, d := range disputes {
		a := get(d.Customer)
		a.Disputes = append(a.Disputes, d)
	}
	out := make([]Account, 0, len(by))
	for _, a := range by {
		slices.SortFunc(a.Contacts, func(x, y ledger.ContactPoint) int { return cmp.Compare(x.ID, y.ID) })
		slices.SortFunc(a.Invoices, func(x, y ledger.Invoice) int { return cmp.Compare(x.ID, y.ID) })
		out = append(out, *a)
	}
	slices.SortFunc(out, func(x, y Account) int { return cmp.Compare(x.Customer.ID, y.Customer.ID) })
	return out
}

// Planned is one planned contact with the contact point it uses.
type Planned struct {
	Request dispatch.Request
	Contact ledger.ContactPoint // zero for a letter without a postal address on file
}

// FirstContacts plans, for every invoice overdue at the attempt time, one
// message on the customer's usual channel: email when an address is on
// file (one the customer gave, before an employer's), else a text to a
// mobile, else a call, else a letter. Each goes through the dispatch gate,
// which has the last word.
func FirstContacts(tenant ledger.TenantID, collector ledger.CollectorType, at time.Time, accounts []Account) []Planned {
	var out []Planned
	for _, a := range accounts {
		consumer, debts, events := dispatch.LedgerFacts(a)
		ch, cp := usualChannel(a)
		for _, inv := range a.Invoices {
			if !inv.IsOpen() || inv.DaysPastDue(at) <= 0 {
				continue
			}
			to := ""
			switch {
			case cp.Phone != nil:
				to = cp.Phone.E164
			case cp.Email != nil:
				to = cp.Email.Address
			}
			content, _ := json.Marshal(map[string]string{
				"template": "friendly_reminder", "invoice": inv.ID, "amount": inv.Open.Decimal(),
				"currency": inv.Open.Currency.Code(), "due_date": inv.DueDate.Format("2006-01-02"),
			})
			out = append(out, Planned{Contact: cp, Request: dispatch.Request{
				Tenant: tenant, AttemptID: fmt.Sprintf("first-%s-%s", inv.ID, at.Format("20060102")), Collector: collector,
				Customer: a.Customer.ID, Consumer: consumer, Debts: debts, Events: events,
				Attempt: compliance.Attempt{At: at, Channel: ch, Debt: inv.ID, To: to, Purpose: compliance.PurposeCollection,
					Disclosures: dispatch.Disclosures(ch)},
				Content: content,
			}})
		}
	}
	return out
}

func usualChannel(a Account) (compliance.Channel, ledger.ContactPoint) {
	var own, work, mobile, phone, postal *ledger.ContactPoint
	for i := range a.Contacts {
		c := &a.Contacts[i]
		switch {
		case c.Email != nil && !c.Email.EmployerProvided && own == nil:
			own = c
		case c.Email != nil && work == nil:
			work = c
		case c.Phone != nil && c.Phone.Line == ledger.LineMobile && mobile == nil:
			mobile = c
		case c.Phone != nil && phone == nil:
			phone = c
		case c.Postal != nil && postal == nil:
			postal = c
		}
	}
	switch {
	case own != nil:
		return compliance.ChannelEmail, *own
	case work != nil:
		return compliance.ChannelEmail, *work
	case mobile != nil:
		return compliance.ChannelSMS, *mobile
	case phone != nil:
		return compliance.ChannelCall, *phone
	case postal != nil:
		return compliance.ChannelLetter, *postal
	}
	return compliance.ChannelLetter, ledger.ContactPoint{}
}
