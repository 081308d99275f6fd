package drafting

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// factVariants are accounts that differ in everything a template renders.
func factVariants(ch compliance.Channel) map[string]Facts {
	base := sampleFacts(ch)
	with := func(mod func(*Facts)) Facts {
		f := base
		f.Invoices = append([]Invoice(nil), base.Invoices...)
		mod(&f)
		return f
	}
	eur, jpy, kwd := money.MustCurrency("EUR"), money.MustCurrency("JPY"), money.MustCurrency("KWD")
	many := make([]Invoice, 12)
	for i := range many {
		many[i] = Invoice{Number: fmt.Sprintf("9%05d", 17*i+3), Open: money.New(int64(10000+i*3333), usd), Due: ledger.Date(2024, time.Month(1+i), 28)}
	}
	return map[string]Facts{
		"two invoices":            base,
		"one invoice":             with(func(f *Facts) { f.Invoices = f.Invoices[:1] }),
		"twelve numeric invoices": with(func(f *Facts) { f.Invoices = many }),
		"promise": with(func(f *Facts) {
			f.Promise = &Promise{Amount: money.New(50000, usd), Date: ledger.Date(2025, time.April, 1)}
		}),
		"contact person": with(func(f *Facts) { f.Customer = "Northwind Traders Inc."; f.Contact = "María José Núñez" }),
		"euro": with(func(f *Facts) {
			f.Currency = eur
			f.Invoices = []Invoice{{Number: "FR/2025/0042", Open: money.New(98050, eur), Due: ledger.Date(2025, time.February, 28)}}
		}),
		"yen": with(func(f *Facts) {
			f.Currency = jpy
			f.Invoices = []Invoice{{Number: "JP-77", Open: money.New(1200000, jpy), Due: ledger.Date(2025, time.December, 31)}}
		}),
		"dinar": with(func(f *Facts) {
			f.Currency = kwd
			f.Invoices = []Invoice{{Number: "K1", Open: money.New(1234567, kwd), Due: ledger.Date(2024, time.February, 29)}}
		}),
		"big amounts": with(func(f *Facts) {
			f.Invoices = []Invoice{{Number: "INV-2", Open: money.New(987654321012, usd), Due: ledger.Date(2025, time.January, 1)}}
		}),
		"creditor that sounds legal": with(func(f *Facts) { f.Creditor = "Smith Law Supply & Sons"; f.Sender = "Accounts Receivable" }),
		"every remedy intended": with(func(f *Facts) {
			f.Remedies = []Remedy{RemedyLawsuit, RemedyGarnishment, RemedyCreditReporting, RemedyReferral}
		}),
		"time-barred":                   with(func(f *Facts) { f.Remedies = []Remedy{RemedyLawsuit}; f.TimeBarred = true }),
		"final tone":                    with(func(f *Facts) { f.Tone = ToneFinal }),
		"friendly tone":                 with(func(f *Facts) { f.Tone = ToneFriendly }),
		"first party, nothing required": with(func(f *Facts) { f.Disclosures = Disclosures{} }),
		"third party, every disclosure": with(func(f *Facts) {
			f.Disclosures.Required = []compliance.Disclosure{compliance.DisclosureMiniMiranda, compliance.DisclosureDebtCollector,
				compliance.DisclosureOptOut, compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber}
		}),
		"callback in E.164": with(func(f *Facts) { f.Disclosures.CallbackNumber = "+18005550100" }),
		"link reserved":     with(func(f *Facts) { f.LinkReserve = 40 }),
	}
}

// TestTemplatesPass: every template, for every channel and dunning level,
// passes the guardrails for a wide range of facts.
func TestTemplatesPass(t *testing.T) {
	for _, ch := range Channels {
		for name, f := range factVariants(ch) {
			for lv := LevelReminder; lv <= LevelFinal; lv++ {
				f.Level = lv
				t.Run(fmt.Sprintf("%s/%d/%s", ch, lv, name), func(t *testing.T) {
					subject, body, id, err := Template(f)
					if err != nil {
						t.Fatal(err)
					}
					if vs := CheckDraft(f, subject, body); len(vs) != 0 {
						t.Fatalf("template %s fails: %v\n%s\n%s", id, vs, subject, body)
					}
					if !strings.HasPrefix(id, string(ch)+"/"+fmt.Sprint(int(lv))) {
						t.Errorf("template id %q", id)
					}
					total, _ := f.Total()
					if !strings.Contains(subject+body, FormatAmount(total)) && !strings.Contains(body, FormatAmount(f.Invoices[0].Open)) {
						t.Errorf("template states no amount:\n%s", body)
					}
				})
			}
		}
	}
}

// TestTemplateDeterministic: the same facts render the same text.
func TestTemplateDeterministic(t *testing.T) {
	f := sampleFacts(compliance.ChannelEmail)
	s1, b1, _, _ := Template(f)
	s2, b2, _, _ := Template(f)
	if s1 != s2 || b1 != b2 {
		t.Error("two renderings differ")
	}
}

// TestTemplateRemedies: remedies appear in the final message only, and
// only when intended and lawful.
func TestTemplateRemedies(t *testing.T) {
	f := sampleFacts(compliance.ChannelEmail)
	f.Level, f.Remedies = LevelFinal, []Remedy{RemedyLawsuit}
	_, body, _, _ := Template(f)
	if !strings.Contains(body, "legal action") {
		t.Errorf("intended suit not stated:\n%s", body)
	}
	f.TimeBarred = true
	_, body, _, _ = Template(f)
	if strings.Contains(body, "legal action") {
		t.Errorf("suit stated for a time-barred debt:\n%s", body)
	}
}

// TestTemplateSMSShortVariant: when the long SMS does not fit, the short
// one is used; when nothing fits, nothing is sent.
func TestTemplateSMSShortVariant(t *testing.T) {
	f := sampleFacts(compliance.ChannelSMS)
	f.Invoices = f.Invoices[:1]
	f.LinkReserve = 60
	_, body, id, err := Template(f)
	if err != nil || id != "sms/2/short" {
		t.Fatalf("id %q err %v:\n%s", id, err, body)
	}
	f.MaxSMSSegments = 1
	if _, _, _, err := Template(f); !errors.Is(err, ErrNoSafeDraft) {
		t.Fatalf("err %v, want ErrNoSafeDraft", err)
	}
}

func TestTemplateRefusesBadFacts(t *testing.T) {
	f := sampleFacts(compliance.ChannelSMS)
	f.Invoices = nil
	if _, _, _, err := Template(f); !errors.Is(err, ErrFacts) {
		t.Fatalf("err %v, want ErrFacts", err)
	}
}

// A letter and an e-mail share their words, each naming its own medium.
func TestTemplateNamesItsMedium(t *testing.T) {
	for ch, want := range map[compliance.Channel]string{
		compliance.ChannelEmail:  "This is a friendly reminder",
		compliance.ChannelLetter: "This letter is a reminder",
	} {
		f := sampleFacts(ch)
		f.Level = LevelReminder
		_, body, _, err := Template(f)
		if err != nil {
			t.Fatal(err)
		}
		other := map[bool]string{true: "disregard this letter", false: "disregard this message"}[ch == compliance.ChannelLetter]
		if !strings.Contains(body, want) || !strings.Contains(body, other) {
			t.Errorf("%s reminder lacks %q or %q:\n%s", ch, want, other, body)
		}
	}
}
