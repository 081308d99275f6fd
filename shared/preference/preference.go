package preference

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/recoup-dev/recoup/shared/engagement"
)

// Channels the model chooses between, spelt as shared/features and the
// compliance engine spell them.
const (
	Email   = "email"
	SMS     = "sms"
	Voice   = "voice"
	AIVoice = "ai_voice"
	Letter  = "letter"
)

// Channels returns the model's channels in a fixed order.
func Channels() []string { return []string{Email, SMS, Voice, AIVoice, Letter} }

// ErrInvalid marks input the model refuses: negative counts, a prior or
// options out of range.
var ErrInvalid = errors.New("preference: invalid input")

// Fitting bounds (see the package doc).
const (
	minStrength = 1.0
	maxStrength = 30.0
	// minUnits is the fewest customers (or segments) with trials for the
	// variance, hence the strength, to be estimated.
	minUnits = 10
	// Rates stay off 0 and 1: a channel nobody ever answered is unlikely,
	// not impossible, and Beta parameters must stay positive.
	minRate, maxRate = 0.005, 0.995
)

var defaultChannelPrior = ChannelPrior{Rate: 0.10, Strength: 2}

var (
	trialSignals = []engagement.Signal{engagement.SignalDelivered, engagement.SignalBounced, engagement.SignalFailed,
		engagement.SignalAnswered, engagement.SignalUnanswered}
	successSignals = []engagement.Signal{engagement.SignalReplied, engagement.SignalClicked, engagement.SignalPaid,
		engagement.SignalPromised, engagement.SignalAnswered}
)

// Evidence is what one customer's engagement says about one channel.
type Evidence struct {
	Trials    int `json:"trials"`
	Successes int `json:"successes"`
}

// Observe reads a customer's engagement features as trials and successes
// per model channel (see the package doc for the definitions). A channel
// the customer never engaged on is absent. A negative count, which the
// engagement consumer never writes, is refused naming the channel and
// signal.
func Observe(f engagement.Features) (map[string]Evidence, error) {
	out := map[string]Evidence{}
	for _, key := range slices.Sorted(maps.Keys(f.Counts)) {
		ch, ok := ChannelOf(key)
		if !ok {
			continue
		}
		counts := f.Counts[key]
		for s, n := range counts {
			if n < 0 {
				return nil, fmt.Errorf("%w: channel %s: signal %s: negative count %d", ErrInvalid, key, s, n)
			}
		}
		trials, successes := 0, 0
		for _, s := range trialSignals {
			trials += counts[s]
		}
		for _, s := range successSignals {
			successes = max(successes, counts[s])
		}
		e := out[ch]
		e.Trials += max(trials, successes)
		e.Successes += successes
		out[ch] = e
	}
	return out, nil
}

// ChannelOf maps an engagement channel key (the events' spelling) to the
// model's channel, false for channels the model does not choose between
// (web, payment, prerecorded).
func ChannelOf(key string) (string, bool) {
	switch key {
	case Email, SMS, Voice, Letter:
		return key, true
	case AIVoice, "voice_ai": // the events package spells it voice_ai
		return AIVoice, true
	}
	return "", false
}

// ChannelPrior is the population's Beta prior for one channel: its mean
// response rate per trial and its strength in pseudo-trials.
type ChannelPrior struct {
	Rate     float64 `json:"rate"`
	Strength float64 `json:"strength"`
	// Customers is how many customers with trials the fit used; 0 for the
	// default prior.
	Customers int `json:"customers"`
	// Trials is the population's total trials on the channel.
	Trials int `json:"trials"`
}

func (p ChannelPrior) validate(channel string) error {
	if !(p.Rate > 0 && p.Rate < 1) {
		return fmt.Errorf("%w: prior for %s: rate %v is not inside (0, 1)", ErrInvalid, channel, p.Rate)
	}
	if !(p.Strength > 0) {
		return fmt.Errorf("%w: prior for %s: strength %v is not positive", ErrInvalid, channel, p.Strength)
	}
	return nil
}

// Prior is the population prior of every channel.
type Prior struct {
	Channels map[string]ChannelPrior `json:"channels"`
}

// For returns the prior of channel, the default prior when the population
// had none.
func (p Prior) For(channel string) ChannelPrior {
	if c, ok := p.Channels[channel]; ok {
		return c
	}
	return defaultChannelPrior
}

