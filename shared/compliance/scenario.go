package compliance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// Scenario is one proposed attempt in the scenario format of
// shared/compliance/scenario.md: what compliance officers write to test a
// policy. Case converts it to the engine's input.
type Scenario struct {
	ID          string           `json:"id"`
	Description string           `json:"description,omitempty"`
	Collector   string           `json:"collector"`
	Consumer    ScenarioConsumer `json:"consumer"`
	Debts       []ScenarioDebt   `json:"debts"`
	History     []ScenarioEvent  `json:"history"`
	Attempt     ScenarioAttempt  `json:"attempt"`
	Expect      *Expectation     `json:"expect,omitempty"`
}

// ScenarioConsumer is the person in a scenario.
type ScenarioConsumer struct {
	ID      string           `json:"id"`
	Address *ScenarioAddress `json:"address,omitempty"`
	Phones  []ScenarioPhone  `json:"phones"`
	Emails  []ScenarioEmail  `json:"emails"`
	Flags   []string         `json:"flags"`
}

// ScenarioAddress is the postal state and ZIP.
type ScenarioAddress struct {
	State string `json:"state"`
	ZIP   string `json:"zip"`
}

// ScenarioPhone is one number; line is mobile, landline or work (omitted
// when unknown).
type ScenarioPhone struct {
	Number          string `json:"number"`
	Line            string `json:"line,omitempty"`
	ProvidedForDebt bool   `json:"provided_for_debt"`
}

// ScenarioEmail is one email address.
type ScenarioEmail struct {
	Address          string `json:"address"`
	EmployerProvided bool   `json:"employer_provided"`
}

// ScenarioDebt is one debt.
type ScenarioDebt struct {
	ID         string `json:"id"`
	TimeBarred bool   `json:"time_barred"`
}

// ScenarioEvent is one history event; which fields apply depends on Kind.
type ScenarioEvent struct {
	Kind        string   `json:"kind"`
	At          string   `json:"at"`
	Channel     string   `json:"channel,omitempty"`
	Debt        string   `json:"debt,omitempty"`
	Debts       []string `json:"debts,omitempty"`
	To          string   `json:"to,omitempty"`
	From        string   `json:"from,omitempty"`
	Outcome     string   `json:"outcome,omitempty"`
	WithConsent bool     `json:"with_consent,omitempty"`
	InitiatedBy string   `json:"initiated_by,omitempty"`
	Source      string   `json:"source,omitempty"`
	Via         string   `json:"via,omitempty"`
	Text        string   `json:"text,omitempty"`
	Written     bool     `json:"written,omitempty"`
}

// ScenarioAttempt is the proposed contact.
type ScenarioAttempt struct {
	At             string   `json:"at"`
	Channel        string   `json:"channel"`
	Debt           string   `json:"debt"`
	To             string   `json:"to,omitempty"`
	Purpose        string   `json:"purpose"`
	Disclosures    []string `json:"disclosures"`
	LimitedContent bool     `json:"limited_content"`
	Marketing      bool     `json:"marketing"`
	ThreatensSuit  bool     `json:"threatens_suit"`
}

// Expectation is what the scenario's author expects.
type Expectation struct {
	Decision          string   `json:"decision"`
	Rules             []string `json:"rules"`
	EarliestAllowedAt string   `json:"earliest_allowed_at,omitempty"`
}

// ErrScenario marks every scenario reading and conversion error.
var ErrScenario = errors.New("invalid scenario")

// eventFields lists, per kind, the fields an event may carry besides kind
// and at; a field of another kind is an error, not silently ignored.
var eventFields = map[EventKind][]string{
	EventAttempt:              {"channel", "debt", "to", "outcome", "with_consent"},
	EventConversation:         {"debts", "initiated_by"},
	EventConsentGiven:         {"channel", "to", "source", "debt"},
	EventConsentRevoked:       {"via", "from", "text"},
	EventMediumRefused:        {"channel", "to"},
	EventInconvenientTime:     {"from", "to"},
	EventValidationNoticeSent: {"debt"},
	EventDispute:              {"debt", "written"},
	EventVerificationSent:     {"debt"},
	EventCeaseRequest:         {"written"},
	EventLetterSent:           {"debt"},
	EventEmailUsedByConsumer:  {"to"},
}

