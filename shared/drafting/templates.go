package drafting

import (
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// ErrNoSafeDraft is returned when not even a template passes the
// guardrails for the facts (an SMS budget too small for the required
// disclosures, say). Nothing may be sent then.
var ErrNoSafeDraft = errors.New("no draft passes the guardrails")

// The vetted templates, one per channel and dunning level (SMS has a short
// variant for when the long one does not fit). They are written to pass
// the guardrails for any valid facts: only facts' values, the tenant's
// disclosure texts verbatim, no deadlines, and remedies only when intended
// (templates_test.go renders every one for many facts and checks it).
//
// Rendering: blank lines separate paragraphs, lines that render empty
// vanish, and runs of blank lines collapse; an SMS becomes one line.

const (
	emailOpen = `{{define "open"}}Dear {{.Greeting}},
{{if .CallerIdentity}}
{{.CallerIdentity}}{{end}}
{{end}}`
	invoiceList = `{{define "invoices"}}
{{range .Invoices}}- Invoice {{.Number}}: {{.Amount}}, due {{.Due}}
{{end}}
Total due: {{.Total}}
{{if .Promise}}
We are following up on your promise to pay {{.Promise.Amount}} by {{.Promise.Date}}.
{{end}}{{end}}`
	remedies = `{{define "remedies"}}{{if .Lawsuit}}If the balance remains unpaid, we intend to take legal action to collect it.
{{end}}{{if .CreditReporting}}If the balance remains unpaid, we intend to report it to the credit bureaus.
{{end}}{{if .Garnishment}}If the balance remains unpaid, we intend to seek garnishment as the law allows.
{{end}}{{if .Referral}}If the balance remains unpaid, we intend to refer the account to a collection agency.
{{end}}{{end}}`
	closing = `{{define "close"}}
{{if .Callback}}If you have any questions, please call us at {{.Callback}}.{{end}}

{{if .MiniMiranda}}{{.MiniMiranda}}
{{end}}{{if .DebtCollector}}{{.DebtCollector}}
{{end}}{{if .OptOut}}{{.OptOut}}
{{end}}
Sincerely,
{{.Signature}}{{end}}`

	scriptOpen = `{{define "sopen"}}{{if .CallerIdentity}}Hello. {{.CallerIdentity}}{{else}}Hello, this is a call from {{.Creditor}}.{{end}}
May I please speak with {{.Greeting}}?
{{if .MiniMiranda}}{{.MiniMiranda}}
{{end}}{{if .DebtCollector}}{{.DebtCollector}}
{{end}}{{end}}`
	scriptAbout = `{{define "sabout"}}I am calling about {{if .One}}invoice {{.One.Number}} for {{.One.Amount}}, which was due on {{.One.Due}}{{else}}{{.Count}} past-due invoices with {{.Creditor}}, for a total of {{.Total}}{{end}}.
{{if .Promise}}We are following up on your promise to pay {{.Promise.Amount}} by {{.Promise.Date}}.
{{end}}{{end}}`
	scriptClose = `{{define "sclose"}}{{if .Callback}}If now is not a good time, please call us back at {{.Callback}}.
{{end}}{{if .OptOut}}{{.OptOut}}
{{end}}Thank you for your time.{{end}}`
)

var templateText = map[compliance.Channel]map[Level]string{
	compliance.ChannelEmail: {
		LevelReminder: `Subject: Reminder: {{.InvoiceWord}} from {{.Creditor}} past due
{{template "open" .}}
{{if .Letter}}This letter is a reminder{{else}}This is a friendly reminder{{end}} that the following {{.InvoiceWord}} from {{.Creditor}} {{.IsAre}} past due:
{{template "invoices" .}}
If you have already paid, thank you, and please disregard this {{if .Letter}}letter{{else}}message{{end}}. Otherwise, please arrange payment at your earliest convenience.
{{template "close" .}}`,
		LevelFollowUp: `Subject: Second reminder: {{.InvoiceWord}} from {{.Creditor}} past due
{{template "open" .}}
We wrote to you earlier about the following {{.InvoiceWord}} from {{.Creditor}}, which {{.RemainRemains}} unpaid:
{{template "invoices" .}}
Please arrange payment, or let us know if there is a problem with {{.ThisThese}}.
{{template "close" .}}`,
		LevelEscalation: `Subject: Past-due balance of {{.Total}} with {{.Creditor}}
{{template "open" .}}
Your account with {{.Creditor}} has a past-due balance:
{{template "invoices" .}}
Please pay the balance, or contact us to discuss how you will pay it.
{{template "close" .}}`,
		LevelFinal: `Subject: {{if .Final}}Final notice{{else}}Past-due balance{{end}}: {{.Total}} owed to {{.Creditor}}
{{template "open" .}}
Your account with {{.Creditor}} remains past due after our earlier reminders:
{{template "invoices" .}}
Please pay the balance, or contact us to arrange payment.
{{template "remedies" .}}
{{template "close" .}}`,
	},
	compliance.ChannelSMS: {
		LevelReminder: `{{.From}}: {{.SMSHello}}a reminder that {{.SMSAbout}}.{{.SMSPromise}}
{{if .Callback}}Questions? Call {{.Callback}}.{{end}} {{.SMSDisclosures}}`,
		LevelFollowUp: `{{.From}}: {{.SMSHello}}a second reminder that {{.SMSAbout}}.{{.SMSPromise}}
{{if .Callback}}Please pay or call {{.Callback}}.{{end}} {{.SMSDisclosures}}`,
		LevelEscalation: `{{.From}}: {{.SMSHello}}{{.SMSAbout}} and needs payment.{{.SMSPromise}}
{{if .Callback}}Please pay or call {{.Callback}}.{{end}} {{.SMSDisclosures}}`,
		LevelFinal: `{{.From}}: {{.SMSHello}}{{.SMSAbout}} after earlier reminders.{{.SMSPromise}}
{{if .Callback}}Please pay or call {{.Callback}}.{{end}} {{.SMSDisclosures}}`,
	},
	compliance.ChannelCall: {
		LevelReminder: `{{template "sopen" .}}{{template "sabout" .}}
Would you be able to arrange payment?
{{template "sclose" .}}`,
		LevelFollowUp: `{{template "sopen" .}}{{template "sabout" .}}
We wrote to you earlier and have not received payment. Would you be able to arrange payment?
{{template "sclose" .}}`,
		LevelEscalation: `{{template "sopen" .}}{{template "sabout" .}}
The balance of {{.Total}} is past due. Can we agree on how you will pay it?
{{template "sclose" .}}`,
		LevelFinal: `{{template "sopen" .}}{{template "sabout" .}}
The balance of {{.Total}} remains past due after our earlier reminders. Can we agree on how you will pay it?
{{template "remedies" .}}{{template "sclose" .}}`,
	},
}

var templates = func() map[compliance.Channel]map[Level]*template.Template {
	out := map[compliance.Channel]map[Level]*template.Template{}
	for _, ch := range Channels {
		levels := templateText[ch]
		switch ch {
		case compliance.ChannelAIVoice:
			// The AI-voice script is the call script: an artificial voice says
			// what a collector would, and both identify the caller first.
			levels = templateText[compliance.ChannelCall]
		case compliance.ChannelLetter:
			// A letter says what an e-mail says, calling itself a letter.
			levels = templateText[compliance.ChannelEmail]
		}
		out[ch] = map[Level]*template.Template{}
		for lv, body := range levels {
			t := template.New(fmt.Sprintf("%s/%d", ch, lv)).Option("missingkey=error")
			for _, part := range []string{emailOpen, invoiceList, remedies, closing, scriptOpen, scriptAbout, scriptClose, body} {
				t = template.Must(t.Parse(part))
			}
			out[ch][lv] = t
		}
	}
	return out
}()

// templateData is what templates see: facts already written as drafts
// write them, disclosures only when required (the callback number whenever
// the tenant has one: it is always welcome).
type templateData struct {
	Greeting, Creditor, Signature, Total                 string
	Invoices                                             []BlockInvoice
	One                                                  *BlockInvoice
	Count                                                int
	InvoiceWord, IsAre, RemainRemains, ThisThese         string
	Promise                                              *BlockPromise
	MiniMiranda, DebtCollector, OptOut, CallerIdentity   string
	Callback                                             string
	Lawsuit, Garnishment, CreditReporting, Referral      bool
	Final                                                bool
	Letter                                               bool // the written templates name their medium
	From, SMSHello, SMSAbout, SMSPromise, SMSDisclosures string
}

func newTemplateData(f Facts, short bool) (templateData, error) {
	b, err := f.Block()
	if err != nil {
		return templateData{}, err
	}
	ds := f.Disclosures
	req := func(d compliance.Disclosure) string {
		if ds.Requires(d) {
			return strings.TrimSpace(ds.Text(d))
		}
		return ""
	}
	d := templateData{
		Greeting: b.Greeting, Creditor: b.Creditor, Signature: b.Signature, Total: b.Total,
		Invoices: b.Invoices, Count: len(b.Invoices), Promise: b.Promise,
		MiniMiranda: req(compliance.DisclosureMiniMiranda), DebtCollector: req(compliance.DisclosureDebtCollector),
		OptOut: req(compliance.DisclosureOptOut), CallerIdentity: req(compliance.DisclosureCallerIdentity),
		Callback: strings.TrimSpace(ds.CallbackNumber),
		Final:    f.Tone == ToneFinal,
		Letter:   f.Channel == compliance.ChannelLetter,
		// Remedies are stated only in the final message, and only when intended and lawful.
		Lawsuit:         f.Level == LevelFinal && f.intends(RemedyLawsuit) && !f.TimeBarred,
		Garnishment:     f.Level == LevelFinal && f.intends(RemedyGarnishment) && !f.TimeBarred,
		CreditReporting: f.Level == LevelFinal && f.intends(RemedyCreditReporting),
		Referral:        f.Level == LevelFinal && f.intends(RemedyReferral),
	}
	if isVoice(f.Channel) && d.CallerIdentity == "" && ds.CallerIdentity != "" {
		d.CallerIdentity = strings.TrimSpace(ds.CallerIdentity) // always identify the caller when we can
	}
	if len(b.Invoices) == 1 {
		d.One = &b.Invoices[0]
		d.InvoiceWord, d.IsAre, d.RemainRemains, d.ThisThese = "invoice", "is", "remains", "this invoice"
	} else {
		d.InvoiceWord, d.IsAre, d.RemainRemains, d.ThisThese = "invoices", "are", "remain", "these invoices"
	}
	// SMS pieces: the long form names the invoice when there is one.
	d.From = b.Creditor
	switch {
	case d.One != nil && !short:
		d.SMSAbout = fmt.Sprintf("invoice %s for %s, due %s, is past due", d.One.Number, d.One.Amount, d.One.Due)
	case d.One != nil:
		d.SMSAbout = fmt.Sprintf("invoice %s for %s is past due", d.One.Number, d.One.Amount)
	default:
		d.SMSAbout = fmt.Sprintf("your balance of %s on %d invoices is past due", b.Total, len(b.Invoices))
	}
	if b.Promise != nil && !short {
		d.SMSPromise = fmt.Sprintf(" You promised %s by %s.", b.Promise.Amount, b.Promise.Date)
	}
	if short {
		d.SMSAbout = fmt.Sprintf("%s is past due", b.Total)
	} else {
		d.SMSHello = "Hi " + b.Greeting + ", "
	}
	var disc []string
	for _, s := range []string{d.CallerIdentity, d.MiniMiranda, d.DebtCollector, d.OptOut} {
		if s != "" {
			disc = append(disc, ensureStop(s))
		}
	}
	d.SMSDisclosures = strings.Join(disc, " ")
	return d, nil
}

// ensureStop ends a sentence that has no final punctuation.
func ensureStop(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// Template renders the vetted template for the facts' channel and dunning
// level and checks it. It returns the subject (email and letters), the body
// and the template's id, or ErrNoSafeDraft when no variant passes.
func Template(f Facts) (subject, body, id string, err error) {
	if err := f.Validate(); err != nil {
		return "", "", "", err
	}
	variants := []bool{false}
	if f.Channel == compliance.ChannelSMS {
		variants = []bool{false, true}
	}
	var last []Violation
	for _, short := range variants {
		d, err := newTemplateData(f, short)
		if err != nil {
			return "", "", "", err
		}
		t := templates[f.Channel][f.Level]
		var b strings.Builder
		if err := t.Execute(&b, d); err != nil {
			return "", "", "", fmt.Errorf("render template %s: %w", t.Name(), err)
		}
		subject, body := tidy(f.Channel, b.String())
		id := t.Name()
		if short {
			id += "/short"
		}
		if last = CheckDraft(f, subject, body); len(last) == 0 {
			return subject, body, id, nil
		}
	}
	return "", "", "", fmt.Errorf("%w: template %s/%d: %v", ErrNoSafeDraft, f.Channel, f.Level, rulesOf(last))
}

// rulesOf lists the rules violated, without details (which may quote
// personal data), for error messages.
func rulesOf(vs []Violation) []Rule {
	var out []Rule
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	return out
}

// tidy applies the rendering rules: subject line split off, lines trimmed,
// blank-line runs collapsed, an SMS joined into one line.
func tidy(ch compliance.Channel, s string) (subject, body string) {
	s = strings.TrimSpace(s)
	if hasSubject(ch) {
		first, rest, _ := strings.Cut(s, "\n")
		subject = strings.TrimSpace(strings.TrimPrefix(first, subjectPrefix))
		s = rest
	}
	lines := strings.Split(s, "\n")
	var out []string
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	sep := "\n"
	if ch == compliance.ChannelSMS {
		sep = " "
		out = strings.Fields(strings.Join(out, " "))
	}
	return subject, strings.TrimSpace(strings.Join(out, sep))
}
