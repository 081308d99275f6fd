package dispatch

import (
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Disclosures are the statements every planned message carries: the
// mini-Miranda and debt-collector notices (required of collectors and, in
// California, of creditors), an opt-out for email and texts, caller identity
// and a callback number for calls, live or artificial.
func Disclosures(ch compliance.Channel) []compliance.Disclosure {
	d := []compliance.Disclosure{compliance.DisclosureMiniMiranda, compliance.DisclosureDebtCollector}
	switch ch {
	case compliance.ChannelEmail, compliance.ChannelSMS:
		d = append(d, compliance.DisclosureOptOut)
	case compliance.ChannelCall, compliance.ChannelAIVoice:
		// An artificial voice must also name the business and a callback
		// number (TCPA 64.1200(b)).
		d = append(d, compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber)
	}
	return d
}

// LedgerFacts are what the ledger tells the gate about a customer: the
// consumer with the contact points and location the engine reads, the
// open debts, and an event for each open dispute.
func LedgerFacts(a ledger.Account) (compliance.Consumer, []compliance.Debt, []compliance.Event) {
	return consumerOf(a), debtsOf(a), disputeEvents(a)
}

func consumerOf(a ledger.Account) compliance.Consumer {
	c := compliance.Consumer{ID: a.Customer.ID}
	for _, cp := range a.Contacts {
		switch {
		case cp.Phone != nil:
			c.Phones = append(c.Phones, compliance.Phone{Number: cp.Phone.E164, Line: cp.Phone.Line})
		case cp.Email != nil:
			c.Emails = append(c.Emails, compliance.EmailAddress{Address: cp.Email.Address, EmployerProvided: cp.Email.EmployerProvided})
		case cp.Postal != nil && c.State == "" && (cp.Postal.Country == "" || cp.Postal.Country == "US"):
			c.State, c.ZIP = cp.Postal.State, cp.Postal.ZIP
		}
	}
	return c
}

func debtsOf(a ledger.Account) []compliance.Debt {
	var d []compliance.Debt
	for _, inv := range a.Invoices {
		if inv.IsOpen() {
			d = append(d, compliance.Debt{ID: inv.ID, TimeBarred: inv.TimeBarred})
		}
	}
	return d
}

// disputeEvents tells the engine of open disputes; whether written is not
// known from an import, so they count as oral (FLAG-DISPUTE routes them to a
// person).
func disputeEvents(a ledger.Account) []compliance.Event {
	var evs []compliance.Event
	for _, d := range a.Disputes {
		if d.Status == ledger.DisputeOpen {
			evs = append(evs, compliance.Event{Kind: compliance.EventDispute, At: d.OpenedAt, Debt: d.Invoice})
		}
	}
	return evs
}
