package compliance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Engine decides contact attempts under one policy. It is safe for
// concurrent use; it caches phone-number lookups, nothing else.
type Engine struct {
	policy   *Policy
	versions [][]*ruleVersion // aligned with registry
	// versions of the rules other rules consult
	revocation, rosenthal []*ruleVersion
	numbers               sync.Map // number → *numberInfo
	addrs                 sync.Map // state+zip3 → []*time.Location
}

// NewEngine returns an engine for a validated policy.
func NewEngine(p *Policy) (*Engine, error) {
	if p == nil || p.compiled == nil {
		return nil, errors.New("compliance: NewEngine needs a policy from DefaultPolicy, LoadPolicy or Apply")
	}
	e := &Engine{policy: p, versions: make([][]*ruleVersion, len(registry))}
	for i, im := range registry {
		e.versions[i] = p.compiled[im.id]
	}
	e.revocation = p.compiled["TCPA-REVOCATION"]
	e.rosenthal = p.compiled[idRosenthal]
	return e, nil
}

// DefaultEngine returns an engine for the embedded default policy.
func DefaultEngine() (*Engine, error) {
	p, err := DefaultPolicy()
	if err != nil {
		return nil, err
	}
	return NewEngine(p)
}

// Policy returns the engine's policy.
func (e *Engine) Policy() *Policy { return e.policy }

// impl is one rule's implementation, keyed by rule id; its parameters come
// from the policy.
type impl struct {
	id           string
	jurisdiction string
	binds        Binds  // who the law binds; a policy may widen, never narrow
	channels     uint16 // channels the rule can apply to
	params       []paramSpec
	check        func(x *eval, rv *ruleVersion, t time.Time) verdict
}

func (im *impl) param(name string) (paramSpec, bool) {
	for _, p := range im.params {
		if p.name == name {
			return p, true
		}
	}
	return paramSpec{}, false
}

func implByID(id string) *impl {
	for i := range registry {
		if registry[i].id == id {
			return &registry[i]
		}
	}
	return nil
}

// RuleIDs lists every rule the engine implements, in evaluation order.
func RuleIDs() []string {
	ids := make([]string, len(registry))
	for i, im := range registry {
		ids[i] = im.id
	}
	return ids
}

// verdict is one rule's finding at one instant.
type verdict struct {
	fired  bool
	action Decision  // overrides the rule's action when set
	timed  bool      // waiting lifts it
	until  time.Time // when timed: the first instant it may stop firing
	reason string
}

type firing struct {
	idx       int
	action    Decision
	v         verdict
	rosenthal bool // a REGF rule applied to a creditor through STATE-CA-ROSENTHAL
}

// zoneSrc is a candidate time zone and where it came from.
type zoneSrc struct {
	loc *time.Location
	src string // "phone +16145550101", "address OH 43215"
}

// eval holds what Decide derives once from a Case.
type eval struct {
	e       *Engine
	c       *Case
	pol     *Policy
	vers    [][]*ruleVersion
	now     time.Time
	explain bool

	zones  []zoneSrc        // every candidate zone, for time-of-day rules
	noZone string           // why there is none
	days   []*time.Location // zones for counting calendar days
	states []string         // states whose rules apply
	third  bool             // Regulation F binds the collector
	debt   Debt             // the attempt's debt
	medium uint16           // channels of the attempt's medium
	isTel  bool             // the attempt goes to a phone number
	phone  *Phone           // the person's record of that number, when known
	line   ledger.LineType  // its line type
	tcpa   tcpaState        // consent to automated contact at that number

	fired []firing    // scratch for the earliest-time search
	buf   []time.Time // scratch for window counts
}

// Decide judges one attempt: a pure function of the case (attempt, history,
// consent, flags), the policy and the attempt's time as "now".
func (e *Engine) Decide(c Case) Result {
	x := e.prepare(&c)
	x.explain = true
	fired := x.run(x.now, nil)
	res := Result{PolicyVersion: e.policy.Version, Rules: []string{}}
	sev := 0
	for _, f := range fired {
		sev = max(sev, severity(f.action))
	}
	switch sev {
	case 2:
		res.Decision = Block
	case 1:
		res.Decision = RouteToHuman
	default:
		res.Decision = Allow
		res.Reason = fmt.Sprintf("allowed: no rule of policy %s stops this %s", e.policy.Version, c.Attempt.Channel)
		return res
	}
	var reasons []string
	rosenthal := false
	for _, want := range []Decision{Block, RouteToHuman} {
		for _, f := range fired {
			if f.action != want {
				continue
			}
			id := registry[f.idx].id
			if !slices.Contains(res.Rules, id) {
				res.Rules = append(res.Rules, id)
			}
			reasons = append(reasons, id+": "+f.v.reason)
			rosenthal = rosenthal || f.rosenthal
		}
	}
	if rosenthal {
		res.Rules = append(res.Rules, idRosenthal)
		reasons = append(reasons, idRosenthal+": California's Rosenthal Act holds a creditor collecting in California to these Regulation F rules (Cal. Civ. Code 1788.17)")
	}
	if res.Decision == Block {
		x.explain = false
		var waited bool
		res.EarliestAllowedAt, waited = x.earliest(fired)
		if res.EarliestAllowedAt == nil && waited {
			reasons = append(reasons, "no time in the next 400 days satisfies every rule in every candidate zone")
		}
	}
	res.Reason = strings.Join(reasons, "; ")
	return res
}