// ReadScenarios reads a JSON array of scenarios strictly: unknown fields at
// any level, fields that do not belong to an event's kind, unknown enum
// values, malformed numbers and times, and duplicate ids are errors naming
// the scenario and the field.
func ReadScenarios(r io.Reader) ([]Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrScenario, err)
	}
	var raws []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raws); err != nil || raws == nil {
		if err == nil {
			err = errors.New("got null")
		}
		return nil, fmt.Errorf("%w: want a JSON array of scenarios: %v", ErrScenario, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the scenario array", ErrScenario)
	}
	out := make([]Scenario, 0, len(raws))
	seen := map[string]int{}
	for i, raw := range raws {
		name := scenarioName(i, raw)
		if err := checkKeys(json.NewDecoder(bytes.NewReader(raw)), reflect.TypeFor[Scenario](), ""); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
		}
		var s Scenario
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
		}
		if err := checkEventFields(raw); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
		}
		if j, dup := seen[s.ID]; dup && s.ID != "" {
			return nil, fmt.Errorf("%w: %s: id repeats scenario %d", ErrScenario, name, j+1)
		}
		seen[s.ID] = i
		if _, err := s.Case(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// scenarioName names scenario i for errors: its id when one can be read.
func scenarioName(i int, raw json.RawMessage) string {
	var head struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &head) == nil {
		if id, ok := head.ID.(string); ok && id != "" {
			return fmt.Sprintf("scenario %q", id)
		}
	}
	return fmt.Sprintf("scenario %d", i+1)
}

func checkEventFields(raw json.RawMessage) error {
	var s struct {
		History []map[string]json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	for i, ev := range s.History {
		var kind string
		if k, ok := ev["kind"]; ok {
			_ = json.Unmarshal(k, &kind)
		}
		allowed, ok := eventFields[EventKind(kind)]
		if !ok {
			continue // Case reports the unknown kind
		}
		for field := range ev {
			if field != "kind" && field != "at" && !slices.Contains(allowed, field) {
				return fmt.Errorf("history[%d].%s: field does not apply to kind %q", i, field, kind)
			}
		}
	}
	return nil
}

// Case converts the scenario to the engine's input, validating it: enum
// values, RFC 3339 times, E.164 numbers (checked with libphonenumber),
// references to debts, and each event kind's required fields.
func (s Scenario) Case() (Case, error) {
	v := &validator{name: fmt.Sprintf("scenario %q", s.ID)}
	if s.ID == "" {
		v.fail("id", "is missing")
	}
	c := Case{Collector: ledger.CollectorType(s.Collector)}
	switch c.Collector {
	case ledger.FirstParty, ledger.ThirdParty:
	default:
		v.fail("collector", "is %q, want first_party or third_party", s.Collector)
	}
	c.Consumer.ID = s.Consumer.ID
	if a := s.Consumer.Address; a != nil {
		if _, ok := stateZones[a.State]; !ok {
			v.fail("consumer.address.state", "unknown state %q", a.State)
		}
		if !validZIP(a.ZIP) {
			v.fail("consumer.address.zip", "%q is not a ZIP or ZIP+4", a.ZIP)
		}
		c.Consumer.State, c.Consumer.ZIP = a.State, a.ZIP
	}
	for i, p := range s.Consumer.Phones {
		field := fmt.Sprintf("consumer.phones[%d]", i)
		n := v.phone(field+".number", p.Number)
		line := ledger.LineType(p.Line)
		switch line {
		case ledger.LineMobile, ledger.LineLandline, ledger.LineWork:
		case "":
			line = ledger.LineUnknown
		default:
			v.fail(field+".line", "unknown line %q, want mobile, landline or work", p.Line)
		}
		for _, q := range c.Consumer.Phones {
			if n != "" && q.Number == n {
				v.fail(field+".number", "%s is listed twice", n)
			}
		}
		c.Consumer.Phones = append(c.Consumer.Phones, Phone{Number: n, Line: line, ProvidedForDebt: p.ProvidedForDebt})
	}
	for i, m := range s.Consumer.Emails {
		addr := v.email(fmt.Sprintf("consumer.emails[%d].address", i), m.Address)
		c.Consumer.Emails = append(c.Consumer.Emails, EmailAddress{Address: addr, EmployerProvided: m.EmployerProvided})
	}
	for i, f := range s.Consumer.Flags {
		switch Flag(f) {
		case FlagBankruptcy, FlagDeceased, FlagActiveDuty, FlagHardship, FlagAttorney:
			c.Consumer.Flags = append(c.Consumer.Flags, Flag(f))
		default:
			v.fail(fmt.Sprintf("consumer.flags[%d]", i), "unknown flag %q, want bankruptcy, deceased, active_duty, hardship or attorney", f)
		}
	}
	debts := map[string]bool{}
	for i, d := range s.Debts {
		field := fmt.Sprintf("debts[%d].id", i)
		switch {
		case d.ID == "":
			v.fail(field, "is missing")
		case debts[d.ID]:
			v.fail(field, "%q is listed twice", d.ID)
		}
		debts[d.ID] = true
		c.Debts = append(c.Debts, Debt(d))
	}
	v.debts = debts
	for i, e := range s.History {
		c.History = append(c.History, v.event(fmt.Sprintf("history[%d]", i), e))
	}
	c.Attempt = v.attempt(s.Attempt)
	if s.Expect != nil {
		v.expect(*s.Expect)
	}
	if v.err != nil {
		return Case{}, v.err
	}
	return c, nil
}

// validator collects the first error, naming the scenario and the field.
type validator struct {
	name  string
	debts map[string]bool
	err   error
}

func (v *validator) fail(field, format string, a ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("%w: %s: %s: %s", ErrScenario, v.name, field, fmt.Sprintf(format, a...))
	}
}

