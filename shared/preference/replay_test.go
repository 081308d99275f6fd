package preference

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/datasets"
)

const bankPath = "../../../shared/data/uci_bank_marketing_bank-full_with_id.csv"

// randomLog logs n rows with the arm drawn uniformly, the one case where
// the replay is unbiased. In context x arm a answers 30% and b 10%; in y
// (three rows in ten) a answers 10% and b 40%. Overall a is best (24%
// against 19%), but choosing per context reaches 33%.
func randomLog(n int, seed uint64) []Logged {
	r := rand.New(rand.NewPCG(seed, 11))
	rate := map[string]float64{"x/a": 0.3, "x/b": 0.1, "y/a": 0.1, "y/b": 0.4}
	out := make([]Logged, n)
	for i := range out {
		ctx, arm := "x", "a"
		if r.Float64() < 0.3 {
			ctx = "y"
		}
		if r.IntN(2) == 1 {
			arm = "b"
		}
		out[i] = Logged{Arm: arm, Context: ctx, Period: "p", Reward: r.Float64() < rate[ctx+"/"+arm]}
	}
	return out
}

func policy(t *testing.T, res ReplayResult, name string) PolicyResult {
	t.Helper()
	for _, p := range res.Policies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no policy %s in %+v", name, res.Policies)
	return PolicyResult{}
}

