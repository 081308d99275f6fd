package preference

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/recoup-dev/recoup/shared/engagement"
)

// counts builds engagement features from channel -> signal -> count.
func counts(c map[string]map[engagement.Signal]int) engagement.Features {
	return engagement.Features{Counts: c}
}

type sig = map[engagement.Signal]int

const (
	delivered  = engagement.SignalDelivered
	opened     = engagement.SignalOpened
	clicked    = engagement.SignalClicked
	replied    = engagement.SignalReplied
	bounced    = engagement.SignalBounced
	failed     = engagement.SignalFailed
	answered   = engagement.SignalAnswered
	unanswered = engagement.SignalUnanswered
	paid       = engagement.SignalPaid
	promised   = engagement.SignalPromised
	optOut     = engagement.SignalOptOut
	complained = engagement.SignalComplained
)

func TestObserve(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]map[engagement.Signal]int
		want map[string]Evidence
	}{
		{"opens are not responses", map[string]sig{"email": {delivered: 3, opened: 5}}, map[string]Evidence{"email": {3, 0}}},
		{"a click and a reply on one email count once", map[string]sig{"email": {delivered: 3, clicked: 1, replied: 1}},
			map[string]Evidence{"email": {3, 1}}},
		{"a bounce is a failed trial", map[string]sig{"email": {delivered: 1, bounced: 2, complained: 1}},
			map[string]Evidence{"email": {3, 0}}},
		{"a reply without its delivery receipt proves the trial", map[string]sig{"sms": {replied: 1}},
			map[string]Evidence{"sms": {1, 1}}},
		{"an opt-out is no response", map[string]sig{"sms": {delivered: 2, optOut: 1, failed: 1}},
			map[string]Evidence{"sms": {3, 0}}},
		{"an answered call with a promise is one success", map[string]sig{"voice": {answered: 2, unanswered: 3, promised: 1}},
			map[string]Evidence{"voice": {5, 2}}},
		{"payments count on the channel they came by", map[string]sig{"letter": {paid: 1}}, map[string]Evidence{"letter": {1, 1}}},
		{"voice_ai is ai_voice", map[string]sig{"voice_ai": {answered: 1, unanswered: 1}, "ai_voice": {unanswered: 2}},
			map[string]Evidence{"ai_voice": {4, 1}}},
		{"no model channel", map[string]sig{"web": {clicked: 4}, "payment": {paid: 1}, "prerecorded": {answered: 1}},
			map[string]Evidence{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Observe(counts(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("evidence (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObserveRefusesNegativeCounts(t *testing.T) {
	_, err := Observe(counts(map[string]sig{"sms": {delivered: -1}}))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "channel sms: signal delivered: negative count -1") {
		t.Errorf("error %v", err)
	}
	_, err = FitPrior([]engagement.Features{{}, counts(map[string]sig{"email": {replied: -2}})})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "customer 1: ") {
		t.Errorf("fit error %v, want it to name customer 1", err)
	}
}

// population draws n customers whose email response rates follow
// Beta(rate*strength, (1-rate)*strength), each tried 1 to 12 times.
func population(n int, rate, strength float64, seed uint64) []engagement.Features {
	src := rand.NewPCG(seed, 7)
	r := rand.New(src)
	beta := distuv.Beta{Alpha: rate * strength, Beta: (1 - rate) * strength, Src: src}
	out := make([]engagement.Features, n)
	for i := range out {
		p, trials := beta.Rand(), 1+r.IntN(12)
		k := 0
		for range trials {
			if r.Float64() < p {
				k++
			}
		}
		out[i] = counts(map[string]sig{"email": {delivered: trials, replied: k}})
	}
	return out
}

func TestFitPrior(t *testing.T) {
	same := func(n, trials, successes int) []engagement.Features {
		out := make([]engagement.Features, n)
		for i := range out {
			out[i] = counts(map[string]sig{"sms": {delivered: trials, replied: successes}})
		}
		return out
	}
	tests := []struct {
		name    string
		pop     []engagement.Features
		channel string
		want    ChannelPrior
		tol     float64 // relative tolerance on rate and strength
	}{
		// Method of moments recovers a known Beta from 3,000 customers to
		// within its sampling error: over seeds the strength lands within
		// about 15% of the truth.
		{"recovers a spread population", population(3000, 0.2, 8, 1), "email", ChannelPrior{Rate: 0.2, Strength: 8}, 0.2},
		{"recovers a tight population", population(3000, 0.05, 25, 2), "email", ChannelPrior{Rate: 0.05, Strength: 25}, 0.2},
		// Everybody alike: no spread between customers, so the strength is
		// the cap and a customer's own attempts still count.
		{"homogeneous population is capped", same(50, 4, 1), "sms", ChannelPrior{Rate: 0.25, Strength: 30}, 0.02},
		{"few customers keep the default strength", same(5, 4, 1), "sms", ChannelPrior{Rate: 5.2 / 22, Strength: 2}, 1e-9},
		{"one trial each cannot show spread", same(40, 1, 0), "sms", ChannelPrior{Rate: minRate, Strength: 2}, 1e-9},
		{"no data is the default", same(40, 1, 0), "voice", ChannelPrior{Rate: 0.1, Strength: 2}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FitPrior(tc.pop)
			if err != nil {
				t.Fatal(err)
			}
			got := p.For(tc.channel)
			opt := cmpopts.EquateApprox(tc.tol, 1e-9)
			if !cmp.Equal(tc.want.Rate, got.Rate, opt) || !cmp.Equal(tc.want.Strength, got.Strength, opt) {
				t.Errorf("prior %+v, want rate %v strength %v (±%v)", got, tc.want.Rate, tc.want.Strength, tc.tol)
			}
		})
	}
}

func TestFitPriorFloorsTheRate(t *testing.T) {
	pop := make([]engagement.Features, 200)
	for i := range pop {
		pop[i] = counts(map[string]sig{"letter": {delivered: 50}})
	}
	p, err := FitPrior(pop)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.For(Letter); got.Rate != minRate || got.Customers != 200 || got.Trials != 10000 {
		t.Errorf("letter prior %+v, want the floor rate %v from 200 customers and 10,000 trials", got, minRate)
	}
}

func TestEstimate(t *testing.T) {
	// Rate 1/2 with strength 2 is Beta(1, 1), the uniform: its 90%
	// interval is [0.05, 0.95]. One success makes Beta(2, 1), whose CDF is
	// x², so the interval is [√0.05, √0.95].
	prior := Prior{Channels: map[string]ChannelPrior{Email: {Rate: 0.5, Strength: 2}, SMS: {Rate: 0.5, Strength: 2}}}
	f := counts(map[string]sig{"sms": {delivered: 1, replied: 1}})
	got, err := Estimate(prior, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []ChannelScore{
		{Channel: Email, P: 0.5, Low: 0.05, High: 0.95, PriorRate: 0.5, Alpha: 1, Beta: 1},
		{Channel: SMS, P: 2.0 / 3, Low: math.Sqrt(0.05), High: math.Sqrt(0.95), Trials: 1, Successes: 1, PriorRate: 0.5, Alpha: 2, Beta: 1},
		{Channel: Voice, P: 0.1, PriorRate: 0.1, Alpha: 0.2, Beta: 1.8},
		{Channel: AIVoice, P: 0.1, PriorRate: 0.1, Alpha: 0.2, Beta: 1.8},
		{Channel: Letter, P: 0.1, PriorRate: 0.1, Alpha: 0.2, Beta: 1.8},
	}
	// The default prior's interval is checked for shape only.
	ignore := cmpopts.IgnoreFields(ChannelScore{}, "Low", "High")
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9), ignore); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	for i, s := range got {
		if i < 2 {
			if !cmp.Equal(want[i].Low, s.Low, cmpopts.EquateApprox(0, 1e-9)) || !cmp.Equal(want[i].High, s.High, cmpopts.EquateApprox(0, 1e-9)) {
				t.Errorf("%s interval [%v, %v], want [%v, %v]", s.Channel, s.Low, s.High, want[i].Low, want[i].High)
			}
		}
		if !(s.Low < s.P && s.P < s.High) {
			t.Errorf("%s: mean %v outside its interval [%v, %v]", s.Channel, s.P, s.Low, s.High)
		}
	}
}

func TestEstimateRefusesABadPrior(t *testing.T) {
	for _, tc := range []struct {
		prior ChannelPrior
		want  string
	}{
		{ChannelPrior{Rate: 0, Strength: 2}, "prior for sms: rate 0 is not inside (0, 1)"},
		{ChannelPrior{Rate: 0.2, Strength: 0}, "prior for sms: strength 0 is not positive"},
		{ChannelPrior{Rate: math.NaN(), Strength: 1}, "prior for sms: rate NaN"},
	} {
		_, err := Estimate(Prior{Channels: map[string]ChannelPrior{SMS: tc.prior}}, engagement.Features{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("prior %+v: error %v, want %q", tc.prior, err, tc.want)
		}
	}
}
