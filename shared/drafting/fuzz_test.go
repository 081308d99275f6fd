package drafting

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var knownRules = []Rule{RuleEmpty, RuleFormat, RuleTruncated, RuleAmount, RuleDate, RuleInvoice, RulePhone,
	RuleNumber, RuleName, RuleDisclosure, RuleBanned, RuleLink, RuleLength}

// FuzzCheck: the guardrails never panic, name only known rules, and are
// deterministic, whatever the text.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{goodEmail, goodSMS, "", "$", "$1,2", "US$", "March", "May 5", "1/2/3", "+1 (", "Dear",
		"Sincerely,", "a@b", "x.com", "# 1", "€1.2.3", "2025-13-45", "9:99am", "INV-1001/", "\xff\xfe", "Mr.", "’s"} {
		f.Add(s)
	}
	facts := []Facts{sampleFacts(compliance.ChannelEmail), sampleFacts(compliance.ChannelSMS), sampleFacts(compliance.ChannelAIVoice)}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fc := range facts {
			vs := Check(fc, s)
			for _, v := range vs {
				if !slices.Contains(knownRules, v.Rule) || v.Detail == "" {
					t.Fatalf("violation %+v", v)
				}
			}
			if again := Check(fc, s); !reflect.DeepEqual(vs, again) {
				t.Fatalf("not deterministic: %v then %v", vs, again)
			}
		}
	})
}

var fuzzCurrencies = []string{"USD", "EUR", "GBP", "JPY", "KWD", "CAD", "CHF"}

// FuzzAmounts: any amount, written as drafts write it, is read back as
// itself; spans from any text stay inside it.
func FuzzAmounts(f *testing.F) {
	f.Add(int64(123456), uint8(0), "You owe $1,234.56 USD 5 cents 1.2k")
	f.Add(int64(0), uint8(3), "1,234.567 KWD")
	f.Add(int64(1<<62), uint8(4), "")
	f.Fuzz(func(t *testing.T, minor int64, cur uint8, s string) {
		c := money.MustCurrency(fuzzCurrencies[int(cur)%len(fuzzCurrencies)])
		tx := newText(s)
		tx.tokenize()
		for _, a := range extractAmounts(tx, c) {
			if a.start < 0 || a.end > len(s) || a.start >= a.end {
				t.Fatalf("span [%d,%d) in %d bytes", a.start, a.end, len(s))
			}
		}
		if minor <= 0 {
			minor = -(minor + 1) + 1
		}
		if minor <= 0 {
			return
		}
		a := money.New(minor, c)
		fc := Facts{Currency: c, Channel: compliance.ChannelLetter, Invoices: []Invoice{{Number: "A-1", Open: a, Due: ledger.Date(2025, 1, 2)}}}
		if vs := Check(fc, "The balance is "+FormatAmount(a)+"."); len(vs) != 0 {
			t.Fatalf("%s (%d %s): %v", FormatAmount(a), minor, c.Code(), vs)
		}
	})
}

// FuzzDates: any date, written as drafts write it (and in ISO and US
// numeric form), is read back as itself; spans stay inside the text.
func FuzzDates(f *testing.F) {
	f.Add(int64(0), "March 5, 2025 and 3/5 and 2025-03-05 and 5th of May")
	f.Add(int64(-40000), "Feb. 29th, 2024")
	f.Fuzz(func(t *testing.T, days int64, s string) {
		tx := newText(s)
		tx.tokenize()
		for _, d := range extractDates(tx) {
			if d.start < 0 || d.end > len(s) || d.start >= d.end {
				t.Fatalf("span [%d,%d) in %d bytes", d.start, d.end, len(s))
			}
		}
		day := ledger.Date(2000, 1, 1).AddDate(0, 0, int(days%73000)) // 1800-2199
		if y := day.Year(); y < 1900 || y > 2199 {
			return
		}
		fc := Facts{Currency: usd, Channel: compliance.ChannelLetter, Invoices: []Invoice{{Number: "A-1", Open: money.New(100, usd), Due: day}}}
		for _, w := range []string{FormatDate(day), day.Format("2006-01-02"), day.Format("1/2/2006"), day.Format("Jan. 2")} {
			if vs := Check(fc, "It was due on "+w+"."); len(vs) != 0 {
				t.Fatalf("%s: %v", w, vs)
			}
		}
		other := day.AddDate(0, 0, 1)
		if vs := Check(fc, "It was due on "+FormatDate(other)+"."); len(vs) != 1 || vs[0].Rule != RuleDate {
			t.Fatalf("%s accepted for %s: %v", FormatDate(other), FormatDate(day), vs)
		}
	})
}

// FuzzParseFactsBlock: the parser never panics, and what it accepts
// survives a round trip.
func FuzzParseFactsBlock(f *testing.F) {
	p, _ := BuildPrompt(sampleFacts(compliance.ChannelEmail), 100, 0)
	f.Add(p.Messages[0].Text)
	f.Add("<facts>{\"version\":\"" + PromptVersion + "\"}</facts>")
	f.Add("<facts></facts>")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseFactsBlock(s)
		if err != nil {
			return
		}
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseFactsBlock(factsOpen + string(js) + factsClose)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !reflect.DeepEqual(normBlock(b), normBlock(again)) {
			t.Fatalf("round trip changed %+v to %+v", b, again)
		}
	})
}

// normBlock treats nil and empty slices alike (JSON cannot tell them apart
// after omitempty-free encoding of an empty slice as []).
func normBlock(b FactsBlock) FactsBlock {
	if len(b.Invoices) == 0 {
		b.Invoices = nil
	}
	if len(b.Disclosures) == 0 {
		b.Disclosures = nil
	}
	if len(b.Remedies) == 0 {
		b.Remedies = nil
	}
	return b
}

// FuzzMeasureSMS: segment counts are consistent with the units.
func FuzzMeasureSMS(f *testing.F) {
	for _, s := range []string{"", "hello", "€€€", "🙂", "it’s", "\xff"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, extra uint8) {
		m := measureSMS(s, int(extra))
		single, part := gsmSingle, gsmPart
		if m.Encoding == UCS2 {
			single, part = ucs2Single, ucs2Part
		}
		switch {
		case m.Units == 0:
			if m.Segments != 0 {
				t.Fatalf("%+v", m)
			}
		case m.Units <= single:
			if m.Segments != 1 {
				t.Fatalf("%+v", m)
			}
		default:
			if m.Segments < (m.Units+part-1)/part || m.Segments > m.Units {
				t.Fatalf("%+v", m)
			}
		}
		if m.Units < utf8.RuneCountInString(s)+int(extra) {
			t.Fatalf("%d units for %d runes", m.Units, utf8.RuneCountInString(s))
		}
	})
}