// DefaultPrior is the prior when nothing is known: every channel at a 10%
// response rate with the weight of two attempts, so a customer's first
// responses outweigh it at once.
func DefaultPrior() Prior {
	p := Prior{Channels: map[string]ChannelPrior{}}
	for _, ch := range Channels() {
		p.Channels[ch] = defaultChannelPrior
	}
	return p
}

// FitPrior fits the population prior from customers' engagement features,
// one Beta per channel by the beta-binomial method of moments (see the
// package doc). A customer's features that Observe refuses fail the fit,
// naming the customer's index.
func FitPrior(population []engagement.Features) (Prior, error) {
	per := map[string][]Evidence{}
	for i, f := range population {
		ev, err := Observe(f)
		if err != nil {
			return Prior{}, fmt.Errorf("customer %d: %w", i, err)
		}
		for ch, e := range ev {
			per[ch] = append(per[ch], e)
		}
	}
	p := Prior{Channels: map[string]ChannelPrior{}}
	for _, ch := range Channels() {
		p.Channels[ch] = fitBeta(per[ch], defaultChannelPrior)
	}
	return p, nil
}

// fitBeta fits a Beta to per-unit binomial counts by the method of moments
// (Kleinman 1973): with weights n_i, the weighted spread S of the unit
// rates has expectation mu(1-mu)[(m-1) + rho(N - m - sum n_i^2/N + 1)],
// where rho = 1/(strength+1) is the share of the variance between units.
// Units without trials say nothing and are skipped; def supplies what the
// data cannot.
func fitBeta(units []Evidence, def ChannelPrior) ChannelPrior {
	var rates, weights []float64
	var trials, successes, sumSq float64
	for _, u := range units {
		if u.Trials <= 0 {
			continue
		}
		n := float64(u.Trials)
		rates = append(rates, float64(u.Successes)/n)
		weights = append(weights, n)
		trials += n
		successes += float64(u.Successes)
		sumSq += n * n
	}
	m := len(rates)
	if m == 0 {
		return def
	}
	out := ChannelPrior{Customers: m, Trials: int(trials), Strength: def.Strength}
	// The default's pseudo-trials keep a channel nobody has answered yet
	// off a rate of zero.
	out.Rate = clamp((successes+def.Rate*def.Strength)/(trials+def.Strength), minRate, maxRate)
	if m < minUnits {
		return out
	}
	// Weighted (frequency) variance divides by N-1; S is the plain sum.
	mu, variance := stat.MeanVariance(rates, weights)
	spread := variance * (trials - 1)
	denom := trials - float64(m) - sumSq/trials + 1
	if mu <= 0 || mu >= 1 || denom <= 0 {
		return out // every unit tried once, or no variation to read
	}
	rho := (spread/(mu*(1-mu)) - float64(m-1)) / denom
	rho = clamp(rho, 1/(maxStrength+1), 1/(minStrength+1))
	out.Strength = 1/rho - 1
	return out
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }

// ChannelScore is the model's estimate for one channel and customer.
type ChannelScore struct {
	Channel string `json:"channel"`
	// P is the posterior mean probability that an attempt gets a useful
	// response; Low and High bound its 90% credible interval.
	P    float64 `json:"p"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// Trials and Successes are the customer's own evidence.
	Trials    int `json:"trials"`
	Successes int `json:"successes"`
	// PriorRate is the population's rate the estimate started from.
	PriorRate float64 `json:"prior_rate"`
	// Alpha and Beta are the posterior's parameters, for sampling.
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
}

// Estimate scores every channel of Channels, in that order, for the
// customer whose engagement features are f.
func Estimate(prior Prior, f engagement.Features) ([]ChannelScore, error) {
	ev, err := Observe(f)
	if err != nil {
		return nil, err
	}
	out := make([]ChannelScore, 0, len(Channels()))
	for _, ch := range Channels() {
		p := prior.For(ch)
		if err := p.validate(ch); err != nil {
			return nil, err
		}
		out = append(out, posterior(ch, p, ev[ch]))
	}
	return out, nil
}

// posterior combines a valid prior with evidence whose successes do not
// exceed its trials.
func posterior(channel string, p ChannelPrior, e Evidence) ChannelScore {
	b := distuv.Beta{
		Alpha: p.Rate*p.Strength + float64(e.Successes),
		Beta:  (1-p.Rate)*p.Strength + float64(e.Trials-e.Successes),
	}
	return ChannelScore{Channel: channel, P: b.Mean(), Low: b.Quantile(0.05), High: b.Quantile(0.95),
		Trials: e.Trials, Successes: e.Successes, PriorRate: p.Rate, Alpha: b.Alpha, Beta: b.Beta}
}
