package strategy_test

import (
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// A business customer with two overdue invoices had a friendly reminder
// twelve days ago: the default strategy sends the firm reminder, by the
// channel the preference model recommends, one message for both invoices.
func ExampleDecide() {
	usd := money.MustCurrency("USD")
	now := time.Date(2026, 3, 11, 15, 0, 0, 0, time.UTC)
	inv := func(id string, due time.Time, minor int64) ledger.Invoice {
		return ledger.Invoice{ID: id, Customer: "ACME", DueDate: due, Amount: money.New(minor, usd), Open: money.New(minor, usd)}
	}
	in := strategy.Input{
		Tenant:   "t1",
		Customer: ledger.Customer{ID: "ACME", Kind: ledger.Business},
		Invoices: []ledger.Invoice{inv("INV-2", ledger.Date(2026, 2, 20), 120000), inv("INV-1", ledger.Date(2026, 2, 10), 45050)},
		Contacts: []strategy.Contact{{At: now.AddDate(0, 0, -12), Channel: consent.Email, Step: "reminder",
			Action: strategy.ActionFriendlyReminder, Result: engagement.SignalDelivered}},
		Preferred: preference.Choice{Channel: preference.Email, P: 0.31},
		Reachable: []consent.Channel{consent.Email, consent.SMS, consent.Voice},
		Now:       now,
	}
	d, err := strategy.Decide(strategy.DefaultConfig(), in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Outcome, d.Segment, d.Step, d.Channel, d.When.Format(time.RFC3339), d.Invoices)
	fmt.Println(d.Reason)
	// Output:
	// act business firm email 2026-03-11T15:00:00Z [INV-1 INV-2]
	// Firm reminder by email on Wed 11 Mar 2026 11:00 EDT for 2 overdue invoices totalling 1650.50 USD, the oldest 29 days past due (after the friendly reminder of 27 Feb 2026).
}