// maxWait bounds the search for a lawful time.
const maxWait = 400 * 24 * time.Hour

// earliest finds the first instant at which no rule blocks: every blocking
// rule says when it may lift, the latest of those is the next candidate, and
// the candidate is checked again against every rule (after a 7-day window
// ends, the hours rule may still block until 08:00 in every zone).
// waited reports whether every block was one that waiting could lift.
func (x *eval) earliest(fired []firing) (at *time.Time, waited bool) {
	t := x.now
	for range 64 {
		var next time.Time
		blocked := false
		for _, f := range fired {
			if f.action != Block {
				continue
			}
			blocked = true
			if !f.v.timed {
				return nil, false
			}
			if f.v.until.After(next) {
				next = f.v.until
			}
		}
		if !blocked {
			u := t.UTC()
			return &u, true
		}
		if !next.After(t) || next.Sub(x.now) > maxWait {
			return nil, true
		}
		t = next
		x.fired = x.run(t, x.fired[:0])
		fired = x.fired
	}
	return nil, true
}

// run evaluates every applicable rule version at t.
func (x *eval) run(t time.Time, out []firing) []firing {
	ch := channelBit(x.c.Attempt.Channel)
	if ch == 0 {
		ch = allChannels // an unknown channel meets every rule of every channel
	}
	ros := x.rosenthalAt(t)
	for i := range registry {
		rv := versionAt(x.vers[i], t)
		if rv == nil || rv.channels&ch == 0 || !x.applies(rv.Jurisdiction) {
			continue
		}
		viaRosenthal := false
		switch rv.Binds {
		case BindsThirdParty:
			if !x.third {
				if ros == nil || !extends(ros, rv.ID) {
					continue
				}
				viaRosenthal = true
			}
		case BindsFirstParty:
			if x.third {
				continue
			}
		}
		v := registry[i].check(x, rv, t)
		if !v.fired {
			continue
		}
		action := rv.Action
		if v.action != "" && severity(v.action) < severity(action) {
			action = v.action
		}
		out = append(out, firing{idx: i, action: action, v: v, rosenthal: viaRosenthal})
	}
	return out
}

func versionAt(vs []*ruleVersion, t time.Time) *ruleVersion {
	for _, rv := range vs {
		if !t.Before(rv.From) && (rv.Until.IsZero() || t.Before(rv.Until)) {
			return rv
		}
	}
	return nil
}

const idRosenthal = "STATE-CA-ROSENTHAL"

// rosenthalAt returns the Rosenthal rule when it extends Regulation F to this
// creditor at t.
func (x *eval) rosenthalAt(t time.Time) *ruleVersion {
	if x.third {
		return nil
	}
	rv := versionAt(x.e.rosenthal, t)
	if rv == nil || rv.channels&channelBit(x.c.Attempt.Channel) == 0 || !x.applies(rv.Jurisdiction) {
		return nil
	}
	return rv
}

