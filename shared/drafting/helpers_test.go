package drafting

import (
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var usd = money.MustCurrency("USD")

// tenantTexts is a third-party collector's configured wording.
var tenantTexts = Disclosures{
	MiniMiranda:    "This is an attempt to collect a debt. Any information obtained will be used for that purpose.",
	DebtCollector:  "This communication is from a debt collector.",
	OptOut:         "Reply STOP to opt out.",
	CallerIdentity: "This is Acme Supply's billing team.",
	CallbackNumber: "(800) 555-0100",
}

// requiredFor is what the compliance engine typically requires per channel.
func requiredFor(ch compliance.Channel) []compliance.Disclosure {
	switch ch {
	case compliance.ChannelSMS, compliance.ChannelEmail:
		return []compliance.Disclosure{compliance.DisclosureMiniMiranda, compliance.DisclosureOptOut}
	case compliance.ChannelAIVoice:
		return []compliance.Disclosure{compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber, compliance.DisclosureMiniMiranda}
	case compliance.ChannelCall:
		return []compliance.Disclosure{compliance.DisclosureCallerIdentity, compliance.DisclosureMiniMiranda}
	}
	return []compliance.Disclosure{compliance.DisclosureMiniMiranda}
}

// sampleFacts: one customer, two invoices, an email reminder.
func sampleFacts(ch compliance.Channel) Facts {
	ds := tenantTexts
	ds.Required = requiredFor(ch)
	return Facts{
		Creditor: "Acme Supply",
		Customer: "Jordan Lee",
		Currency: usd,
		Invoices: []Invoice{
			{Number: "INV-1001", Open: money.New(123456, usd), Due: ledger.Date(2025, time.March, 5)},
			{Number: "INV-1002", Open: money.New(76544, usd), Due: ledger.Date(2025, time.March, 20)},
		},
		Channel:     ch,
		Tone:        ToneFirm,
		Level:       LevelFollowUp,
		Disclosures: ds,
	}
}
