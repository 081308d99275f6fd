package drafting

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

const miniMiranda = "This is an attempt to collect a debt. Any information obtained will be used for that purpose."

// goodEmail is a draft a careful model might write for sampleFacts(email).
const goodEmail = `Dear Jordan,

I'm writing on behalf of Acme Supply about two invoices that are now past due: INV-1001 ($1,234.56, due March 5, 2025) and INV-1002 ($765.44, due 3/20/2025). Together they come to $2,000.00 (2,000.00 USD).

We'd appreciate it if you could arrange payment. If something is holding things up, call us at 800-555-0100 or +1 (800) 555-0100.

` + miniMiranda + `
Reply STOP to opt out

Best regards,
Acme Supply`

// withBody swaps the first paragraph after the greeting of goodEmail.
func withBody(p string) string {
	return "Dear Jordan,\n\n" + p + "\n\n" + miniMiranda + "\nReply STOP to opt out.\n\nBest regards,\nAcme Supply"
}

func TestCheck(t *testing.T) {
	email := sampleFacts(compliance.ChannelEmail)
	sms := sampleFacts(compliance.ChannelSMS)
	voice := sampleFacts(compliance.ChannelAIVoice)
	with := func(f Facts, mod func(*Facts)) Facts { mod(&f); return f }
	promised := with(email, func(f *Facts) {
		f.Promise = &Promise{Amount: money.New(50000, usd), Date: ledger.Date(2025, time.April, 1)}
	})
	for _, tc := range []struct {
		name    string
		facts   Facts
		text    string
		want    []Rule
		mention string // every violation's detail contains it
	}{
		{"a careful draft passes", email, goodEmail, nil, ""},
		{"empty", email, " \n", []Rule{RuleEmpty}, ""},

		// Amounts: every one must be an open amount, the total or the promise.
		{"wrong total", email, withBody("You owe $2,100.00 in total."), []Rule{RuleAmount}, "$2,100.00"},
		{"wrong currency sign", email, withBody("You owe €2,000.00 in total."), []Rule{RuleAmount}, "not in USD"},
		{"code before", email, withBody("You owe USD 2,000.00."), nil, ""},
		{"code after, no separators", email, withBody("You owe 2000 USD."), nil, ""},
		{"dollars word", email, withBody("You owe 2,000 dollars."), nil, ""},
		{"bare amount with cents", email, withBody("The balance is 1,999.99 now."), []Rule{RuleAmount}, "1,999.99"},
		{"inexact amount", email, withBody("You owe about $2k."), []Rule{RuleAmount}, "not an exact amount"},
		{"amount in millions", email, withBody("You owe $2 million."), []Rule{RuleAmount}, "not an exact amount"},
		{"too many decimals", email, withBody("You owe 2000.001 USD."), []Rule{RuleAmount}, ""},
		{"cents", email, withBody("Only 56 cents remain."), []Rule{RuleAmount}, "56 cents"},
		{"promised amount", promised, withBody("You promised $500.00 by April 1, 2025."), nil, ""},
		{"promise without facts", email, withBody("You promised $500.00."), []Rule{RuleAmount}, "$500.00"},

		// Dates: due dates and the promised date only.
		{"wrong date", email, withBody("INV-1001 was due on March 6, 2025."), []Rule{RuleDate}, "March 6, 2025"},
		{"no such day", email, withBody("INV-1001 was due on February 30."), []Rule{RuleDate}, "not a real date"},
		{"iso date", email, withBody("INV-1001 was due on 2025-03-05."), nil, ""},
		{"day first", email, withBody("INV-1001 was due on 5 March 2025."), nil, ""},
		{"abbreviated", email, withBody("INV-1001 was due Mar. 5th."), nil, ""},
		{"month and year", email, withBody("Your March 2025 invoices are open."), nil, ""},
		{"wrong month", email, withBody("Your April 2025 invoices are open."), []Rule{RuleDate}, "April 2025"},
		{"wrong weekday", email, withBody("Please pay by Friday."), []Rule{RuleDate}, "Friday"},
		{"right weekday", email, withBody("INV-1001 was due on Wednesday, March 5, 2025."), nil, ""},
		{"invented deadline", email, withBody("Please pay within 10 days."), []Rule{RuleDate}, "within 10 days"},
		{"tomorrow", email, withBody("Please pay by tomorrow."), []Rule{RuleDate}, "tomorrow"},

		// Invoice numbers and other numbers.
		{"unknown invoice", email, withBody("Invoice INV-1003 is open."), []Rule{RuleInvoice}, "INV-1003"},
		{"hash number", email, withBody("Reference #77123 is open."), []Rule{RuleInvoice}, "77123"},
		{"account number", email, withBody("Your account 4417 is open."), []Rule{RuleInvoice}, "4417"},
		{"invented long number", email, withBody("We have 12345 customers."), []Rule{RuleNumber}, "12345"},
		{"year of a fact date", email, withBody("Your 2025 invoices are open."), nil, ""},
		{"small numbers pass", email, withBody("You have 2 invoices open for 30 days or more."), nil, ""},

		// Phone numbers: the callback number only, any formatting.
		{"other phone", email, withBody("Call 555-123-4567."), []Rule{RulePhone}, "555-123-4567"},
		{"callback dotted", email, withBody("Call 800.555.0100."), nil, ""},

		// Names.
		{"greets someone else", email, strings.Replace(goodEmail, "Dear Jordan", "Dear Sam", 1), []Rule{RuleName}, "Sam"},
		{"invented signer", email, strings.Replace(goodEmail, "Best regards,\nAcme Supply", "Best regards,\nSarah", 1), []Rule{RuleName}, "Sarah"},
		{"title and surname", email, strings.Replace(goodEmail, "Dear Jordan", "Dear Mr. Smith", 1), []Rule{RuleName}, "Smith"},
		{"title and known surname", email, strings.Replace(goodEmail, "Dear Jordan", "Dear Mr. Lee", 1), nil, ""},
		{"generic greeting", email, strings.Replace(goodEmail, "Dear Jordan", "Dear Valued Customer", 1), nil, ""},
		{"invented collector", email, withBody("My name is Michael Brown and I handle your account."), []Rule{RuleName}, ""},
		{"known first name anywhere", email, withBody("Jennifer from our team will help."), []Rule{RuleName}, "Jennifer"},
		{"team signature", email, strings.Replace(goodEmail, "Best regards,\nAcme Supply", "Thanks,\nThe Acme Billing Team", 1), nil, ""},

		// Disclosures: required ones, verbatim.
		{"missing mini-Miranda", email, strings.Replace(goodEmail, miniMiranda, "", 1), []Rule{RuleDisclosure}, "mini_miranda"},
		{"missing opt-out", email, strings.Replace(goodEmail, "Reply STOP to opt out", "", 1), []Rule{RuleDisclosure}, "opt_out"},
		{"disclosure rewrapped", email, strings.Replace(goodEmail, "collect a debt. Any", "collect a debt.\nAny", 1), nil, ""},
		{"caller identity late", voice,
			"Hello. May I speak with Jordan Lee? " + strings.Repeat("We are calling about your account with us today. ", 5) +
				"This is Acme Supply's billing team. " + miniMiranda + " Call us at (800) 555-0100.",
			[]Rule{RuleDisclosure}, "must open"},
		{"voice script", voice, "Hello. This is Acme Supply's billing team. May I speak with Jordan Lee? " + miniMiranda +
			" The balance is $2,000.00. Call us at (800) 555-0100.", nil, ""},
		{"voice without callback", voice, "Hello. This is Acme Supply's billing team. May I speak with Jordan Lee? " + miniMiranda,
			[]Rule{RuleDisclosure}, "callback"},

		// Banned phrases (15 USC 1692d-f).
		{"arrest", email, withBody("If you do not pay, you could be arrested."), []Rule{RuleBanned}, "criminal_threat"},
		{"garnish, not intended", email, withBody("We will garnish your wages."), []Rule{RuleBanned}, "garnishment"},
		{"garnish, intended", with(email, func(f *Facts) { f.Remedies = []Remedy{RemedyGarnishment} }),
			withBody("We intend to seek garnishment."), nil, ""},
		{"suit, intended", with(email, func(f *Facts) { f.Remedies = []Remedy{RemedyLawsuit} }),
			withBody("We intend to take legal action."), nil, ""},
		{"suit, time-barred", with(email, func(f *Facts) { f.Remedies = []Remedy{RemedyLawsuit}; f.TimeBarred = true }),
			withBody("We intend to take legal action."), []Rule{RuleBanned}, "legal_action"},
		{"credit bureaus", email, withBody("We will report you to the credit bureaus."), []Rule{RuleBanned}, "credit_reporting"},
		{"ruin credit", email, withBody("This will ruin your credit."), []Rule{RuleBanned}, "credit_ruin"},
		{"attorney", email, withBody("Our attorney has your file."), []Rule{RuleBanned}, "impersonation"},
		{"employer", email, withBody("We may contact your employer."), []Rule{RuleBanned}, "third_party"},
		{"abuse", email, withBody("Stop acting like a deadbeat."), []Rule{RuleBanned}, "abusive"},
		{"false urgency", email, withBody("Act now: this is your last chance."), []Rule{RuleBanned}, "false_urgency"},
		{"final notice, firm tone", email, withBody("This is a final notice."), []Rule{RuleBanned}, "final_notice"},
		{"final notice, final tone", with(email, func(f *Facts) { f.Tone = ToneFinal }), withBody("This is a final notice."), nil, ""},
		{"fees", email, withBody("A late fee will be added."), []Rule{RuleBanned}, "unauthorised_charges"},
		{"settlement", email, withBody("We can settle for half."), []Rule{RuleBanned}, "unauthorised_offer"},
		{"the creditor's own name is exempt", with(email, func(f *Facts) { f.Creditor = "Smith Law Group" }),
			strings.ReplaceAll(goodEmail, "Acme Supply", "Smith Law Group"), nil, ""},

		// Links: only the system adds the payment link.
		{"url", email, withBody("Pay at https://pay.example.com/x."), []Rule{RuleLink}, ""},
		{"bare domain", email, withBody("Pay at acme-pay.com today."), []Rule{RuleLink}, "acme-pay.com"},
		{"www", email, withBody("See www.acme.example for details."), []Rule{RuleLink}, ""},
		{"email address", email, withBody("Write to ar@acme.com."), []Rule{RuleLink}, ""},
		{"abbreviations are not domains", email, withBody("Pay by check, wire, etc. (e.g. ACH)."), nil, ""},

		// Format.
		{"placeholder", email, withBody("Pay here: [Payment Link]."), []Rule{RuleFormat}, "["},

		// SMS segments.
		{"sms fits", sms, "Acme Supply: Hi Jordan, $2,000.00 is past due. Call (800) 555-0100. " + miniMiranda + " Reply STOP to opt out.", nil, ""},
		{"sms too long", sms, "Acme Supply: " + strings.Repeat("Please pay your balance. ", 12) + miniMiranda + " Reply STOP to opt out.",
			[]Rule{RuleLength}, "GSM-7"},
		{"sms emoji switches to UCS-2", sms, "Acme Supply: Hi Jordan 🙂 $2,000.00 is past due. Call (800) 555-0100. " + miniMiranda + " Reply STOP to opt out.",
			[]Rule{RuleLength}, "UCS-2"},
		{"sms link reserve", with(sms, func(f *Facts) { f.LinkReserve = 150 }),
			"Acme Supply: Hi Jordan, $2,000.00 is past due. Call (800) 555-0100. " + miniMiranda + " Reply STOP to opt out.",
			[]Rule{RuleLength}, "kept for the payment link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := Check(tc.facts, tc.text)
			var got []Rule
			for _, v := range vs {
				if !slices.Contains(got, v.Rule) {
					got = append(got, v.Rule)
				}
				if tc.mention != "" && !strings.Contains(v.Detail, tc.mention) {
					t.Errorf("violation %v does not mention %q", v, tc.mention)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s\nviolations: %v", diff, vs)
			}
		})
	}
}

