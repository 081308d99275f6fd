package drafting_test

import (
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func exampleFacts() drafting.Facts {
	usd := money.MustCurrency("USD")
	return drafting.Facts{
		Creditor: "Acme Supply",
		Customer: "Jordan Lee",
		Currency: usd,
		Invoices: []drafting.Invoice{{Number: "INV-1001", Open: money.New(123456, usd), Due: ledger.Date(2025, time.March, 5)}},
		Channel:  compliance.ChannelSMS,
		Tone:     drafting.ToneFriendly,
		Level:    drafting.LevelReminder,
		Disclosures: drafting.Disclosures{
			Required: []compliance.Disclosure{compliance.DisclosureOptOut},
			OptOut:   "Reply STOP to opt out.",
		},
	}
}

// Check names every guardrail a text fails.
func ExampleCheck() {
	f := exampleFacts()
	draft := "Hi Jordan, invoice INV-1001 for $1,324.56 is overdue. Pay by Friday or we will sue. Reply STOP to opt out."
	for _, v := range drafting.Check(f, draft) {
		fmt.Println(v.Rule)
	}
	// Output:
	// date
	// amount
	// banned_phrase
}

// Template renders the vetted fallback for the facts' channel and level.
func ExampleTemplate() {
	_, body, id, err := drafting.Template(exampleFacts())
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	fmt.Println(body)
	// Output:
	// sms/1
	// Acme Supply: Hi Jordan Lee, a reminder that invoice INV-1001 for $1,234.56, due March 5, 2025, is past due. Reply STOP to opt out.
}
