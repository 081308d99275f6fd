package drafting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// PromptVersion names the prompt wording and facts-block format. Drafts
// record it, so a change of wording can be told apart in the results; bump
// it with any change to the system text or the block.
const PromptVersion = "drafting-2025-06-v1"

// Facts block delimiters in the user message.
const (
	factsOpen  = "<facts>"
	factsClose = "</facts>"
)

// FactsBlock is the machine-readable copy of the facts inside the prompt:
// every value already written the way the draft must write it, so the model
// copies rather than formats. The fake Bedrock server reads it to write
// plausible drafts.
type FactsBlock struct {
	Version     string            `json:"version"`
	Channel     string            `json:"channel"`
	Tone        string            `json:"tone"`
	Level       int               `json:"dunning_level"`
	Creditor    string            `json:"creditor"`
	Customer    string            `json:"customer"`
	Greeting    string            `json:"greeting"`
	Signature   string            `json:"signature"`
	Invoices    []BlockInvoice    `json:"invoices"`
	Total       string            `json:"total"`
	Promise     *BlockPromise     `json:"promise,omitempty"`
	Disclosures []BlockDisclosure `json:"disclosures"`
	Remedies    []string          `json:"intended_remedies"`
	TimeBarred  bool              `json:"time_barred,omitempty"`
	MaxChars    int               `json:"max_chars,omitempty"` // SMS only: the GSM-7 character budget
}

// BlockInvoice is one invoice as the draft must state it.
type BlockInvoice struct {
	Number string `json:"number"`
	Amount string `json:"open_amount"`
	Due    string `json:"due_date"`
}

// BlockPromise is the promise to pay as the draft must state it.
type BlockPromise struct {
	Amount string `json:"amount"`
	Date   string `json:"date"`
}

// BlockDisclosure is a required statement and its exact wording.
type BlockDisclosure struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// ErrFactsBlock is returned when a prompt carries no readable facts block.
var ErrFactsBlock = errors.New("no valid facts block")

// Block renders the facts as the prompt's facts block. It validates first.
func (f Facts) Block() (FactsBlock, error) {
	if err := f.Validate(); err != nil {
		return FactsBlock{}, err
	}
	total, _ := f.Total()
	b := FactsBlock{
		Version: PromptVersion, Channel: string(f.Channel), Tone: string(f.Tone), Level: int(f.Level),
		Creditor: f.Creditor, Customer: f.Customer, Greeting: f.Greeting(), Signature: f.Signature(),
		Total: FormatAmount(total), TimeBarred: f.TimeBarred, Remedies: []string{}, Disclosures: []BlockDisclosure{},
	}
	for _, inv := range f.Invoices {
		b.Invoices = append(b.Invoices, BlockInvoice{Number: inv.Number, Amount: FormatAmount(inv.Open), Due: FormatDate(inv.Due)})
	}
	if p := f.Promise; p != nil {
		b.Promise = &BlockPromise{Amount: FormatAmount(p.Amount), Date: FormatDate(p.Date)}
	}
	for _, d := range f.Disclosures.Required {
		b.Disclosures = append(b.Disclosures, BlockDisclosure{Kind: string(d), Text: f.Disclosures.Text(d)})
	}
	for _, r := range f.Remedies {
		if (r == RemedyLawsuit || r == RemedyGarnishment) && f.TimeBarred {
			continue // the model must not even hear of it
		}
		b.Remedies = append(b.Remedies, string(r))
	}
	if f.Channel == compliance.ChannelSMS {
		b.MaxChars = smsBudget(f)
	}
	return b, nil
}

// smsBudget is the GSM-7 characters a draft may use: the segment budget
// minus the characters kept for the payment link, less a margin for the
// extension characters a model may use anyway.
func smsBudget(f Facts) int {
	n := f.maxSegments() * gsmPart
	if f.maxSegments() == 1 {
		n = gsmSingle
	}
	return max(n-f.LinkReserve-10, 0)
}

