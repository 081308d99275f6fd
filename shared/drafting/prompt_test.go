package drafting

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
)

func TestBuildPrompt(t *testing.T) {
	f := sampleFacts(compliance.ChannelSMS)
	f.Remedies = []Remedy{RemedyLawsuit, RemedyCreditReporting}
	f.TimeBarred = true
	f.LinkReserve = 30
	p, err := BuildPrompt(f, 400, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Messages) != 1 || p.Messages[0].Role != RoleUser || p.MaxTokens != 400 || p.Temperature != 0.1 {
		t.Fatalf("prompt %+v", p)
	}
	b, err := ParseFactsBlock(p.Messages[0].Text)
	if err != nil {
		t.Fatal(err)
	}
	want := FactsBlock{
		Version: PromptVersion, Channel: "sms", Tone: "firm", Level: 2,
		Creditor: "Acme Supply", Customer: "Jordan Lee", Greeting: "Jordan Lee", Signature: "Acme Supply",
		Invoices: []BlockInvoice{
			{Number: "INV-1001", Amount: "$1,234.56", Due: "March 5, 2025"},
			{Number: "INV-1002", Amount: "$765.44", Due: "March 20, 2025"},
		},
		Total: "$2,000.00",
		Disclosures: []BlockDisclosure{
			{Kind: "mini_miranda", Text: tenantTexts.MiniMiranda},
			{Kind: "opt_out", Text: tenantTexts.OptOut},
		},
		Remedies:   []string{"credit_reporting"}, // no suit for a time-barred debt, not even in the prompt
		TimeBarred: true,
		MaxChars:   2*153 - 30 - 10,
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("facts block (-want +got):\n%s", diff)
	}
	if !strings.Contains(p.System, "at most 266 characters") {
		t.Errorf("system prompt lacks the SMS budget:\n%s", p.System)
	}
	for _, s := range []string{"http", "www."} {
		if strings.Contains(p.Messages[0].Text, s) {
			t.Errorf("prompt mentions %q", s)
		}
	}
}

func TestRetryPrompt(t *testing.T) {
	p, _ := BuildPrompt(sampleFacts(compliance.ChannelEmail), 400, 0)
	q := RetryPrompt(p, "draft", []Violation{{RuleAmount, `"$1.00" is wrong`}, {RuleLink, "no links"}})
	if len(p.Messages) != 1 {
		t.Fatal("RetryPrompt changed its input")
	}
	want := "Automated compliance checks rejected that draft:\n- amount: \"$1.00\" is wrong\n- link: no links\n"
	if len(q.Messages) != 3 || q.Messages[1] != (Message{RoleAssistant, "draft"}) || !strings.HasPrefix(q.Messages[2].Text, want) {
		t.Errorf("retry %+v", q.Messages)
	}
	if e := RetryPrompt(p, "  ", nil); e.Messages[1].Text == "" {
		t.Error("an empty rejected draft would be an empty content block")
	}
}

func TestSplitReply(t *testing.T) {
	for _, tc := range []struct {
		ch            compliance.Channel
		in            string
		subject, body string
	}{
		{compliance.ChannelEmail, "Subject: Hello\n\nDear Jordan,\nHi", "Hello", "Dear Jordan,\nHi"},
		{compliance.ChannelEmail, "subject:Hello\nBody", "Hello", "Body"},
		{compliance.ChannelEmail, "```\nSubject: Hello\n\nBody\n```", "Hello", "Body"},
		{compliance.ChannelEmail, "```text\nSubject: Hello\n\nBody\n```", "Hello", "Body"},
		{compliance.ChannelEmail, "Dear Jordan", "", "Dear Jordan"},
		{compliance.ChannelSMS, "Hi Jordan", "", "Hi Jordan"},
		{compliance.ChannelSMS, "Subject: x\nHi", "x", "Hi"},
		{compliance.ChannelSMS, "Subject:\nHi", "Subject:", "Hi"},
	} {
		s, b := splitReply(tc.ch, tc.in)
		if s != tc.subject || b != tc.body {
			t.Errorf("splitReply(%s, %q) = %q, %q; want %q, %q", tc.ch, tc.in, s, b, tc.subject, tc.body)
		}
	}
}

func TestParseFactsBlockRefuses(t *testing.T) {
	for _, s := range []string{
		"no block",
		"<facts>{}</facts>",
		"<facts>{\"version\":\"" + PromptVersion + "\"",
		"<facts>{\"version\":\"" + PromptVersion + "\",\"extra\":1}</facts>",
		"<facts>{\"version\":\"" + PromptVersion + "\"} {}</facts>",
	} {
		if _, err := ParseFactsBlock(s); err == nil {
			t.Errorf("ParseFactsBlock(%q) accepted", s)
		}
	}
}
