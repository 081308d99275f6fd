package preference

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrNoChannel means none of the allowed channels has a score.
var ErrNoChannel = errors.New("preference: no allowed channel to choose")

// Options bound how Choose explores and weigh channels by cost.
type Options struct {
	// ExploreShare is the largest share of choices that may explore
	// (0: never, 1: every choice may).
	ExploreShare float64 `json:"explore_share"`
	// RegretBound is how far below the best estimate, in absolute
	// probability, an explored channel may be.
	RegretBound float64 `json:"regret_bound"`
	// MinTrials: a channel with fewer trials may be explored whatever its
	// estimate.
	MinTrials int `json:"min_trials"`
	// Value is what a useful response is worth and Cost what one attempt
	// per channel costs, in minor units of one currency. With both, a
	// channel's figure of merit is P - Cost/Value (the expected net value
	// of an attempt in units of Value), so RegretBound keeps its meaning.
	Value int64            `json:"value,omitempty"`
	Cost  map[string]int64 `json:"cost,omitempty"`
}

// DefaultOptions explore one choice in ten at most, within 5 points of the
// best or on a channel tried fewer than twice.
func DefaultOptions() Options { return Options{ExploreShare: 0.1, RegretBound: 0.05, MinTrials: 2} }

func (o Options) validate() error {
	switch {
	case !(o.ExploreShare >= 0 && o.ExploreShare <= 1):
		return fmt.Errorf("%w: options: explore share %v is not within [0, 1]", ErrInvalid, o.ExploreShare)
	case !(o.RegretBound >= 0 && o.RegretBound <= 1):
		return fmt.Errorf("%w: options: regret bound %v is not within [0, 1]", ErrInvalid, o.RegretBound)
	case o.MinTrials < 0:
		return fmt.Errorf("%w: options: min trials %d is negative", ErrInvalid, o.MinTrials)
	case o.Value < 0:
		return fmt.Errorf("%w: options: value %d is negative", ErrInvalid, o.Value)
	case len(o.Cost) > 0 && o.Value == 0:
		return fmt.Errorf("%w: options: costs need the value of a response to be weighed against", ErrInvalid)
	}
	for ch, c := range o.Cost {
		if c < 0 {
			return fmt.Errorf("%w: options: cost of %s: %d is negative", ErrInvalid, ch, c)
		}
	}
	return nil
}

// costShare is an attempt's cost in units of a response's value.
func (o Options) costShare(channel string) float64 {
	if o.Value == 0 {
		return 0
	}
	return float64(o.Cost[channel]) / float64(o.Value)
}

// Choice is the channel the model recommends and why.
type Choice struct {
	Channel string `json:"channel"`
	// P is the chosen channel's estimated probability of a useful response.
	P float64 `json:"p"`
	// Explored is true when the channel is not the one the estimates alone
	// pick (Greedy), chosen to learn.
	Explored bool   `json:"explored"`
	Greedy   string `json:"greedy"`
	// Reason says why in a collector's words.
	Reason string `json:"reason"`
}

