package preference

import (
	"fmt"
	"maps"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Logged is one row of logged data: the arm the logging policy used, what a
// policy may know before choosing, and whether the response was useful.
type Logged struct {
	Arm string
	// Context is a segment of attributes known before the contact; rows
	// with the same context share what is learnt, as a customer's
	// attempts do.
	Context string
	// Period is when the row happened, at the grain (a month, say) at which
	// the logged response rate is compared with a policy's.
	Period string
	Reward bool
}

// ReplayOptions are the replay's seed and the exploration options of the
// policy under test.
type ReplayOptions struct {
	Seed   uint64  `json:"seed"`
	Choose Options `json:"choose"`
}

// ArmStats describe one arm in the training and the replayed rows. The
// test figures are hindsight, for reading the result; no policy sees them.
type ArmStats struct {
	Arm       string  `json:"arm"`
	TrainRows int     `json:"train_rows"`
	TrainRate float64 `json:"train_rate"`
	TestRows  int     `json:"test_rows"`
	TestRate  float64 `json:"test_rate"`
}

// PolicyResult is one policy's replay: the rows where its pick matched the
// logged arm, the useful responses among them, their rate and the rate's
// 95% (Jeffreys) interval.
type PolicyResult struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Matched     int     `json:"matched"`
	Rewards     int     `json:"rewards"`
	Rate        float64 `json:"rate"`
	Low         float64 `json:"low"`
	High        float64 `json:"high"`
	// SamePeriods is the logging policy's rate in the same periods,
	// weighted as this policy's matched rows are: what those rows would
	// score from their timing alone. Response rates drift, and a policy
	// credited on more rows from good periods looks better for that alone;
	// Rate - SamePeriods takes the drift out (not the rest of the bias).
	SamePeriods float64 `json:"logged_same_periods"`
	// Explored counts matched rows whose pick was explorative.
	Explored int `json:"explored,omitempty"`
}

// ReplayResult is a replay's outcome.
type ReplayResult struct {
	TrainRows int            `json:"train_rows"`
	TestRows  int            `json:"test_rows"`
	Contexts  int            `json:"contexts"` // seen in training
	Arms      []ArmStats     `json:"arms"`
	Policies  []PolicyResult `json:"policies"`
	Options   ReplayOptions  `json:"options"`
	Caveat    string         `json:"caveat"`
}

// replayCaveat is the caveat of any replay on logged data whose arms were
// not randomised.
const replayCaveat = "The logged arms were not chosen at random, so the replay is biased: a policy is credited only on " +
	"the rows where the logging policy happened to make its pick, and those rows differ in who was contacted and when. " +
	"Li et al.'s replay is unbiased only for uniformly random logging; read the gaps as indicative, not as causal."

