package compliance

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

//go:embed policy/*.json
var defaultPolicyFS embed.FS

// ErrPolicy marks every policy and override validation error.
var ErrPolicy = errors.New("invalid policy")

// Binds says which collectors a rule binds.
type Binds string

// Binds values.
const (
	BindsFirstParty Binds = "first_party"
	BindsThirdParty Binds = "third_party"
	BindsBoth       Binds = "both"
)

// Rule is one version of one rule as policy data: a regulation change is a
// new version in a policy file, not a code change.
type Rule struct {
	ID           string
	Title        string
	Jurisdiction string // "US" or a USPS state code
	Binds        Binds
	Channels     []Channel
	Action       Decision // block or route_to_human
	From         time.Time
	Until        time.Time // exclusive; zero when open-ended
	Citation     string
	Params       map[string]json.RawMessage
	File         string // the policy file it came from
}

// Policy is a validated, versioned set of rules. Build one with
// DefaultPolicy or LoadPolicy and tailor it with Apply.
type Policy struct {
	Version string
	// Rules holds every version of every rule, by id then by From.
	Rules []Rule
	// States lists states whose rules apply to every person, whatever their
	// address (a tenant override adds them).
	States []string
	// Disabled lists state rules a tenant override switched off.
	Disabled []string

	compiled map[string][]*ruleVersion
}

// ruleVersion is a Rule compiled for the engine.
type ruleVersion struct {
	Rule
	channels uint16 // bit per channel
	p        params
}

// policyFile is the JSON shape of one policy file.
type policyFile struct {
	PolicyVersion string     `json:"policy_version"`
	Rules         []ruleJSON `json:"rules"`
}

type ruleJSON struct {
	ID           string                     `json:"id"`
	Title        string                     `json:"title"`
	Jurisdiction string                     `json:"jurisdiction"`
	Binds        string                     `json:"binds"`
	Channels     []string                   `json:"channels"`
	Action       string                     `json:"action"`
	Effective    effectiveJSON              `json:"effective"`
	Citation     string                     `json:"citation"`
	Params       map[string]json.RawMessage `json:"params"`
}

type effectiveJSON struct {
	From  string `json:"from"`
	Until string `json:"until,omitempty"`
}

// DefaultPolicy loads the policy embedded in the binary (policy/*.json).
func DefaultPolicy() (*Policy, error) { return LoadPolicy(defaultPolicyFS, "policy") }

// LoadPolicy reads every dir/*.json file of fsys as one policy and validates
// it: known rule ids, channels and parameters, no overlapping effective
// dates for one id, one policy_version across files, and no gap (every rule
// the engine implements is defined). Errors name the file and the rule.
func LoadPolicy(fsys fs.FS, dir string) (*Policy, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: list %s: %v", ErrPolicy, dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no policy files in %s", ErrPolicy, dir)
	}
	sort.Strings(names)
	p := &Policy{}
	var versionFile string
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPolicy, name, err)
		}
		if err := checkKeys(json.NewDecoder(bytes.NewReader(data)), reflect.TypeFor[policyFile](), ""); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPolicy, name, err)
		}
		var f policyFile
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPolicy, name, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: %s: trailing data after the policy object", ErrPolicy, name)
		}
		if f.PolicyVersion == "" {
			return nil, fmt.Errorf("%w: %s: policy_version is missing", ErrPolicy, name)
		}
		switch {
		case p.Version == "":
			p.Version, versionFile = f.PolicyVersion, name
		case p.Version != f.PolicyVersion:
			return nil, fmt.Errorf("%w: %s: policy_version %q differs from %q in %s",
				ErrPolicy, name, f.PolicyVersion, p.Version, versionFile)
		}
		for i, rj := range f.Rules {
			r, err := rj.rule(name)
			if err != nil {
				id := rj.ID
				if id == "" {
					id = fmt.Sprintf("#%d", i+1)
				}
				return nil, fmt.Errorf("%w: %s: rule %s: %v", ErrPolicy, name, id, err)
			}
			p.Rules = append(p.Rules, r)
		}
	}
	if err := p.compile(); err != nil {
		return nil, err
	}
	return p, nil
}