func (v *validator) time(field, s string) time.Time {
	if s == "" {
		v.fail(field, "is missing")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.fail(field, "%q is not an RFC 3339 time", s)
		return time.Time{}
	}
	return t.UTC()
}

// phone checks an E.164 number with libphonenumber and returns its
// canonical form.
func (v *validator) phone(field, s string) string {
	n, err := canonicalPhone(s)
	if err != nil {
		v.fail(field, "%v", err)
	}
	return n
}

func canonicalPhone(s string) (string, error) {
	if s == "" {
		return "", errors.New("phone number is missing")
	}
	if !strings.HasPrefix(s, "+") {
		return "", fmt.Errorf("%q is not an E.164 number (+ and country code)", s)
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number: %v", s, err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func (v *validator) email(field, s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(s, " \t\r\n") || !strings.Contains(domain, ".") {
		v.fail(field, "%q is not an email address", s)
	}
	return strings.ToLower(s)
}

// contact reads a phone number or an email address, by its shape.
func (v *validator) contact(field, s string) string {
	if strings.Contains(s, "@") {
		return v.email(field, s)
	}
	return v.phone(field, s)
}

func (v *validator) debt(field, id string, required bool) {
	switch {
	case id == "" && required:
		v.fail(field, "is missing")
	case id != "" && !v.debts[id]:
		v.fail(field, "unknown debt %q", id)
	}
}

func (v *validator) channel(field, s string) Channel {
	if channelBit(Channel(s)) == 0 {
		v.fail(field, "unknown channel %q, want one of %s", s, joinChannels())
	}
	return Channel(s)
}

