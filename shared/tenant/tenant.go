// Package tenant holds a finance team's settings that every step of the
// collection cycle reads: the creditor's name as its customers know it,
// whether the rules bind it as a creditor or a collector, the exact words
// of its disclosures, the remedies it intends, its strategy config and the
// segments it runs in pilot (shadow) mode.
//
// A profile is strict JSON: an unknown or misspelt field is refused, not
// ignored, because a disclosure text that silently went missing would make
// every draft fail its guardrails (or, worse, a typo in "shadow_segments"
// would send for real).
package tenant

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/priority"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// Schema identifies the profile format; Parse refuses any other.
const Schema = "recoup.tenant/1"

// MaxProfileBytes bounds a profile (strategy config included).
const MaxProfileBytes = 1 << 20

// ErrProfile marks a profile Parse refuses.
var ErrProfile = errors.New("tenant: invalid profile")

// Profile is one tenant's settings.
type Profile struct {
	Schema string          `json:"schema"`
	Tenant ledger.TenantID `json:"tenant"`
	// Name is the creditor's name as its customers know it; drafts name it.
	Name string `json:"name"`
	// Sender signs messages ("Accounts Receivable, Acme Supply"); Name
	// when empty.
	Sender    string               `json:"sender,omitempty"`
	Collector ledger.CollectorType `json:"collector"`
	// Disclosures are the tenant's own words for each statement a message
	// must carry; drafts must contain them verbatim.
	Disclosures Disclosures `json:"disclosures"`
	// Remedies the tenant intends and may lawfully take; a draft may
	// mention no other (15 USC 1692e(5)).
	Remedies []drafting.Remedy `json:"remedies,omitempty"`
	// ReportingCurrency values every balance on the worklist (USD when
	// empty); Rates convert the tenant's other currencies into it ("CAD":
	// "0.71": one CAD buys 0.71 of it). A customer owing in a currency
	// without a rate cannot be ranked, so the daily run would fail.
	ReportingCurrency string            `json:"reporting_currency,omitempty"`
	Rates             map[string]string `json:"rates,omitempty"`
	// MaxSMSSegments caps a text (drafting's default when 0).
	MaxSMSSegments int `json:"max_sms_segments,omitempty"`
	// Strategy is the tenant's strategy config (strategy.ParseConfig);
	// the engine's default when absent.
	Strategy json.RawMessage `json:"strategy,omitempty"`
	// ShadowSegments run the whole plan without sending: their cycles
	// record what they would have done beside what the team did.
	ShadowSegments []string `json:"shadow_segments,omitempty"`

	strategy *strategy.Config
}

// Disclosures are the texts of the statements messages carry.
type Disclosures struct {
	MiniMiranda    string `json:"mini_miranda"`
	DebtCollector  string `json:"debt_collector"`
	OptOut         string `json:"opt_out"`
	CallerIdentity string `json:"caller_identity"`
	CallbackNumber string `json:"callback_number"`
}

var remedies = []drafting.Remedy{drafting.RemedyLawsuit, drafting.RemedyGarnishment, drafting.RemedyCreditReporting, drafting.RemedyReferral}

// Parse decodes and checks a profile. Errors name the field.
func Parse(data []byte) (*Profile, error) {
	if len(data) > MaxProfileBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrProfile, len(data), MaxProfileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the profile object", ErrProfile)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) check() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrProfile, field, fmt.Sprintf(format, a...))
	}
	if p.Schema != Schema {
		return bad("schema", "%q, want %q", p.Schema, Schema)
	}
	if err := p.Tenant.Validate(); err != nil {
		return bad("tenant", "%v", err)
	}
	if strings.TrimSpace(p.Name) == "" {
		return bad("name", "empty: drafts name the creditor")
	}
	if p.Collector != ledger.FirstParty && p.Collector != ledger.ThirdParty {
		return bad("collector", "%q, want %s or %s", p.Collector, ledger.FirstParty, ledger.ThirdParty)
	}
	// Every planned message carries these (dispatch.Disclosures), so a
	// missing text would fail every draft of its channel.
	for _, d := range []struct{ field, text string }{
		{"disclosures.mini_miranda", p.Disclosures.MiniMiranda},
		{"disclosures.debt_collector", p.Disclosures.DebtCollector},
		{"disclosures.opt_out", p.Disclosures.OptOut},
		{"disclosures.caller_identity", p.Disclosures.CallerIdentity},
		{"disclosures.callback_number", p.Disclosures.CallbackNumber},
	} {
		if strings.TrimSpace(d.text) == "" {
			return bad(d.field, "empty: messages must carry it verbatim")
		}
	}
	for i, r := range p.Remedies {
		if !slices.Contains(remedies, r) {
			return bad(fmt.Sprintf("remedies[%d]", i), "unknown remedy %q", r)
		}
	}
	if p.MaxSMSSegments < 0 || p.MaxSMSSegments > 10 {
		return bad("max_sms_segments", "%d, want 0 (default) to 10", p.MaxSMSSegments)
	}
	for i, s := range p.ShadowSegments {
		if strings.TrimSpace(s) == "" {
			return bad(fmt.Sprintf("shadow_segments[%d]", i), "empty segment name")
		}
	}
	if err := p.Priority().Validate(); err != nil {
		return bad("reporting_currency/rates", "%v", err)
	}
	cfg := strategy.DefaultConfig()
	if len(p.Strategy) > 0 {
		var err error
		if cfg, err = strategy.ParseConfig(p.Strategy); err != nil {
			return fmt.Errorf("%w: strategy: %w", ErrProfile, err)
		}
	}
	p.strategy = cfg
	return nil
}

// StrategyConfig is the tenant's strategy config, checked by Parse.
func (p *Profile) StrategyConfig() *strategy.Config { return p.strategy }

// Priority is the worklist's value settings: the reporting currency and
// the tenant's conversion rates.
func (p *Profile) Priority() priority.Config {
	code := p.ReportingCurrency
	if code == "" {
		code = "USD"
	}
	cur, _ := money.ParseCurrency(code) // zero when unknown: Validate says so
	return priority.Config{Currency: cur, Rates: p.Rates}
}

// Mode is the cycle mode for a customer segment: shadow for the pilot
// segments, live otherwise.
func (p *Profile) Mode(segment string) string {
	if slices.Contains(p.ShadowSegments, segment) {
		return "shadow"
	}
	return "live"
}

// DraftingDisclosures are the texts for a message on ch that must carry
// required.
func (p *Profile) DraftingDisclosures(required []compliance.Disclosure) drafting.Disclosures {
	d := p.Disclosures
	return drafting.Disclosures{Required: required, MiniMiranda: d.MiniMiranda, DebtCollector: d.DebtCollector,
		OptOut: d.OptOut, CallerIdentity: d.CallerIdentity, CallbackNumber: d.CallbackNumber}
}

//go:embed testdata/demo.json
var demo []byte

// Demo is the sample portfolio's tenant profile (tenant "demo"), for the
// local stack and the demo.
func Demo() *Profile {
	p, err := Parse(demo)
	if err != nil {
		panic("tenant: embedded demo profile: " + err.Error())
	}
	return p
}

// DemoJSON is the demo profile's file, for `recoup tenant put`.
func DemoJSON() []byte { return slices.Clone(demo) }