func (rj ruleJSON) rule(file string) (Rule, error) {
	r := Rule{ID: rj.ID, Title: rj.Title, Jurisdiction: rj.Jurisdiction, Binds: Binds(rj.Binds),
		Action: Decision(rj.Action), Citation: rj.Citation, Params: rj.Params, File: file}
	if rj.ID == "" {
		return r, errors.New("id is missing")
	}
	im := implByID(rj.ID)
	if im == nil {
		return r, fmt.Errorf("unknown rule id %q (the engine implements %s)", rj.ID, strings.Join(RuleIDs(), ", "))
	}
	if rj.Jurisdiction != im.jurisdiction {
		return r, fmt.Errorf("jurisdiction is %q, want %q", rj.Jurisdiction, im.jurisdiction)
	}
	switch r.Binds {
	case BindsFirstParty, BindsThirdParty, BindsBoth:
	default:
		return r, fmt.Errorf("binds is %q, want first_party, third_party or both", rj.Binds)
	}
	if r.Binds != BindsBoth && r.Binds != im.binds {
		// Narrowing who a rule binds would silently switch it off.
		return r, fmt.Errorf("binds is %q, but the rule binds %s", rj.Binds, im.binds)
	}
	if len(rj.Channels) == 0 {
		return r, errors.New("channels is empty")
	}
	for _, c := range rj.Channels {
		ch := Channel(c)
		if channelBit(ch) == 0 {
			return r, fmt.Errorf("unknown channel %q", c)
		}
		if im.channels&channelBit(ch) == 0 {
			return r, fmt.Errorf("channel %q does not apply to this rule", c)
		}
		if slices.Contains(r.Channels, ch) {
			return r, fmt.Errorf("channel %q listed twice", c)
		}
		r.Channels = append(r.Channels, ch)
	}
	if r.Action != Block && r.Action != RouteToHuman {
		return r, fmt.Errorf("action is %q, want block or route_to_human", rj.Action)
	}
	if rj.Citation == "" {
		return r, errors.New("citation is missing")
	}
	var err error
	if r.From, err = parseDate(rj.Effective.From); err != nil {
		return r, fmt.Errorf("effective.from: %v", err)
	}
	if rj.Effective.Until != "" {
		if r.Until, err = parseDate(rj.Effective.Until); err != nil {
			return r, fmt.Errorf("effective.until: %v", err)
		}
		if !r.Until.After(r.From) {
			return r, fmt.Errorf("effective.until %s is not after effective.from %s", rj.Effective.Until, rj.Effective.From)
		}
	}
	if _, err := parseParams(im, rj.Params); err != nil {
		return r, err
	}
	return r, nil
}

// parseDate reads a YYYY-MM-DD date as UTC midnight.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("date is missing")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	return t, nil
}

// compile checks the policy as a whole and builds the engine's view.
func (p *Policy) compile() error {
	sort.SliceStable(p.Rules, func(i, j int) bool {
		if p.Rules[i].ID != p.Rules[j].ID {
			return p.Rules[i].ID < p.Rules[j].ID
		}
		return p.Rules[i].From.Before(p.Rules[j].From)
	})
	p.compiled = make(map[string][]*ruleVersion)
	for i := range p.Rules {
		r := p.Rules[i]
		im := implByID(r.ID)
		if im == nil {
			return fmt.Errorf("%w: %s: rule %s: unknown rule id", ErrPolicy, r.File, r.ID)
		}
		pv, err := parseParams(im, r.Params)
		if err != nil {
			return fmt.Errorf("%w: %s: rule %s: %v", ErrPolicy, r.File, r.ID, err)
		}
		rv := &ruleVersion{Rule: r, p: pv}
		for _, c := range r.Channels {
			rv.channels |= channelBit(c)
		}
		if prev := p.compiled[r.ID]; len(prev) > 0 {
			last := prev[len(prev)-1]
			if last.Until.IsZero() || last.Until.After(r.From) {
				return fmt.Errorf("%w: %s: rule %s: effective dates %s overlap %s in %s",
					ErrPolicy, r.File, r.ID, span(r), span(last.Rule), last.File)
			}
		}
		p.compiled[r.ID] = append(p.compiled[r.ID], rv)
	}
	for _, im := range registry {
		if len(p.compiled[im.id]) == 0 && !slices.Contains(p.Disabled, im.id) {
			return fmt.Errorf("%w: gap: the engine implements rule %s but no policy file defines it", ErrPolicy, im.id)
		}
	}
	return nil
}

func span(r Rule) string {
	until := "open"
	if !r.Until.IsZero() {
		until = r.Until.Format(time.DateOnly)
	}
	return r.From.Format(time.DateOnly) + ".." + until
}