func joinChannels() string {
	s := make([]string, len(Channels))
	for i, c := range Channels {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// target reads the to of a contact on channel ch: a number for phone
// channels, an address for email.
func (v *validator) target(field string, ch Channel, s string) string {
	switch {
	case phoneChannels&channelBit(ch) != 0:
		return v.phone(field, s)
	case ch == ChannelEmail:
		return v.email(field, s)
	case s != "":
		v.fail(field, "must be omitted for %s", ch)
	}
	return ""
}

func (v *validator) event(field string, e ScenarioEvent) Event {
	ev := Event{Kind: EventKind(e.Kind), At: v.time(field+".at", e.At), Debt: e.Debt, Debts: e.Debts,
		WithConsent: e.WithConsent, Written: e.Written, Text: e.Text}
	switch ev.Kind {
	case EventAttempt:
		ev.Channel = v.channel(field+".channel", e.Channel)
		v.debt(field+".debt", e.Debt, true)
		ev.To = v.target(field+".to", ev.Channel, e.To)
		ev.Outcome = Outcome(e.Outcome)
		if outcomeBit(ev.Outcome) == 0 {
			v.fail(field+".outcome", "unknown outcome %q, want connected, conversation, voicemail, no_answer, busy, not_in_service, delivered or bounced", e.Outcome)
		}
	case EventConversation:
		if len(e.Debts) == 0 {
			v.fail(field+".debts", "is missing")
		}
		for i, d := range e.Debts {
			v.debt(fmt.Sprintf("%s.debts[%d]", field, i), d, true)
		}
		switch e.InitiatedBy {
		case "", "consumer", "collector":
			ev.InitiatedBy = e.InitiatedBy
		default:
			v.fail(field+".initiated_by", "is %q, want consumer or collector", e.InitiatedBy)
		}
	case EventConsentGiven:
		ev.Channel = v.channel(field+".channel", e.Channel)
		if e.To != "" {
			ev.To = v.target(field+".to", ev.Channel, e.To)
		}
		ev.Source = ConsentSource(e.Source)
		switch ev.Source {
		case ConsentDirect, ConsentApplication, ConsentWritten:
		default:
			v.fail(field+".source", "unknown source %q, want direct, application or written", e.Source)
		}
		v.debt(field+".debt", e.Debt, false)
	case EventConsentRevoked:
		switch e.Via {
		case "sms_reply", "email_reply", "call", "letter", "web":
			ev.Via = e.Via
		default:
			v.fail(field+".via", "unknown via %q, want sms_reply, email_reply, call, letter or web", e.Via)
		}
		if e.From != "" {
			ev.From = v.contact(field+".from", e.From)
		}
	case EventMediumRefused:
		if e.Channel == "" && e.To == "" {
			v.fail(field, "needs channel or to")
		}
		if e.Channel != "" {
			ev.Channel = v.channel(field+".channel", e.Channel)
		}
		if e.To != "" {
			ev.To = v.contact(field+".to", e.To)
		}
	case EventInconvenientTime:
		var ok bool
		if ev.Start, ok = parseClock(e.From); !ok {
			v.fail(field+".from", "%q is not a HH:MM local time", e.From)
		}
		if ev.End, ok = parseClock(e.To); !ok {
			v.fail(field+".to", "%q is not a HH:MM local time", e.To)
		}
	case EventValidationNoticeSent, EventVerificationSent, EventLetterSent, EventDispute:
		v.debt(field+".debt", e.Debt, true)
	case EventCeaseRequest:
	case EventEmailUsedByConsumer:
		ev.To = v.email(field+".to", e.To)
	default:
		v.fail(field+".kind", "unknown kind %q", e.Kind)
	}
	return ev
}

func (v *validator) attempt(a ScenarioAttempt) Attempt {
	at := Attempt{At: v.time("attempt.at", a.At), Channel: v.channel("attempt.channel", a.Channel), Debt: a.Debt,
		LimitedContent: a.LimitedContent, Marketing: a.Marketing, ThreatensSuit: a.ThreatensSuit}
	v.debt("attempt.debt", a.Debt, true)
	if phoneChannels&channelBit(at.Channel) != 0 || at.Channel == ChannelEmail {
		if a.To == "" {
			v.fail("attempt.to", "is missing for %s", at.Channel)
		} else {
			at.To = v.target("attempt.to", at.Channel, a.To)
		}
	} else {
		v.target("attempt.to", at.Channel, a.To)
	}
	at.Purpose = Purpose(a.Purpose)
	switch at.Purpose {
	case PurposeCollection, PurposeOptOutConfirmation, PurposeCeaseNotice, PurposeValidationNotice:
	default:
		v.fail("attempt.purpose", "unknown purpose %q, want collection, opt_out_confirmation, cease_notice or validation_notice", a.Purpose)
	}
	for i, d := range a.Disclosures {
		if disclosureBit(Disclosure(d)) == 0 {
			v.fail(fmt.Sprintf("attempt.disclosures[%d]", i), "unknown disclosure %q, want mini_miranda, debt_collector, opt_out, caller_identity or callback_number", d)
		}
		at.Disclosures = append(at.Disclosures, Disclosure(d))
	}
	if a.LimitedContent && at.Channel != ChannelVoicemail {
		v.fail("attempt.limited_content", "applies to voicemail only")
	}
	return at
}

func (v *validator) expect(e Expectation) {
	switch Decision(e.Decision) {
	case Allow, Block, RouteToHuman:
	default:
		v.fail("expect.decision", "unknown decision %q, want allow, block or route_to_human", e.Decision)
	}
	for i, id := range e.Rules {
		if implByID(id) == nil {
			v.fail(fmt.Sprintf("expect.rules[%d]", i), "unknown rule id %q", id)
		}
	}
	if e.EarliestAllowedAt != "" {
		v.time("expect.earliest_allowed_at", e.EarliestAllowedAt)
	}
}

func validZIP(z string) bool {
	digits := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	switch len(z) {
	case 0:
		return true
	case 5:
		return digits(z)
	case 10:
		return z[5] == '-' && digits(z[:5]) && digits(z[6:])
	}
	return false
}

// ScenarioResult is one line of `recoup compliance check` output.
type ScenarioResult struct {
	ID                string     `json:"id"`
	Decision          Decision   `json:"decision"`
	Rules             []string   `json:"rules"`
	EarliestAllowedAt *time.Time `json:"earliest_allowed_at,omitempty"`
	Reason            string     `json:"reason"`
}

// NewScenarioResult shapes a result for output: rules never null, the
// earliest time in UTC to the second.
func NewScenarioResult(id string, r Result) ScenarioResult {
	out := ScenarioResult{ID: id, Decision: r.Decision, Rules: r.Rules, Reason: r.Reason}
	if out.Rules == nil {
		out.Rules = []string{}
	}
	if r.EarliestAllowedAt != nil {
		t := r.EarliestAllowedAt.UTC().Truncate(time.Second)
		out.EarliestAllowedAt = &t
	}
	return out
}

// Verify compares a result with the scenario's expectation: the same
// decision, every expected rule among the rules that fired, and the same
// earliest allowed time (to the second) when one is expected.
func Verify(s Scenario, r Result) error {
	if s.Expect == nil {
		return fmt.Errorf("scenario %q: no expect to verify against", s.ID)
	}
	var problems []string
	if string(r.Decision) != s.Expect.Decision {
		problems = append(problems, fmt.Sprintf("decision %s, want %s", r.Decision, s.Expect.Decision))
	}
	for _, id := range s.Expect.Rules {
		if !slices.Contains(r.Rules, id) {
			problems = append(problems, fmt.Sprintf("rule %s did not fire (fired: %s)", id, strings.Join(r.Rules, ", ")))
		}
	}
	if s.Expect.EarliestAllowedAt != "" {
		want, err := time.Parse(time.RFC3339, s.Expect.EarliestAllowedAt)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("expect.earliest_allowed_at %q is not an RFC 3339 time", s.Expect.EarliestAllowedAt))
		case r.EarliestAllowedAt == nil:
			problems = append(problems, "no earliest_allowed_at, want "+want.UTC().Format(time.RFC3339))
		case !r.EarliestAllowedAt.Truncate(time.Second).Equal(want.Truncate(time.Second)):
			problems = append(problems, fmt.Sprintf("earliest_allowed_at %s, want %s",
				r.EarliestAllowedAt.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("scenario %q: %s", s.ID, strings.Join(problems, "; "))
	}
	return nil
}
