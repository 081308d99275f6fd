package compliance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// paramKind says how a parameter is written and which way is stricter, so a
// tenant override can be checked to only tighten.
type paramKind int

const (
	pCap             paramKind = iota // integer ≥ 0, a maximum: lower is stricter
	pWindow                           // integer ≥ 1 (days): longer is stricter
	pGrant                            // integer ≥ 0 (days or minutes a permission lasts): shorter is stricter
	pClockFrom                        // "HH:MM", start of allowed hours: later is stricter
	pClockUntil                       // "HH:MM", end of allowed hours: earlier is stricter
	pOutcomesMore                     // outcomes counted against a cap: more is stricter
	pOutcomesFewer                    // outcomes that relax a rule: fewer is stricter
	pPurposesFewer                    // purposes exempted: fewer is stricter
	pDisclosuresMore                  // disclosures required: more is stricter
	pLinesFewer                       // line types given the looser treatment: fewer is stricter
	pAction                           // block or route_to_human: block is stricter
	pPrefixesMore                     // rule-id prefixes extended: more is stricter
)

func (k paramKind) direction() string {
	switch k {
	case pCap, pGrant:
		return "lower is stricter"
	case pWindow:
		return "higher is stricter"
	case pClockFrom:
		return "later is stricter"
	case pClockUntil:
		return "earlier is stricter"
	case pOutcomesMore, pDisclosuresMore, pPrefixesMore:
		return "a superset is stricter"
	case pAction:
		return "block is stricter"
	default:
		return "a subset is stricter"
	}
}

type paramSpec struct {
	name string
	kind paramKind
}

// paramValue is a parsed parameter: a number (also clock minutes), a set
// (with a bitmask for outcome, disclosure and line sets), or an action.
type paramValue struct {
	n    int
	set  []string
	mask uint32
}

type params map[string]paramValue

func (p params) int(name string) int     { return p[name].n }
func (p params) mask(name string) uint32 { return p[name].mask }
func (p params) set(name string) []string {
	return p[name].set
}

func (s paramSpec) parse(raw json.RawMessage) (paramValue, error) {
	switch s.kind {
	case pCap, pWindow, pGrant:
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return paramValue{}, fmt.Errorf("want an integer, got %s", strings.TrimSpace(string(raw)))
		}
		min := 0
		if s.kind == pWindow {
			min = 1
		}
		if n < min || n > 3660 {
			return paramValue{}, fmt.Errorf("%d is out of range (%d..3660)", n, min)
		}
		return paramValue{n: n}, nil
	case pClockFrom, pClockUntil:
		var c string
		if err := json.Unmarshal(raw, &c); err != nil {
			return paramValue{}, fmt.Errorf("want a \"HH:MM\" clock time, got %s", strings.TrimSpace(string(raw)))
		}
		m, ok := parseClock(c)
		if !ok {
			return paramValue{}, fmt.Errorf("%q is not a HH:MM clock time", c)
		}
		return paramValue{n: m}, nil
	case pAction:
		var a string
		if err := json.Unmarshal(raw, &a); err != nil || (Decision(a) != Block && Decision(a) != RouteToHuman) {
			return paramValue{}, fmt.Errorf("want \"block\" or \"route_to_human\", got %s", strings.TrimSpace(string(raw)))
		}
		return paramValue{set: []string{a}, n: severity(Decision(a))}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return paramValue{}, fmt.Errorf("want a list of strings, got %s", strings.TrimSpace(string(raw)))
	}
	v := paramValue{}
	for _, x := range list {
		var bit uint32
		switch s.kind {
		case pOutcomesMore, pOutcomesFewer:
			bit = outcomeBit(Outcome(x))
		case pDisclosuresMore:
			bit = disclosureBit(Disclosure(x))
		case pLinesFewer:
			bit = lineBit(ledger.LineType(x))
		case pPurposesFewer:
			switch Purpose(x) {
			case PurposeCollection, PurposeOptOutConfirmation, PurposeCeaseNotice, PurposeValidationNotice:
				bit = 1
			}
		case pPrefixesMore:
			if x != "" {
				bit = 1
			}
		}
		if bit == 0 {
			return paramValue{}, fmt.Errorf("unknown value %q", x)
		}
		if slices.Contains(v.set, x) {
			return paramValue{}, fmt.Errorf("%q listed twice", x)
		}
		v.set = append(v.set, x)
		if s.kind != pPurposesFewer && s.kind != pPrefixesMore {
			v.mask |= bit
		}
	}
	return v, nil
}