// version returns the rule version in force at t, or nil.
func (p *Policy) version(id string, t time.Time) *ruleVersion {
	for _, rv := range p.compiled[id] {
		if !t.Before(rv.From) && (rv.Until.IsZero() || t.Before(rv.Until)) {
			return rv
		}
	}
	return nil
}

// Override is a tenant's changes to the default policy. It can only make the
// policy stricter, except that it may switch off a state rule that does not
// apply to the tenant.
type Override struct {
	Tenant  string `json:"tenant"`
	Version string `json:"version"`
	// Disable lists state rules (STATE-*) that do not apply to the tenant.
	Disable []string `json:"disable,omitempty"`
	// States lists states whose rules apply to every person the tenant
	// contacts, wherever they live.
	States []string `json:"states,omitempty"`
	// Params tightens parameters: rule id → parameter → value.
	Params map[string]map[string]json.RawMessage `json:"params,omitempty"`
	// Actions tightens actions: route_to_human may become block.
	Actions map[string]Decision `json:"actions,omitempty"`
}

// ReadOverride reads a tenant override document, refusing unknown fields.
func ReadOverride(r io.Reader) (Override, error) {
	var o Override
	data, err := io.ReadAll(r)
	if err != nil {
		return o, fmt.Errorf("%w: override: %v", ErrPolicy, err)
	}
	if err := checkKeys(json.NewDecoder(bytes.NewReader(data)), reflect.TypeFor[Override](), ""); err != nil {
		return o, fmt.Errorf("%w: override: %v", ErrPolicy, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("%w: override: %v", ErrPolicy, err)
	}
	return o, nil
}

// Apply returns the effective policy for a tenant: p with o applied. It
// refuses an override that names unknown rules, states or parameters,
// disables a federal rule, or loosens anything.
func (p *Policy) Apply(o Override) (*Policy, error) {
	fail := func(format string, a ...any) (*Policy, error) {
		return nil, fmt.Errorf("%w: override for tenant %q: %s", ErrPolicy, o.Tenant, fmt.Sprintf(format, a...))
	}
	if o.Tenant == "" || o.Version == "" {
		return fail("tenant and version are required")
	}
	q := &Policy{
		Version:  p.Version + "+" + o.Tenant + "@" + o.Version,
		States:   slices.Clone(p.States),
		Disabled: slices.Clone(p.Disabled),
	}
	for _, id := range o.Disable {
		im := implByID(id)
		if im == nil {
			return fail("disable: unknown rule id %q", id)
		}
		if im.jurisdiction == "US" {
			return fail("disable: %s is federal; only state rules can be disabled", id)
		}
		if !slices.Contains(q.Disabled, id) {
			q.Disabled = append(q.Disabled, id)
		}
	}
	for _, s := range o.States {
		if _, ok := stateZones[s]; !ok {
			return fail("states: unknown state %q", s)
		}
		if !slices.Contains(q.States, s) {
			q.States = append(q.States, s)
		}
	}
	for id := range o.Params {
		if implByID(id) == nil {
			return fail("params: unknown rule id %q", id)
		}
	}
	for id, a := range o.Actions {
		if implByID(id) == nil {
			return fail("actions: unknown rule id %q", id)
		}
		if a != Block && a != RouteToHuman {
			return fail("actions: %s: action %q, want block or route_to_human", id, a)
		}
	}
	for _, r := range p.Rules {
		if slices.Contains(q.Disabled, r.ID) {
			continue
		}
		r.Params = cloneRaw(r.Params)
		im := implByID(r.ID)
		old, err := parseParams(im, r.Params)
		if err != nil {
			return fail("%s: %v", r.ID, err)
		}
		for name, raw := range o.Params[r.ID] {
			spec, ok := im.param(name)
			if !ok {
				return fail("params: %s has no parameter %q", r.ID, name)
			}
			v, err := spec.parse(raw)
			if err != nil {
				return fail("params: %s.%s: %v", r.ID, name, err)
			}
			if !spec.tighter(v, old[name]) {
				return fail("params: %s.%s: %s loosens the policy (%s); an override may only tighten",
					r.ID, name, strings.TrimSpace(string(raw)), spec.kind.direction())
			}
			r.Params[name] = raw
		}
		if a, ok := o.Actions[r.ID]; ok {
			if r.Action == Block && a != Block {
				return fail("actions: %s: %s would loosen block", r.ID, a)
			}
			r.Action = a
		}
		q.Rules = append(q.Rules, r)
	}
	if err := q.compile(); err != nil {
		return nil, err
	}
	return q, nil
}

func cloneRaw(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
