package strategy

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // business hours name IANA zones; Lambda images need not carry the database.

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/ranking"
)

// Schema identifies the config format; ParseConfig refuses any other.
const Schema = "recoup.strategy/1"

// MaxConfigBytes bounds a config file: a tenant's strategy is a few
// kilobytes, and a reader fed something huge should fail rather than fill
// memory.
const MaxConfigBytes = 1 << 20

// ErrConfig marks a strategy config the engine refuses. Every *ConfigError
// wraps it.
var ErrConfig = errors.New("strategy: invalid config")

// ConfigError is one problem in a config, with the JSON path of the field
// and, inside a sequence, the segment and step ids, so the person editing
// the file finds it at once.
type ConfigError struct {
	Path    string // e.g. "segments[1].steps[2].channel"; empty for the file as a whole
	Segment string
	Step    string
	Msg     string
}

// Error says where the problem is, then what it is.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("strategy config")
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.Segment != "" {
		fmt.Fprintf(&b, " (segment %q", e.Segment)
		if e.Step != "" {
			fmt.Fprintf(&b, ", step %q", e.Step)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every ConfigError an ErrConfig for errors.Is.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Action is what a step of a sequence does.
type Action string

// Actions, in the order a sequence usually escalates through them.
// ActionPromiseFollowUp is never a configured step: the engine plans it when
// a promise to pay replaces the sequence.
const (
	ActionFriendlyReminder Action = "friendly_reminder"
	ActionFirmReminder     Action = "firm_reminder"
	ActionCall             Action = "call"
	ActionFinalNotice      Action = "final_notice"
	ActionCreditHold       Action = "credit_hold" // an ERP hold on new orders, with or without a notice
	ActionHandOff          Action = "hand_off"    // to an agency or legal: the end of the sequence
	ActionPromiseFollowUp  Action = "promise_follow_up"
)

var stepActions = []Action{ActionFriendlyReminder, ActionFirmReminder, ActionCall, ActionFinalNotice, ActionCreditHold, ActionHandOff}

// messageless reports whether the action can go without a message to the
// customer (channel "none"): a hold is an ERP change and a hand-off a
// transfer; both usually come with a notice, which the tenant may choose.
func (a Action) messageless() bool { return a == ActionCreditHold || a == ActionHandOff }

// Tone is the voice a drafted message takes.
type Tone string

// Tones.
const (
	ToneFriendly   Tone = "friendly"
	ToneNeutral    Tone = "neutral"
	ToneFirm       Tone = "firm"
	ToneFormal     Tone = "formal"
	ToneEmpathetic Tone = "empathetic"
)

var tones = []Tone{ToneFriendly, ToneNeutral, ToneFirm, ToneFormal, ToneEmpathetic}

// Channel names in a config besides the consent channels: "preferred" takes
// the preference model's choice among the reachable channels, "none" sends
// nothing (credit hold or hand-off without a notice).
const (
	ChannelPreferred = "preferred"
	ChannelNone      = "none"
)

// configChannels are the concrete channels a step may name. Prerecorded
// voice is left out: collections here never plan one.
var configChannels = []consent.Channel{consent.Email, consent.SMS, consent.Voice, consent.VoiceAI, consent.Letter}

// defaultFallback is the order tried when the preferred channel is missing
// or unreachable: cheapest and least intrusive first.
var defaultFallback = []consent.Channel{consent.Email, consent.SMS, consent.Letter, consent.VoiceAI, consent.Voice}

// Config is a tenant's collection strategy. Load it with ParseConfig or
// ReadConfig (or call Validate on one built in code) before deciding with it,
// and do not change it afterwards: decisions record its hash.
type Config struct {
	// Schema must be the package's Schema.
	Schema string `json:"schema"`
	// Version is the tenant's label for this revision; decisions record it.
	Version       string         `json:"version"`
	BusinessHours BusinessHours  `json:"business_hours"`
	Approval      ApprovalPolicy `json:"approval"`
	Promise       PromisePolicy  `json:"promise"`
	// MaxContactsPerWeek is a soft plan limit: the engine plans the next
	// contact after the rolling seven days hold fewer than this many (0:
	// no limit). Compliance caps are the dispatch gate's, not this.
	MaxContactsPerWeek int `json:"max_contacts_per_week"`
	// FallbackChannels are tried in order when a step's channel (or the
	// preferred one) cannot reach the customer; empty means email, sms,
	// letter, voice_ai, voice.
	FallbackChannels []consent.Channel `json:"fallback_channels,omitempty"`
	Risk             RiskPolicy        `json:"risk"`
	// BalanceBands name ranges of the overdue balance for segment
	// matching, largest first: a customer is in the first band whose
	// threshold one of its currencies reaches. A band without thresholds
	// takes everyone left.
	BalanceBands []BalanceBand `json:"balance_bands,omitempty"`
	// Segments are tried in order; the first whose match fits the
	// customer wins, and the default segment takes the rest.
	Segments []Segment `json:"segments"`

	c *compiled
}

// BusinessHours are the tenant's working windows in its own zone. The plan
// aims every contact inside them; quiet hours by law are the gate's.
type BusinessHours struct {
	Zone    string   `json:"zone"` // IANA, e.g. "America/New_York"
	Windows []Window `json:"windows"`
}

// Window is one daily working window on some weekdays, "09:00" to "17:30"
// local time ("24:00" ends at midnight).
type Window struct {
	Days  []string `json:"days"` // mon, tue, wed, thu, fri, sat, sun
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// ApprovalPolicy says which cases a person approves before anything is
// sent. Open disputes, hardship and other compliance flags, and the first
// contact with a key account always need approval; the config adds to them.
type ApprovalPolicy struct {
	// BalanceAtLeast is, per ISO 4217 code, the overdue balance in minor
	// units from which a person approves every contact.
	BalanceAtLeast map[string]int64 `json:"balance_at_least,omitempty"`
	// Actions always need approval (typically credit_hold and hand_off).
	Actions []Action `json:"actions,omitempty"`
}

// PromisePolicy is how a promise to pay replaces the sequence.
type PromisePolicy struct {
	// FollowUpDays after the promised date the engine follows up if the
	// promise is still open (0: on the date itself).
	FollowUpDays int `json:"follow_up_days"`
	// BrokenAfterDays after the promised date an unpaid promise counts as
	// broken and the sequence escalates; at least FollowUpDays, so the
	// follow-up comes first.
	BrokenAfterDays int `json:"broken_after_days"`
	// Channel and Tone of the follow-up; "preferred" and "friendly" when
	// empty.
	Channel string `json:"channel,omitempty"`
	Tone    Tone   `json:"tone,omitempty"`
}

// RiskPolicy turns the ranking model's pay probability into named bands for
// segment matching.
type RiskPolicy struct {
	// HorizonDays picks the probability: pay within 7, 14 or 30 days.
	HorizonDays int `json:"horizon_days"`
	// Bands, highest probability first; the last must start at 0 so every
	// score has a band. A customer without a score (cold start) is in the
	// band "unknown".
	Bands []RiskBand `json:"bands"`
}

// RiskUnknown is the risk band of a customer the ranking has not scored.
const RiskUnknown = "unknown"

// RiskBand is a named range of pay probability from its minimum up to the
// previous band's.
type RiskBand struct {
	Name              string  `json:"name"`
	MinPayProbability float64 `json:"min_pay_probability"`
}

// BalanceBand is a named range of overdue balance from its thresholds up.
type BalanceBand struct {
	Name    string           `json:"name"`
	AtLeast map[string]int64 `json:"at_least,omitempty"` // ISO 4217 code → minor units
}

// Segment is a group of customers sharing one sequence.
type Segment struct {
	ID string `json:"id"`
	// Default marks the segment for customers no other matches; exactly
	// one segment is the default, and it has no match.
	Default bool  `json:"default,omitempty"`
	Match   Match `json:"match,omitzero"`
	// Tone is the steps' tone where a step names none.
	Tone  Tone   `json:"tone,omitempty"`
	Steps []Step `json:"steps"`
}

// Match selects customers; every criterion given must hold, and a list
// holds when the customer's value is in it.
type Match struct {
	Kind            []ledger.CustomerKind `json:"kind,omitempty"`
	KeyAccount      *bool                 `json:"key_account,omitempty"`
	Risk            []string              `json:"risk,omitempty"`             // risk band names, or "unknown"
	Balance         []string              `json:"balance,omitempty"`          // balance band names
	CustomerSegment []string              `json:"customer_segment,omitempty"` // ledger.Customer.Segment from the ERP
}

// Step is one action of a sequence. The sequence starts at the first step
// and moves to Next (the following step when empty) once the step has been
// done Attempts times, or to EscalateTo when those attempts got no response
// or a promise to pay was broken.
type Step struct {
	ID     string `json:"id"`
	Action Action `json:"action"`
	// MinDaysPastDue is the age of the oldest overdue invoice from which
	// the step may be taken in the normal course; escalations ignore it.
	MinDaysPastDue int `json:"min_days_past_due"`
	// Channel is preferred, email, sms, voice, voice_ai, letter, or none
	// (credit_hold and hand_off only). Empty means preferred, or none for
	// credit_hold and hand_off.
	Channel string `json:"channel,omitempty"`
	// Tone is the segment's when empty, else neutral.
	Tone Tone `json:"tone,omitempty"`
	// WaitDays are the calendar days after this step's last attempt before
	// anything else of the sequence happens.
	WaitDays int `json:"wait_days"`
	// Attempts is how many times the step is tried without a response
	// before moving on (default 1).
	Attempts   int    `json:"attempts,omitempty"`
	EscalateTo string `json:"escalate_to,omitempty"`
	Next       string `json:"next,omitempty"`
}

//go:embed testdata/default.json
var defaultJSON []byte

// DefaultConfig is the sample strategy in testdata/default.json, which the
// demo uses: business and consumer sequences by risk, a key-account segment
// and a default.
func DefaultConfig() *Config {
	c, err := ParseConfig(defaultJSON)
	if err != nil {
		panic(fmt.Sprintf("strategy: the embedded default config is invalid: %v", err))
	}
	return c
}

// ReadConfig reads and validates a config of at most MaxConfigBytes.
func ReadConfig(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read strategy config: %w", err)
	}
	if len(data) > MaxConfigBytes {
		return nil, &ConfigError{Msg: fmt.Sprintf("larger than %d bytes", MaxConfigBytes)}
	}
	return ParseConfig(data)
}

// ParseConfig decodes a config strictly (unknown or repeated fields, wrong
// types and trailing data are errors naming the field path) and validates
// it. Errors wrap ErrConfig; several problems come joined.
func ParseConfig(data []byte) (*Config, error) {
	if err := checkShape(data, configType); err != nil {
		return nil, err
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// checkShape has seen every field and type; what is left is a
		// number the Go type cannot hold.
		return nil, &ConfigError{Msg: err.Error()}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Hash is the SHA-256 (hex) of the config's canonical JSON: the normalized
// config as json.Marshal writes it. Two configs with the same hash decide
// alike. Empty until Validate succeeds.
func (c *Config) Hash() string {
	if c.c == nil {
		return ""
	}
	return c.c.hash
}

// Validate checks the config, fills the defaults in (so the canonical form
// and its hash do not depend on whether a default was spelled out) and
// prepares it for Decide. Errors wrap ErrConfig and name the field path,
// segment and step.
func (c *Config) Validate() error {
	c.c = nil
	v := &validator{}
	cc := &compiled{}
	v.top(c, cc)
	if len(v.errs) > 0 {
		return errors.Join(v.errs...)
	}
	canon, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("strategy: canonical config: %w", err)
	}
	sum := sha256.Sum256(canon)
	cc.hash = hex.EncodeToString(sum[:])
	c.c = cc
	return nil
}

// Bounds on counts of days and attempts: far beyond any real strategy, they
// keep date arithmetic away from overflow.
const (
	maxDays     = 3650
	maxAttempts = 100
)

// maxErrors bounds the problems one validation reports: past a few dozen the
// file is not a strategy at all.
const maxErrors = 50

type validator struct{ errs []error }

func (v *validator) fail(path, seg, step, format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, &ConfigError{Path: path, Segment: seg, Step: step, Msg: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) top(c *Config, cc *compiled) {
	if c.Schema != Schema {
		v.fail("schema", "", "", "got %q, want %q", c.Schema, Schema)
	}
	if strings.TrimSpace(c.Version) == "" {
		v.fail("version", "", "", "missing: name this revision of the strategy")
	} else if strings.ContainsFunc(c.Version, isControl) || len(c.Version) > 128 {
		v.fail("version", "", "", "at most 128 printable characters")
	}
	v.hours(c.BusinessHours, cc)
	v.approval(&c.Approval, cc)
	v.promise(&c.Promise)
	if c.MaxContactsPerWeek < 0 || c.MaxContactsPerWeek > maxAttempts {
		v.fail("max_contacts_per_week", "", "", "must be between 0 (no limit) and %d", maxAttempts)
	}
	if len(c.FallbackChannels) == 0 {
		c.FallbackChannels = slices.Clone(defaultFallback)
	}
	for i, ch := range c.FallbackChannels {
		path := fmt.Sprintf("fallback_channels[%d]", i)
		switch {
		case !slices.Contains(configChannels, ch):
			v.fail(path, "", "", "unknown channel %q; want %s", ch, channelList(false))
		case slices.Index(c.FallbackChannels, ch) < i:
			v.fail(path, "", "", "channel %q listed twice", ch)
		}
	}
	cc.fallback = c.FallbackChannels
	v.risk(c.Risk, cc)
	v.balanceBands(c.BalanceBands, cc)
	v.segments(c, cc)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func channelList(special bool) string {
	s := make([]string, 0, len(configChannels)+2)
	if special {
		s = append(s, ChannelPreferred)
	}
	for _, ch := range configChannels {
		s = append(s, string(ch))
	}
	if special {
		s = append(s, ChannelNone)
	}
	return strings.Join(s, ", ")
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func (v *validator) hours(h BusinessHours, cc *compiled) {
	switch {
	case h.Zone == "":
		v.fail("business_hours.zone", "", "", "missing: an IANA zone such as America/New_York")
	case h.Zone == "Local":
		v.fail("business_hours.zone", "", "", `"Local" depends on the machine; name the tenant's IANA zone`)
	default:
		loc, err := time.LoadLocation(h.Zone)
		if err != nil {
			v.fail("business_hours.zone", "", "", "unknown IANA zone %q", h.Zone)
		}
		cc.loc = loc
	}
	if len(h.Windows) == 0 {
		v.fail("business_hours.windows", "", "", "missing: at least one working window")
	}
	for i, w := range h.Windows {
		path := fmt.Sprintf("business_hours.windows[%d]", i)
		start, okS := clock(w.Start)
		end, okE := clock(w.End)
		if !okS {
			v.fail(path+".start", "", "", "got %q, want HH:MM from 00:00 to 24:00", w.Start)
		}
		if !okE {
			v.fail(path+".end", "", "", "got %q, want HH:MM from 00:00 to 24:00", w.End)
		}
		if okS && okE && start >= end {
			v.fail(path, "", "", "start %s is not before end %s", w.Start, w.End)
		}
		if len(w.Days) == 0 {
			v.fail(path+".days", "", "", "missing: the weekdays the window applies to")
		}
		for j, d := range w.Days {
			wd, ok := weekdays[d]
			switch {
			case !ok:
				v.fail(fmt.Sprintf("%s.days[%d]", path, j), "", "", "unknown day %q; want mon, tue, wed, thu, fri, sat or sun", d)
			case slices.Index(w.Days, d) < j:
				v.fail(fmt.Sprintf("%s.days[%d]", path, j), "", "", "day %q listed twice", d)
			case okS && okE && start < end:
				cc.week[wd] = append(cc.week[wd], span{start, end})
			}
		}
	}
	for d := range cc.week {
		cc.week[d] = mergeSpans(cc.week[d])
	}
}

// clock reads "HH:MM" as minutes after midnight; "24:00" is the end of day.
func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// currencyThresholds validates a map of ISO 4217 code to positive minor
// units and returns it keyed by the canonical (upper-case) code.
func (v *validator) currencyThresholds(path string, m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for _, code := range sortedKeys(m) {
		cur, err := money.ParseCurrency(code)
		if err != nil {
			v.fail(path+"."+code, "", "", "unknown ISO 4217 currency %q", code)
			continue
		}
		if m[code] <= 0 {
			v.fail(path+"."+code, "", "", "must be a positive amount in minor units, got %d", m[code])
		}
		if _, dup := out[cur.Code()]; dup {
			v.fail(path+"."+code, "", "", "currency %s given twice", cur.Code())
		}
		out[cur.Code()] = m[code]
	}
	return out
}

func (v *validator) approval(a *ApprovalPolicy, cc *compiled) {
	a.BalanceAtLeast = v.currencyThresholds("approval.balance_at_least", a.BalanceAtLeast)
	cc.approveBalance = a.BalanceAtLeast
	for i, act := range a.Actions {
		path := fmt.Sprintf("approval.actions[%d]", i)
		switch {
		case !slices.Contains(stepActions, act):
			v.fail(path, "", "", "unknown action %q; want %s", act, actionList())
		case slices.Index(a.Actions, act) < i:
			v.fail(path, "", "", "action %q listed twice", act)
		default:
			cc.approveActions = append(cc.approveActions, act)
		}
	}
}

func actionList() string {
	s := make([]string, len(stepActions))
	for i, a := range stepActions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func (v *validator) promise(p *PromisePolicy) {
	if p.FollowUpDays < 0 || p.FollowUpDays > maxDays {
		v.fail("promise.follow_up_days", "", "", "must be between 0 and %d", maxDays)
	}
	if p.BrokenAfterDays > maxDays {
		v.fail("promise.broken_after_days", "", "", "must be at most %d", maxDays)
	} else if p.BrokenAfterDays < p.FollowUpDays {
		v.fail("promise.broken_after_days", "", "", "%d is before the follow-up (%d days): the follow-up must come first", p.BrokenAfterDays, p.FollowUpDays)
	}
	if p.Channel == "" {
		p.Channel = ChannelPreferred
	}
	if p.Channel != ChannelPreferred && !slices.Contains(configChannels, consent.Channel(p.Channel)) {
		v.fail("promise.channel", "", "", "unknown channel %q; want %s", p.Channel, channelList(false)+" or preferred")
	}
	if p.Tone == "" {
		p.Tone = ToneFriendly
	}
	if !slices.Contains(tones, p.Tone) {
		v.fail("promise.tone", "", "", "unknown tone %q; want %s", p.Tone, toneList())
	}
}

func toneList() string {
	s := make([]string, len(tones))
	for i, t := range tones {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func (v *validator) risk(r RiskPolicy, cc *compiled) {
	h := slices.Index(ranking.Horizons[:], r.HorizonDays)
	if h < 0 {
		v.fail("risk.horizon_days", "", "", "got %d, want 7, 14 or 30", r.HorizonDays)
	}
	cc.horizon = max(h, 0)
	if len(r.Bands) == 0 {
		v.fail("risk.bands", "", "", "missing: at least one band starting at 0")
	}
	for i, b := range r.Bands {
		path := fmt.Sprintf("risk.bands[%d]", i)
		switch {
		case b.Name == "":
			v.fail(path+".name", "", "", "missing")
		case b.Name == RiskUnknown:
			v.fail(path+".name", "", "", "%q is reserved for customers without a score", RiskUnknown)
		case slices.IndexFunc(r.Bands, func(x RiskBand) bool { return x.Name == b.Name }) < i:
			v.fail(path+".name", "", "", "band %q named twice", b.Name)
		}
		switch {
		case !(b.MinPayProbability >= 0 && b.MinPayProbability <= 1):
			v.fail(path+".min_pay_probability", "", "", "must be between 0 and 1")
		case i > 0 && b.MinPayProbability >= r.Bands[i-1].MinPayProbability:
			v.fail(path+".min_pay_probability", "", "", "%g is not below the previous band's %g: list bands highest first", b.MinPayProbability, r.Bands[i-1].MinPayProbability)
		case i == len(r.Bands)-1 && b.MinPayProbability != 0:
			v.fail(path+".min_pay_probability", "", "", "the last band must start at 0 so every score has a band")
		}
	}
	cc.risk = r.Bands
}

func (v *validator) balanceBands(bands []BalanceBand, cc *compiled) {
	for i := range bands {
		b := &bands[i]
		path := fmt.Sprintf("balance_bands[%d]", i)
		switch {
		case b.Name == "":
			v.fail(path+".name", "", "", "missing")
		case slices.IndexFunc(bands, func(x BalanceBand) bool { return x.Name == b.Name }) < i:
			v.fail(path+".name", "", "", "band %q named twice", b.Name)
		}
		b.AtLeast = v.currencyThresholds(path+".at_least", b.AtLeast)
		if len(b.AtLeast) == 0 && i != len(bands)-1 {
			v.fail(path+".at_least", "", "", "a band without thresholds takes everyone: it must be the last")
		}
	}
	cc.balance = bands
}

func (v *validator) segments(c *Config, cc *compiled) {
	if len(c.Segments) == 0 {
		v.fail("segments", "", "", "missing: at least the default segment")
		return
	}
	defaults := 0
	for i := range c.Segments {
		s := &c.Segments[i]
		path := fmt.Sprintf("segments[%d]", i)
		switch {
		case s.ID == "":
			v.fail(path+".id", "", "", "missing")
		case ledger.ValidateID("segment", s.ID) != nil:
			v.fail(path+".id", s.ID, "", "not a valid id")
		case slices.IndexFunc(c.Segments, func(x Segment) bool { return x.ID == s.ID }) < i:
			v.fail(path+".id", s.ID, "", "segment id used twice")
		}
		if s.Default {
			defaults++
			if defaults > 1 {
				v.fail(path+".default", s.ID, "", "a second default segment; exactly one is the default")
			}
			if !matchEmpty(s.Match) {
				v.fail(path+".match", s.ID, "", "the default segment takes customers no other matches: it has no match")
			}
		}
		v.match(path+".match", s, c, cc)
		if s.Tone != "" && !slices.Contains(tones, s.Tone) {
			v.fail(path+".tone", s.ID, "", "unknown tone %q; want %s", s.Tone, toneList())
		}
		cs := v.steps(path, s)
		cs.def = s.Default
		cc.segments = append(cc.segments, cs)
	}
	if defaults == 0 {
		v.fail("segments", "", "", `no default segment: mark one "default": true for customers no other segment matches`)
	}
}

func matchEmpty(m Match) bool {
	return len(m.Kind) == 0 && m.KeyAccount == nil && len(m.Risk) == 0 && len(m.Balance) == 0 && len(m.CustomerSegment) == 0
}

func (v *validator) match(path string, s *Segment, c *Config, cc *compiled) {
	m := s.Match
	for i, k := range m.Kind {
		if k != ledger.Business && k != ledger.Consumer {
			v.fail(fmt.Sprintf("%s.kind[%d]", path, i), s.ID, "", "unknown customer kind %q; want business or consumer", k)
		}
	}
	for i, r := range m.Risk {
		if r != RiskUnknown && !slices.ContainsFunc(c.Risk.Bands, func(b RiskBand) bool { return b.Name == r }) {
			v.fail(fmt.Sprintf("%s.risk[%d]", path, i), s.ID, "", "unknown risk band %q; define it under risk.bands (or use %q)", r, RiskUnknown)
		}
	}
	for i, b := range m.Balance {
		if !slices.ContainsFunc(c.BalanceBands, func(x BalanceBand) bool { return x.Name == b }) {
			v.fail(fmt.Sprintf("%s.balance[%d]", path, i), s.ID, "", "unknown balance band %q; define it under balance_bands", b)
		}
	}
	for i, cs := range m.CustomerSegment {
		if cs == "" {
			v.fail(fmt.Sprintf("%s.customer_segment[%d]", path, i), s.ID, "", "empty")
		}
	}
}

func (v *validator) steps(path string, s *Segment) cseg {
	cs := cseg{id: s.ID, match: s.Match}
	if len(s.Steps) == 0 {
		v.fail(path+".steps", s.ID, "", "missing: a sequence needs at least one step")
		return cs
	}
	index := make(map[string]int, len(s.Steps))
	for i := range s.Steps {
		st := &s.Steps[i]
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		switch {
		case st.ID == "":
			v.fail(sp+".id", s.ID, "", "missing")
		case ledger.ValidateID("step", st.ID) != nil:
			v.fail(sp+".id", s.ID, st.ID, "not a valid id")
		default:
			if j, dup := index[st.ID]; dup {
				v.fail(sp+".id", s.ID, st.ID, "duplicate step id (also steps[%d])", j)
			} else {
				index[st.ID] = i
			}
		}
		if !slices.Contains(stepActions, st.Action) {
			v.fail(sp+".action", s.ID, st.ID, "unknown action %q; want %s", st.Action, actionList())
		}
		if st.MinDaysPastDue < 0 || st.MinDaysPastDue > maxDays {
			v.fail(sp+".min_days_past_due", s.ID, st.ID, "must be between 0 and %d", maxDays)
		}
		if st.WaitDays < 0 || st.WaitDays > maxDays {
			v.fail(sp+".wait_days", s.ID, st.ID, "must be between 0 and %d", maxDays)
		}
		switch {
		case st.Attempts == 0:
			st.Attempts = 1
		case st.Attempts < 0 || st.Attempts > maxAttempts:
			v.fail(sp+".attempts", s.ID, st.ID, "must be between 1 and %d", maxAttempts)
		}
		if st.Channel == "" {
			st.Channel = ChannelPreferred
			if st.Action.messageless() {
				st.Channel = ChannelNone
			}
		}
		switch ch := st.Channel; {
		case ch == ChannelNone && !st.Action.messageless():
			v.fail(sp+".channel", s.ID, st.ID, "%q is only for credit_hold and hand_off: a %s is a message", ChannelNone, st.Action)
		case ch != ChannelPreferred && ch != ChannelNone && !slices.Contains(configChannels, consent.Channel(ch)):
			v.fail(sp+".channel", s.ID, st.ID, "unknown channel %q; want %s", ch, channelList(true))
		case st.Action == ActionCall && ch != ChannelPreferred && !callChannel(consent.Channel(ch)):
			v.fail(sp+".channel", s.ID, st.ID, "a call goes by voice or voice_ai, not %s", ch)
		}
		if st.Tone == "" {
			st.Tone = s.Tone
			if st.Tone == "" {
				st.Tone = ToneNeutral
			}
		}
		if !slices.Contains(tones, st.Tone) {
			v.fail(sp+".tone", s.ID, st.ID, "unknown tone %q; want %s", st.Tone, toneList())
		}
		if st.Action == ActionHandOff && (st.Next != "" || st.EscalateTo != "") {
			v.fail(sp, s.ID, st.ID, "a hand_off ends the sequence: it has no next or escalate_to")
		}
	}
	cs.steps = make([]cstep, len(s.Steps))
	ok := true
	for i := range s.Steps {
		st := s.Steps[i]
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		c := cstep{Step: st, level: i + 1, next: -1, escalate: -1}
		ref := func(field, id string) int {
			j, found := index[id]
			switch {
			case !found:
				v.fail(sp+"."+field, s.ID, st.ID, "unknown step %q in this segment", id)
				ok = false
				return -1
			case j == i:
				v.fail(sp+"."+field, s.ID, st.ID, "refers to its own step: a loop")
				ok = false
				return -1
			}
			return j
		}
		switch {
		case st.Next != "":
			c.next = ref("next", st.Next)
		case st.Action != ActionHandOff && i+1 < len(s.Steps):
			c.next = i + 1
		}
		if st.EscalateTo != "" {
			c.escalate = ref("escalate_to", st.EscalateTo)
		}
		cs.steps[i] = c
	}
	cs.index = index
	if ok && len(index) == len(s.Steps) {
		v.loops(path, &cs)
	}
	return cs
}

// loops refuses a sequence whose next and escalate_to links form a cycle:
// a customer who never answers would go round it forever instead of reaching
// a terminal step (a hand-off, or a step with nothing after it). Without
// cycles every path ends at a terminal step, since every other step has a
// next. A step no path from the first step reaches is refused too: it is
// almost always a typo in a link.
func (v *validator) loops(path string, cs *cseg) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(cs.steps))
	var stack []int
	var found bool
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, j := range [2]int{cs.steps[i].next, cs.steps[i].escalate} {
			if j < 0 || found {
				continue
			}
			switch color[j] {
			case grey:
				k := slices.Index(stack, j)
				names := make([]string, 0, len(stack)-k+1)
				for _, x := range stack[k:] {
					names = append(names, cs.steps[x].ID)
				}
				names = append(names, cs.steps[j].ID)
				v.fail(fmt.Sprintf("%s.steps[%d]", path, j), cs.id, cs.steps[j].ID,
					"loop %s: the sequence never reaches a hand_off or its last step", strings.Join(names, " → "))
				found = true
			case white:
				visit(j)
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	visit(0)
	for i := range cs.steps {
		if found {
			return
		}
		if color[i] == white {
			v.fail(fmt.Sprintf("%s.steps[%d]", path, i), cs.id, cs.steps[i].ID, "never reached from the first step: check next and escalate_to")
			// Report its own cycles too, then go on.
			visit(i)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// compiled is what Validate prepares for Decide, so a decision does no
// parsing, no zone lookups and no map building.
type compiled struct {
	hash           string
	loc            *time.Location
	week           [7][]span // by time.Weekday
	approveBalance map[string]int64
	approveActions []Action
	fallback       []consent.Channel
	horizon        int // index into ranking.Horizons
	risk           []RiskBand
	balance        []BalanceBand
	segments       []cseg
}

type cseg struct {
	id    string
	def   bool
	match Match
	steps []cstep
	index map[string]int
}

type cstep struct {
	Step
	level          int // 1-based position in the sequence: the dunning level
	next, escalate int // indexes into the segment's steps, -1 for none
}