// Choose recommends one of the allowed channels (those compliance permits;
// the model never adds one) from the scores of Estimate. It picks the
// highest estimate, net of cost when Options has costs, unless the key's
// hash puts the choice in the exploring share; then it draws from each
// eligible channel's posterior (Thompson sampling, seeded by the key) and
// takes the highest draw. A channel is eligible if its estimate is within
// RegretBound of the best or it has fewer than MinTrials trials. The same
// scores, allowed set and key always give the same choice; key should
// change when a new choice is due (e.g. tenant, customer and day).
func Choose(scores []ChannelScore, allowed []string, key string, opts Options) (Choice, error) {
	if err := opts.validate(); err != nil {
		return Choice{}, err
	}
	// Candidates keep the order of scores, not of allowed, so the draws
	// do not depend on how the caller listed the channels.
	var cands []ChannelScore
	for _, s := range scores {
		if !slices.Contains(allowed, s.Channel) || slices.ContainsFunc(cands, func(c ChannelScore) bool { return c.Channel == s.Channel }) {
			continue
		}
		if !(s.Alpha > 0 && s.Beta > 0) {
			return Choice{}, fmt.Errorf("%w: score of %s: alpha %v and beta %v must be positive", ErrInvalid, s.Channel, s.Alpha, s.Beta)
		}
		cands = append(cands, s)
	}
	if len(cands) == 0 {
		return Choice{}, fmt.Errorf("%w: allowed %q, scored %q", ErrNoChannel, allowed, scoredChannels(scores))
	}
	merit := func(s ChannelScore, p float64) float64 { return p - opts.costShare(s.Channel) }
	best := 0
	for i, s := range cands {
		if merit(s, s.P) > merit(cands[best], cands[best].P) {
			best = i
		}
	}
	greedy := cands[best]
	out := Choice{Channel: greedy.Channel, P: greedy.P, Greedy: greedy.Channel, Reason: greedyReason(greedy, opts)}
	if len(cands) == 1 {
		out.Reason = "only channel allowed; " + out.Reason
		return out, nil
	}
	src := keySource(key)
	if rand.New(src).Float64() >= opts.ExploreShare {
		return out, nil
	}
	pick, top := best, math.Inf(-1)
	for i, s := range cands {
		if i != best && s.Trials >= opts.MinTrials && merit(s, s.P) < merit(greedy, greedy.P)-opts.RegretBound {
			continue
		}
		draw := distuv.Beta{Alpha: s.Alpha, Beta: s.Beta, Src: src}.Rand()
		if v := merit(s, draw); v > top {
			pick, top = i, v
		}
	}
	if pick == best {
		return out, nil
	}
	s := cands[pick]
	return Choice{Channel: s.Channel, P: s.P, Explored: true, Greedy: greedy.Channel,
		Reason: exploreReason(s, greedy, opts)}, nil
}

// keySource seeds a PCG from the key's 128-bit FNV-1a hash: stable across
// processes and releases, unlike hash/maphash.
func keySource(key string) *rand.PCG {
	h := fnv.New128a()
	h.Write([]byte(key))
	var b [16]byte
	sum := h.Sum(b[:0])
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(sum[i])
		lo = lo<<8 | uint64(sum[8+i])
	}
	return rand.NewPCG(hi, lo)
}

func scoredChannels(scores []ChannelScore) []string {
	out := make([]string, 0, len(scores))
	for _, s := range scores {
		out = append(out, s.Channel)
	}
	return out
}

// noun names a channel's attempts the way a collector says them.
func noun(channel string) string {
	switch channel {
	case Email:
		return "emails"
	case SMS:
		return "texts"
	case Voice:
		return "calls"
	case AIVoice:
		return "AI calls"
	case Letter:
		return "letters"
	}
	return channel
}

func pct(p float64) string { return fmt.Sprintf("%.0f%%", 100*p) }

func greedyReason(s ChannelScore, opts Options) string {
	var r string
	if s.Trials > 0 {
		r = fmt.Sprintf("responded to %s %d of %d times (estimate %s)", noun(s.Channel), s.Successes, s.Trials, pct(s.P))
	} else {
		r = fmt.Sprintf("no %s tried yet; best population rate (%s)", noun(s.Channel), pct(s.P))
	}
	if len(opts.Cost) > 0 {
		r += ", net of cost"
	}
	return r
}

func exploreReason(s, greedy ChannelScore, opts Options) string {
	switch {
	case s.Trials == 0:
		return fmt.Sprintf("never tried %s; exploring (population rate %s)", noun(s.Channel), pct(s.P))
	case s.Trials < opts.MinTrials:
		return fmt.Sprintf("exploring %s: responded %d of %d times so far (estimate %s)", noun(s.Channel), s.Successes, s.Trials, pct(s.P))
	}
	return fmt.Sprintf("exploring %s: estimate %s, within %.0f points of %s (%s)", noun(s.Channel), pct(s.P),
		100*opts.RegretBound, noun(greedy.Channel), pct(greedy.P))
}