// tighter reports whether v is at least as strict as old.
func (s paramSpec) tighter(v, old paramValue) bool {
	switch s.kind {
	case pCap, pGrant, pClockUntil:
		return v.n <= old.n
	case pWindow, pClockFrom, pAction:
		return v.n >= old.n
	case pOutcomesMore, pDisclosuresMore, pPrefixesMore:
		return isSubset(old.set, v.set)
	default:
		return isSubset(v.set, old.set)
	}
}

func isSubset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func parseParams(im *impl, raw map[string]json.RawMessage) (params, error) {
	p := make(params, len(im.params))
	for name := range raw {
		if _, ok := im.param(name); !ok {
			return nil, fmt.Errorf("unknown parameter %q", name)
		}
	}
	for _, s := range im.params {
		r, ok := raw[s.name]
		if !ok {
			return nil, fmt.Errorf("missing required parameter %q", s.name)
		}
		v, err := s.parse(r)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %v", s.name, err)
		}
		p[s.name] = v
	}
	return p, nil
}

// parseClock reads "HH:MM" (00:00..24:00) as minutes after midnight.
func parseClock(s string) (int, bool) {
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

func formatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func severity(d Decision) int {
	switch d {
	case Block:
		return 2
	case RouteToHuman:
		return 1
	}
	return 0
}

func channelBit(c Channel) uint16 {
	switch c {
	case ChannelCall:
		return 1 << 0
	case ChannelAIVoice:
		return 1 << 1
	case ChannelPrerecorded:
		return 1 << 2
	case ChannelSMS:
		return 1 << 3
	case ChannelEmail:
		return 1 << 4
	case ChannelVoicemail:
		return 1 << 5
	case ChannelLetter:
		return 1 << 6
	case ChannelCreditReport:
		return 1 << 7
	}
	return 0
}

// Channel groups.
var (
	allChannels   = channelBit(ChannelCall) | channelBit(ChannelAIVoice) | channelBit(ChannelPrerecorded) | channelBit(ChannelSMS) | channelBit(ChannelEmail) | channelBit(ChannelVoicemail) | channelBit(ChannelLetter) | channelBit(ChannelCreditReport)
	voiceChannels = channelBit(ChannelCall) | channelBit(ChannelAIVoice) | channelBit(ChannelPrerecorded) | channelBit(ChannelVoicemail)
	phoneChannels = voiceChannels | channelBit(ChannelSMS)
	// automated channels are the TCPA's: artificial or prerecorded voice and texts.
	automatedChannels = channelBit(ChannelAIVoice) | channelBit(ChannelPrerecorded) | channelBit(ChannelSMS)
	artificialVoice   = channelBit(ChannelAIVoice) | channelBit(ChannelPrerecorded)
)

func outcomeBit(o Outcome) uint32 {
	switch o {
	case OutcomeConnected:
		return 1 << 0
	case OutcomeConversation:
		return 1 << 1
	case OutcomeVoicemail:
		return 1 << 2
	case OutcomeNoAnswer:
		return 1 << 3
	case OutcomeBusy:
		return 1 << 4
	case OutcomeNotInService:
		return 1 << 5
	case OutcomeDelivered:
		return 1 << 6
	case OutcomeBounced:
		return 1 << 7
	}
	return 0
}

func disclosureBit(d Disclosure) uint32 {
	switch d {
	case DisclosureMiniMiranda:
		return 1 << 0
	case DisclosureDebtCollector:
		return 1 << 1
	case DisclosureOptOut:
		return 1 << 2
	case DisclosureCallerIdentity:
		return 1 << 3
	case DisclosureCallbackNumber:
		return 1 << 4
	}
	return 0
}

func lineBit(l ledger.LineType) uint32 {
	switch l {
	case ledger.LineMobile:
		return 1 << 0
	case ledger.LineLandline:
		return 1 << 1
	case ledger.LineWork:
		return 1 << 2
	}
	return 0
}