func extends(ros *ruleVersion, id string) bool {
	for _, prefix := range ros.p.set("extends") {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// applies says whether a jurisdiction's rules bind this contact.
func (x *eval) applies(j string) bool {
	return j == "US" || slices.Contains(x.states, j) || slices.Contains(x.pol.States, j)
}

// prepare derives zones, states, the number called and consent once.
func (e *Engine) prepare(c *Case) *eval {
	x := &eval{e: e, c: c, now: c.Attempt.At, pol: e.policy, vers: e.versions}
	// An unknown collector type gets the third-party rules, the stricter set.
	x.third = c.Collector != ledger.FirstParty
	for _, d := range c.Debts {
		if d.ID == c.Attempt.Debt {
			x.debt = d
		}
	}
	x.medium = mediumOf(c.Attempt.Channel)
	x.line = ledger.LineUnknown
	if phoneChannels&channelBit(c.Attempt.Channel) != 0 {
		x.isTel = true
		for i := range c.Consumer.Phones {
			if c.Consumer.Phones[i].Number == c.Attempt.To {
				x.phone = &c.Consumer.Phones[i]
				if l := x.phone.Line; l == ledger.LineMobile || l == ledger.LineLandline || l == ledger.LineWork {
					x.line = l
				}
			}
		}
	}
	// Zones from every number we have for the person, the number called, and
	// the address. State rules follow the address; with no address, the
	// states the numbers' area codes belong to.
	var phoneStates []string
	addNumber := func(n string) {
		info := e.number(n)
		for _, l := range info.zones {
			x.addZone(l, "phone "+n)
		}
		for _, s := range info.states {
			if !slices.Contains(phoneStates, s) {
				phoneStates = append(phoneStates, s)
			}
		}
	}
	for _, p := range c.Consumer.Phones {
		addNumber(p.Number)
	}
	if x.isTel && x.phone == nil && c.Attempt.To != "" {
		addNumber(c.Attempt.To)
	}
	if st := c.Consumer.State; st != "" {
		src := "address " + st
		if c.Consumer.ZIP != "" {
			src += " " + c.Consumer.ZIP
		}
		for _, l := range e.address(st, c.Consumer.ZIP) {
			x.addZone(l, src)
		}
		x.states = []string{st}
	} else {
		x.states = phoneStates
	}
	if len(x.zones) == 0 {
		x.noZone = "no time zone is known for this person (no address with a zone and no geographic phone number)"
		for _, name := range fallbackDayZones {
			x.days = append(x.days, location(name))
		}
	} else {
		for _, z := range x.zones {
			x.days = append(x.days, z.loc)
		}
	}
	x.tcpa = x.consentState()
	return x
}

func (x *eval) addZone(l *time.Location, src string) {
	for _, z := range x.zones {
		if z.loc == l {
			return
		}
	}
	x.zones = append(x.zones, zoneSrc{loc: l, src: src})
}

func (e *Engine) number(n string) *numberInfo {
	if v, ok := e.numbers.Load(n); ok {
		return v.(*numberInfo)
	}
	info := lookupNumber(n)
	e.numbers.Store(n, info)
	return info
}

func (e *Engine) address(state, zip string) []*time.Location {
	key := state
	if len(zip) >= 3 {
		key += zip[:3]
	}
	if v, ok := e.addrs.Load(key); ok {
		return v.([]*time.Location)
	}
	var locs []*time.Location
	for _, name := range addressZones(state, zip) {
		if l := location(name); l != nil {
			locs = appendLoc(locs, l)
		}
	}
	e.addrs.Store(key, locs)
	return locs
}

// mediumOf groups channels into the media a person can refuse (1006.14(h)):
// every kind of call is the telephone.
func mediumOf(c Channel) uint16 {
	b := channelBit(c)
	switch {
	case voiceChannels&b != 0:
		return voiceChannels
	default:
		return b
	}
}

// debtMatches says whether an event about debt d concerns the attempt's
// debt; an event naming no debt concerns them all.
func (x *eval) debtMatches(d string) bool { return d == "" || d == x.c.Attempt.Debt }

func (x *eval) hasFlag(f Flag) bool { return slices.Contains(x.c.Consumer.Flags, f) }

func (x *eval) hasDisclosure(d Disclosure) bool { return slices.Contains(x.c.Attempt.Disclosures, d) }

// lineOf returns the line type of one of the person's numbers.
func (x *eval) lineOf(n string) ledger.LineType {
	for _, p := range x.c.Consumer.Phones {
		if p.Number == n {
			switch p.Line {
			case ledger.LineMobile, ledger.LineLandline, ledger.LineWork:
				return p.Line
			}
		}
	}
	return ledger.LineUnknown
}

func (x *eval) isKnownPhone(n string) bool {
	for _, p := range x.c.Consumer.Phones {
		if p.Number == n {
			return true
		}
	}
	return false
}

func (x *eval) email(addr string) (EmailAddress, bool) {
	for _, m := range x.c.Consumer.Emails {
		if strings.EqualFold(m.Address, addr) {
			return m, true
		}
	}
	return EmailAddress{}, false
}

// counted says whether an attempt's outcome is in a counted set; an attempt
// with no or an unknown outcome counts, since we cannot show it should not.
func counted(o Outcome, mask uint32) bool {
	b := outcomeBit(o)
	return b == 0 || mask&b != 0
}

func utcString(t time.Time) string { return t.UTC().Format("Jan 2 15:04 UTC") }