func TestReplayFindsTheBetterArmPerContext(t *testing.T) {
	train, test := randomLog(4000, 1), randomLog(20000, 2)
	res, err := Replay(train, test, ReplayOptions{Seed: 1, Choose: DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	logged, overall, pref := policy(t, res, "logged"), policy(t, res, "best_overall"), policy(t, res, "preference")
	if logged.Matched != 20000 || overall.Description != "always a, the arm with the highest response rate in the training rows" {
		t.Errorf("logged %+v, best overall %+v", logged, overall)
	}
	// Uniform logging: the fixed arm matches about half the rows and the
	// replayed rates estimate the true ones (21.5%, 24%, about 33%).
	for _, tc := range []struct {
		p         PolicyResult
		want, tol float64
	}{{logged, 0.215, 0.015}, {overall, 0.24, 0.02}, {pref, 0.33, 0.03}} {
		if d := tc.p.Rate - tc.want; d < -tc.tol || d > tc.tol {
			t.Errorf("%s: rate %.3f on %d rows, want %.3f ± %.3f", tc.p.Name, tc.p.Rate, tc.p.Matched, tc.want, tc.tol)
		}
	}
	if overall.Matched < 9500 || overall.Matched > 10500 {
		t.Errorf("best overall matched %d rows, want about 10,000", overall.Matched)
	}
	// In each context the arms are 20 points or more apart, far beyond the
	// regret bound, and both were tried in training: nothing to explore.
	if pref.Explored != 0 {
		t.Errorf("preference explored %d of %d matched rows, want none", pref.Explored, pref.Matched)
	}
	again, err := Replay(train, test, ReplayOptions{Seed: 1, Choose: DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("the same seed gave another result (-first +second):\n%s", diff)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back ReplayResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

// The training rows decide best_overall; best_so_far follows every logged
// row before the current one, so it moves when the test rows turn.
func TestReplayBaselinesNeverLookAhead(t *testing.T) {
	var train, test []Logged
	for i := range 1000 {
		train = append(train, Logged{Arm: "a", Reward: i%5 == 0}, Logged{Arm: "b", Reward: i%10 == 0})
	}
	for range 4000 { // now b answers every time and a never
		test = append(test, Logged{Arm: "a", Period: "late"}, Logged{Arm: "b", Period: "late", Reward: true})
	}
	res, err := Replay(train, test, ReplayOptions{Choose: Options{}})
	if err != nil {
		t.Fatal(err)
	}
	overall, soFar := policy(t, res, "best_overall"), policy(t, res, "best_so_far")
	if overall.Matched != 4000 || overall.Rewards != 0 {
		t.Errorf("best overall %+v, want always a: 4000 rows, no reward", overall)
	}
	// b's rate overtakes a's (20%) after about 100 of its test rows.
	if soFar.Rewards < 3500 || soFar.Rewards == soFar.Matched {
		t.Errorf("best so far %+v, want it to start on a and move to b", soFar)
	}
	if soFar.SamePeriods != 0.5 {
		t.Errorf("best so far same-period logged rate %v, want 0.5 (one period)", soFar.SamePeriods)
	}
}

func TestReplayRefuses(t *testing.T) {
	rows := randomLog(10, 1)
	for _, tc := range []struct {
		name        string
		train, test []Logged
		opts        Options
		want        string
	}{
		{"no train rows", nil, rows, Options{}, "replay needs train and test rows, got 0 and 10"},
		{"no test rows", rows, nil, Options{}, "got 10 and 0"},
		{"bad options", rows, rows, Options{ExploreShare: -1}, "explore share -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Replay(tc.train, tc.test, ReplayOptions{Choose: tc.opts})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBankContext(t *testing.T) {
	for _, tc := range []struct {
		age      int
		outcome  string
		want     string
		duration int
	}{
		{18, "unknown", "age <30, previous unknown", 0},
		{30, "success", "age 30-44, previous success", 4918},
		{59, "failure", "age 45-59, previous failure", 10},
		{60, "other", "age 60+, previous other", 10},
	} {
		c := datasets.BankContact{Age: tc.age, POutcome: tc.outcome, Duration: tc.duration, Campaign: 3, Contact: "cellular"}
		if got := BankContext(c); got != tc.want {
			t.Errorf("age %d, %s: %q, want %q", tc.age, tc.outcome, got, tc.want)
		}
	}
}

// The replay on the real bank-marketing calls: train on 2008, replay 2009
// and 2010. The data figures are fixed; the policies' are logged.
func TestBankReplay(t *testing.T) {
	f, err := os.Open(bankPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not here: %v", bankPath, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := datasets.ReadBank(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := BankReplay(rows, ReplayOptions{Seed: 1, Choose: DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows != 27729 || res.TestRows != 17482 {
		t.Errorf("train %d test %d rows, want 27729 and 17482", res.TrainRows, res.TestRows)
	}
	wantArms := []ArmStats{
		{Arm: "cellular", TrainRows: 13625, TrainRate: 813.0 / 13625, TestRows: 15660, TestRate: 3556.0 / 15660},
		{Arm: "telephone", TrainRows: 1339, TrainRate: 91.0 / 1339, TestRows: 1567, TestRate: 299.0 / 1567},
		{Arm: "unknown", TrainRows: 12765, TrainRate: 497.0 / 12765, TestRows: 255, TestRate: 33.0 / 255},
	}
	if diff := cmp.Diff(wantArms, res.Arms, approx); diff != "" {
		t.Errorf("arms (-want +got):\n%s", diff)
	}
	// 2008's best line was the telephone, by a hair; always calling it
	// is credited with exactly the telephone rows of 2009 and 2010.
	logged, overall, pref := policy(t, res, "logged"), policy(t, res, "best_overall"), policy(t, res, "preference")
	if logged.Matched != 17482 || logged.Rewards != 3888 || overall.Matched != 1567 || overall.Rewards != 299 ||
		!strings.HasPrefix(overall.Description, "always telephone") {
		t.Errorf("logged %+v, best overall %+v", logged, overall)
	}
	if pref.Matched == 0 || pref.Explored > res.TestRows/10 {
		t.Errorf("preference %+v: explored more than a tenth of the rows", pref)
	}
	if !strings.Contains(res.Caveat, "Observational data") || !strings.Contains(res.Caveat, "not randomised") {
		t.Errorf("caveat %q", res.Caveat)
	}
	again, err := BankReplay(rows, ReplayOptions{Seed: 1, Choose: DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("the same seed gave another result (-first +second):\n%s", diff)
	}
	for _, p := range res.Policies {
		t.Logf("%-17s matched %5d  rate %.3f [%.3f, %.3f]  logged in the same months %.3f  explored %d",
			p.Name, p.Matched, p.Rate, p.Low, p.High, p.SamePeriods, p.Explored)
	}
}