func TestCheckDraftSubject(t *testing.T) {
	email := sampleFacts(compliance.ChannelEmail)
	sms := sampleFacts(compliance.ChannelSMS)
	smsBody := "Acme Supply: Hi Jordan, $2,000.00 is past due. " + miniMiranda + " Reply STOP to opt out."
	for _, tc := range []struct {
		name          string
		facts         Facts
		subject, body string
		want          []Violation
	}{
		{"email with subject", email, "Your account with Acme Supply", goodEmail, nil},
		{"email without subject", email, "", goodEmail, []Violation{{RuleFormat, "an email needs a subject line"}}},
		{"sms with subject", sms, "Hello", smsBody, []Violation{{RuleFormat, "a sms has no subject line"}}},
		{"subject states a wrong amount", email, "You owe $5.00", goodEmail,
			[]Violation{{RuleAmount, `subject: "$5.00" is not an open amount, the total or the promised amount in the facts`}}},
		{"subject threatens", email, "Pay or go to jail", goodEmail,
			[]Violation{{RuleBanned, `subject: criminal_threat: threatens arrest, jail or criminal action (15 USC 1692e(4), 1692e(7), 1692d(1)): "jail"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CheckDraft(tc.facts, tc.subject, tc.body)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckCurrencies: amounts are read in the facts' currency and scale.
func TestCheckCurrencies(t *testing.T) {
	for _, tc := range []struct {
		code  string
		minor int64
		text  string
		ok    bool
	}{
		{"EUR", 98050, "Der Betrag von €980.50 ist offen.", true},
		{"EUR", 98050, "Balance: 980.50 EUR.", true},
		{"EUR", 98050, "Balance: $980.50.", false},
		{"JPY", 120000, "Balance: ¥120,000.", true},
		{"JPY", 120000, "Balance: ¥120,000.50.", false},
		{"KWD", 1500, "Balance: 1.500 KWD.", true},
		{"CAD", 98050, "Balance: $980.50.", true},
		{"CAD", 98050, "Balance: US$980.50.", false},
		{"GBP", 98050, "Balance: £980.50.", true},
	} {
		t.Run(tc.code+" "+tc.text, func(t *testing.T) {
			c := money.MustCurrency(tc.code)
			f := Facts{Currency: c, Channel: compliance.ChannelLetter, Invoices: []Invoice{{Number: "A-100", Open: money.New(tc.minor, c), Due: ledger.Date(2025, 1, 2)}}}
			vs := Check(f, tc.text)
			if got := len(vs) == 0; got != tc.ok {
				t.Errorf("ok = %v, violations %v", got, vs)
			}
		})
	}
}

// TestCheckNamesWithAccents: a name written without its accents is the
// same name.
func TestCheckNamesWithAccents(t *testing.T) {
	f := sampleFacts(compliance.ChannelEmail)
	f.Contact = "María José Núñez"
	for _, greet := range []string{"Dear María", "Dear Maria", "Dear Ms. Nunez", "Dear María José Núñez"} {
		if vs := Check(f, strings.Replace(goodEmail, "Dear Jordan", greet, 1)); len(vs) != 0 {
			t.Errorf("%s: %v", greet, vs)
		}
	}
	if vs := Check(f, strings.Replace(goodEmail, "Dear Jordan", "Dear Marta", 1)); len(vs) != 1 || vs[0].Rule != RuleName {
		t.Errorf("Marta: %v", vs)
	}
	if vs := Check(f, strings.Replace(goodEmail, "Best regards,\nAcme Supply", "Best regards,\n\nSarah", 1)); len(vs) != 1 || vs[0].Rule != RuleName {
		t.Errorf("signature under a blank line: %v", vs)
	}
}