// Replay evaluates policies on logged rows with the offline replay method
// of Li et al. (2011, "Unbiased offline evaluation of contextual-bandit-
// based news article recommendation algorithms"). The train rows come
// first in time: they fit the population models and the best overall arm.
// Then the test rows stream in order; a policy is credited with a row, and
// learns from it, only when its pick equals the logged arm. The arms are
// those of the train rows; no policy ever sees a row before choosing for
// it. The policies:
//
//   - logged: the logging policy itself, every test row;
//   - best_overall: always the arm with the highest training rate;
//   - best_so_far: the arm with the highest rate over every logged row
//     before this one (train and earlier test rows, matched or not);
//   - preference: per context and arm a Beta prior from the training rows
//     (the arm's Beta across contexts fitted as FitPrior does, the
//     context's rate shrunk towards it, strength at most 30), updated by
//     the matched rows, chosen by Choose with opts.Choose;
//   - preference_greedy: the same without exploration.
//
// Given the same rows and options, the result is the same.
func Replay(train, test []Logged, opts ReplayOptions) (ReplayResult, error) {
	if err := opts.Choose.validate(); err != nil {
		return ReplayResult{}, err
	}
	if len(train) == 0 || len(test) == 0 {
		return ReplayResult{}, fmt.Errorf("%w: replay needs train and test rows, got %d and %d", ErrInvalid, len(train), len(test))
	}
	// Per arm, per context: the training evidence.
	fit := map[string]map[string]Evidence{}
	all := map[string]Evidence{}
	contexts := map[string]bool{}
	for _, r := range train {
		if fit[r.Arm] == nil {
			fit[r.Arm] = map[string]Evidence{}
		}
		fit[r.Arm][r.Context] = fit[r.Arm][r.Context].add(r.Reward)
		all[r.Arm] = all[r.Arm].add(r.Reward)
		contexts[r.Context] = true
	}
	arms := slices.Sorted(maps.Keys(fit))
	armPrior := map[string]ChannelPrior{}
	for _, a := range arms {
		armPrior[a] = fitBeta(slices.Collect(maps.Values(fit[a])), defaultChannelPrior)
	}
	prior := func(ctx, arm string) ChannelPrior {
		ap := armPrior[arm]
		e, ok := fit[arm][ctx]
		if !ok {
			return ap
		}
		// The cap keeps the training period a prior, not a verdict: rates
		// drift, and the replayed rows must be able to move it.
		return ChannelPrior{
			Rate:     clamp((float64(e.Successes)+ap.Rate*ap.Strength)/(float64(e.Trials)+ap.Strength), minRate, maxRate),
			Strength: min(ap.Strength+float64(e.Trials), maxStrength),
		}
	}

	res := ReplayResult{TrainRows: len(train), TestRows: len(test), Contexts: len(contexts), Options: opts, Caveat: replayCaveat}
	testArm, period := map[string]Evidence{}, map[string]Evidence{}
	for _, r := range test {
		testArm[r.Arm] = testArm[r.Arm].add(r.Reward)
		period[r.Period] = period[r.Period].add(r.Reward)
	}
	for _, a := range arms {
		res.Arms = append(res.Arms, ArmStats{Arm: a, TrainRows: all[a].Trials, TrainRate: all[a].rate(),
			TestRows: testArm[a].Trials, TestRate: testArm[a].rate()})
	}

	bestOverall := arms[0]
	for _, a := range arms {
		if all[a].rate() > all[bestOverall].rate() {
			bestOverall = a
		}
	}
	greedyOpts := opts.Choose
	greedyOpts.ExploreShare = 0
	learners := []*learner{
		{name: "preference", opts: opts.Choose, seen: map[string]Evidence{}},
		{name: "preference_greedy", opts: greedyOpts, seen: map[string]Evidence{}},
	}
	var logged, overall, soFar tally
	for i, r := range test {
		periodRate := period[r.Period].rate()
		logged.add(r.Reward, periodRate, false)
		if r.Arm == bestOverall {
			overall.add(r.Reward, periodRate, false)
		}
		pick := arms[0]
		for _, a := range arms {
			if all[a].rate() > all[pick].rate() {
				pick = a
			}
		}
		if r.Arm == pick {
			soFar.add(r.Reward, periodRate, false)
		}
		if _, known := fit[r.Arm]; known {
			all[r.Arm] = all[r.Arm].add(r.Reward)
		}
		key := fmt.Sprintf("replay/%d/%d", opts.Seed, i)
		for _, l := range learners {
			scores := make([]ChannelScore, 0, len(arms))
			for _, a := range arms {
				scores = append(scores, posterior(a, prior(r.Context, a), l.seen[r.Context+"\x00"+a]))
			}
			c, err := Choose(scores, arms, key, l.opts)
			if err != nil {
				return ReplayResult{}, fmt.Errorf("test row %d: %s: %w", i, l.name, err)
			}
			if c.Channel != r.Arm {
				continue
			}
			l.credit.add(r.Reward, periodRate, c.Explored)
			k := r.Context + "\x00" + r.Arm
			l.seen[k] = l.seen[k].add(r.Reward)
		}
	}
	res.Policies = []PolicyResult{
		logged.result("logged", "the logging policy: every test row as it happened"),
		overall.result("best_overall", "always "+bestOverall+", the arm with the highest response rate in the training rows"),
		soFar.result("best_so_far", "the arm with the highest response rate over every logged row before this one"),
	}
	for _, l := range learners {
		desc := "per context, a Beta prior from the training rows updated by its matched rows; Thompson exploration bounded by the options"
		if l.name == "preference_greedy" {
			desc = "as preference, without exploration"
		}
		res.Policies = append(res.Policies, l.credit.result(l.name, desc))
	}
	return res, nil
}

// learner is a replayed preference policy: what it has learnt from its
// matched rows, per context and arm, and its credit.
type learner struct {
	name   string
	opts   Options
	seen   map[string]Evidence
	credit tally
}

// tally is a policy's credit: its matched rows and rewards, the sum of the
// logged rate of their periods, and how many it explored.
type tally struct {
	Evidence
	periodRates float64
	explored    int
}

func (t *tally) add(reward bool, periodRate float64, explored bool) {
	t.Evidence = t.Evidence.add(reward)
	t.periodRates += periodRate
	if explored {
		t.explored++
	}
}

func (e Evidence) add(reward bool) Evidence {
	e.Trials++
	if reward {
		e.Successes++
	}
	return e
}

func (e Evidence) rate() float64 {
	if e.Trials == 0 {
		return 0
	}
	return float64(e.Successes) / float64(e.Trials)
}

func (t tally) result(name, desc string) PolicyResult {
	// Jeffreys interval: the Beta(1/2, 1/2) posterior's central 95%.
	b := distuv.Beta{Alpha: float64(t.Successes) + 0.5, Beta: float64(t.Trials-t.Successes) + 0.5}
	r := PolicyResult{Name: name, Description: desc, Matched: t.Trials, Rewards: t.Successes, Rate: t.rate(),
		Low: b.Quantile(0.025), High: b.Quantile(0.975), Explored: t.explored}
	if t.Trials > 0 {
		r.SamePeriods = t.periodRates / float64(t.Trials)
	}
	return r
}