// ParseFactsBlock reads the facts block out of a prompt's text.
func ParseFactsBlock(s string) (FactsBlock, error) {
	_, rest, ok := strings.Cut(s, factsOpen)
	if !ok {
		return FactsBlock{}, fmt.Errorf("%w: no %s", ErrFactsBlock, factsOpen)
	}
	body, _, ok := strings.Cut(rest, factsClose)
	if !ok {
		return FactsBlock{}, fmt.Errorf("%w: no %s", ErrFactsBlock, factsClose)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var b FactsBlock
	if err := dec.Decode(&b); err != nil {
		return FactsBlock{}, fmt.Errorf("%w: %w", ErrFactsBlock, err)
	}
	if dec.More() {
		return FactsBlock{}, fmt.Errorf("%w: trailing data", ErrFactsBlock)
	}
	if b.Version != PromptVersion {
		return FactsBlock{}, fmt.Errorf("%w: version %q, want %q", ErrFactsBlock, b.Version, PromptVersion)
	}
	return b, nil
}

// Subject-line prefix the model writes for email and letters.
const subjectPrefix = "Subject:"

var channelInstructions = map[compliance.Channel]string{
	compliance.ChannelEmail: "Write an email. The first line is \"Subject: \" and a short subject; then a blank line; then the body, " +
		"greeting the customer by the \"greeting\" name and signed with the \"signature\" name.",
	compliance.ChannelLetter: "Write a letter. The first line is \"Subject: \" and a short subject (it is printed as the letter's reference line); " +
		"then a blank line; then the body, greeting the customer by the \"greeting\" name and signed with the \"signature\" name.",
	compliance.ChannelSMS: "Write a text message of at most %d characters, using only plain GSM characters: " +
		"no emoji, no curly quotes, no dashes other than \"-\". Keep it short; one invoice detail at most.",
	compliance.ChannelCall: "Write a short script a collector reads aloud on a phone call. Start with the caller_identity disclosure, " +
		"then ask for the person named in \"greeting\", and only then speak about the balance. Plain sentences, no stage directions.",
	compliance.ChannelAIVoice: "Write what an automated voice says on a phone call. Start with the caller_identity disclosure, " +
		"then ask for the person named in \"greeting\", and only then speak about the balance. Plain sentences, no stage directions.",
}

var toneInstructions = map[Tone]string{
	ToneFriendly: "Tone: friendly and helpful; assume the customer simply forgot.",
	ToneFirm:     "Tone: firm and direct, still polite; ask for payment or a call.",
	ToneFinal:    "Tone: serious; you may call this a final notice. State only intended remedies, exactly as listed.",
}

var levelInstructions = map[Level]string{
	LevelReminder:   "This is the first reminder after the due date.",
	LevelFollowUp:   "This is a second reminder; earlier messages went unanswered.",
	LevelEscalation: "The balance is well overdue; ask the customer to pay or call us now.",
	LevelFinal:      "This is the last message before the intended remedies, if any are listed.",
}

const systemRules = `You write one collection message from a business (the creditor) to its customer about unpaid invoices. Reply with the message text only.

Rules:
1. Use only the facts in the <facts> block. Copy every amount, date, invoice number and name exactly as written there. State no other amount, date, deadline, invoice number, phone number, fee, interest, discount or settlement.
2. Include the text of every entry in "disclosures" word for word.
3. Never write a link, URL, web address, domain or email address. The system adds the payment link after your text.
4. Never mention arrest, jail, police, crime, lawsuits, court, garnishment, seizure, credit reporting or collection agencies, unless that remedy is in "intended_remedies" (then state it plainly, without exaggeration). Never mention employers, family or any third party. Never claim or imply to be an attorney, a law firm or the government. No insults, profanity or shaming. No false urgency ("act now", "last chance", "within 24 hours"). No marketing. Never offer to settle, discount or waive anything.
5. Greet only the "greeting" name and sign only as the "signature" name. Do not invent people, roles or phone numbers.
6. Plain text only: no markdown, no brackets, no placeholders.`

// BuildPrompt builds the first request for a draft.
func BuildPrompt(f Facts, maxTokens int, temperature float32) (Prompt, error) {
	b, err := f.Block()
	if err != nil {
		return Prompt{}, err
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return Prompt{}, fmt.Errorf("encode facts block: %w", err)
	}
	ch := channelInstructions[f.Channel]
	if f.Channel == compliance.ChannelSMS {
		ch = fmt.Sprintf(ch, b.MaxChars)
	}
	sys := strings.Join([]string{systemRules, ch, toneInstructions[f.Tone], levelInstructions[f.Level]}, "\n\n")
	user := fmt.Sprintf("Write the %s message now.\n\n%s\n%s%s", f.Channel, factsOpen, js.String(), factsClose)
	return Prompt{System: sys, Messages: []Message{{Role: RoleUser, Text: user}}, MaxTokens: maxTokens, Temperature: temperature}, nil
}

// RetryPrompt continues a prompt after a rejected draft: the draft as the
// model's turn, then the failures named one per line.
func RetryPrompt(p Prompt, rejected string, vs []Violation) Prompt {
	var b strings.Builder
	b.WriteString("Automated compliance checks rejected that draft:\n")
	for _, v := range vs {
		fmt.Fprintf(&b, "- %s: %s\n", v.Rule, v.Detail)
	}
	b.WriteString("\nWrite the whole message again, fixing every problem listed and following every rule. Reply with the message text only.")
	if strings.TrimSpace(rejected) == "" {
		rejected = "(empty)" // Converse refuses empty content blocks
	}
	q := p
	q.Messages = append(append([]Message(nil), p.Messages...),
		Message{Role: RoleAssistant, Text: rejected},
		Message{Role: RoleUser, Text: b.String()})
	return q
}

// splitReply separates the model's text into subject and body: email and
// letters open with "Subject: ...". Whether the result is acceptable is
// CheckDraft's call (a missing or unexpected subject is a format violation).
func splitReply(ch compliance.Channel, s string) (subject, body string) {
	s = strings.TrimSpace(s)
	// Models sometimes wrap the answer in a code fence.
	if strings.HasPrefix(s, "```") && strings.HasSuffix(s, "```") && len(s) >= 6 {
		s = strings.TrimSpace(s[3 : len(s)-3])
		if nl := strings.IndexByte(s, '\n'); nl >= 0 && !strings.Contains(s[:nl], " ") {
			s = strings.TrimSpace(s[nl+1:]) // a language tag such as ```text
		}
	}
	first, rest, _ := strings.Cut(s, "\n")
	if len(first) >= len(subjectPrefix) && strings.EqualFold(first[:len(subjectPrefix)], subjectPrefix) {
		subject = strings.TrimSpace(first[len(subjectPrefix):])
		if subject == "" && !hasSubject(ch) {
			subject = subjectPrefix // so CheckDraft flags the stray subject line
		}
		return subject, strings.TrimSpace(rest)
	}
	return "", s
}

// normalizeSMS replaces typographic punctuation with its GSM-7 equivalent:
// one curly quote would switch the whole message to UCS-2 and halve what
// fits. It changes no words, so it cannot make a checked draft unsafe.
func normalizeSMS(s string) string { return smsReplacer.Replace(s) }

var smsReplacer = strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201c", "\"", "\u201d", "\"",
	"\u2013", "-", "\u2014", "-", "\u2026", "...", "\u00a0", " ")
