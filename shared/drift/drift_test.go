package drift_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/learn/metrics"
)

var nan = math.NaN()

// normal draws n values from N(mean, sd²), the same values for the same seed.
func normal(seed uint64, n int, mean, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n)
	for i := range v {
		v[i] = mean + sd*r.NormFloat64()
	}
	return v
}

// sample lays columns out row-major, as scoring.Matrix does.
func sample(names []string, cols [][]float64, scores []float64) drift.Sample {
	rows := len(cols[0])
	x := make([]float64, 0, rows*len(cols))
	for i := range rows {
		for _, c := range cols {
			x = append(x, c[i])
		}
	}
	return drift.Sample{Names: names, Rows: rows, X: x, Scores: scores}
}

func capture(t *testing.T, s drift.Sample, bins int) *drift.Reference {
	t.Helper()
	ref, err := drift.Capture(s, bins)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func compare(t *testing.T, ref *drift.Reference, s drift.Sample, th drift.Thresholds) drift.Report {
	t.Helper()
	rep, err := drift.Compare(ref, s, th)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func fill(n int, v float64) []float64 {
	c := make([]float64, n)
	for i := range c {
		c[i] = v
	}
	return c
}

func shift(v []float64, by float64) []float64 {
	out := slices.Clone(v)
	for i := range out {
		out[i] += by
	}
	return out
}

func TestCompareLevels(t *testing.T) {
	const n = 5000
	trained := normal(1, n, 0, 1)
	scores := normal(2, n, 0.3, 0.1)
	ref := capture(t, sample([]string{"x"}, [][]float64{trained}, scores), 0)
	halfMissing := normal(3, n, 0, 1)
	for i := range n / 2 {
		halfMissing[i] = nan
	}
	tests := []struct {
		name    string
		x       []float64
		level   drift.Level
		lo, hi  float64 // PSI of x
		summary string  // a part of x's summary
	}{
		{"identical sample", trained, drift.OK, 0, 1e-12, "x stable (PSI 0.00)"},
		{"same distribution, new draw", normal(3, n, 0, 1), drift.OK, 0, 0.02, "x stable"},
		{"mean +0.4 sd", normal(3, n, 0.4, 1), drift.Warn, 0.1, 0.25, "x moved"},
		{"mean +1 sd", normal(3, n, 1, 1), drift.Alarm, 0.25, math.Inf(1), "more rows above 1.2"},
		{"sd doubled", normal(3, n, 0, 2), drift.Alarm, 0.25, math.Inf(1), "x shifted"},
		{"feed stops sending x", fill(n, nan), drift.Alarm, 10, math.Inf(1),
			"more rows missing (100.0% now, 0.0% in training)"},
		{"half missing", halfMissing, drift.Alarm, 0.25, math.Inf(1), "more rows missing (50.0% now"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := compare(t, ref, sample([]string{"x"}, [][]float64{tc.x}, scores), drift.Thresholds{})
			x := rep.Columns[0]
			if !(x.PSI >= tc.lo && x.PSI <= tc.hi) {
				t.Errorf("PSI %v, want in [%v, %v]", x.PSI, tc.lo, tc.hi)
			}
			if x.Level != tc.level || rep.Level != tc.level || rep.Alarm() != (tc.level == drift.Alarm) {
				t.Errorf("levels %v (report %v, alarm %v), want %v", x.Level, rep.Level, rep.Alarm(), tc.level)
			}
			if !strings.Contains(x.Summary, tc.summary) {
				t.Errorf("summary %q, want it to contain %q", x.Summary, tc.summary)
			}
			if rep.Score.PSI != 0 || rep.Score.Level != drift.OK {
				t.Errorf("score %+v, want PSI 0 since the scores are the reference's", rep.Score)
			}
		})
	}
}

func TestScoreDrift(t *testing.T) {
	x := normal(1, 2000, 0, 1)
	ref := capture(t, sample([]string{"x"}, [][]float64{x}, normal(2, 2000, 0.3, 0.1)), 0)
	rep := compare(t, ref, sample([]string{"x"}, [][]float64{x}, normal(3, 2000, 0.45, 0.1)), drift.Thresholds{})
	if rep.Score.Name != "score" || rep.Score.Level != drift.Alarm || !rep.Alarm() {
		t.Errorf("score %+v, report level %v: want the score alone to raise the alarm", rep.Score, rep.Level)
	}
	if rep.Columns[0].Level != drift.OK {
		t.Errorf("x %+v, want ok", rep.Columns[0])
	}
}

// The summaries on a sample small enough to check by hand: reference 1..10 in
// 5 bins has edges 2, 4, 6, 8 and 20% of the rows in each bin.
func TestSummary(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	names := []string{"x", "c", "m"}
	ref := capture(t, sample(names, [][]float64{ten, fill(10, 3), fill(10, nan)}, ten), 5)
	tests := []struct {
		name    string
		x       []float64
		c, m    []float64
		want    map[string]string
		overall drift.Level
	}{
		{"unchanged", ten, fill(10, 3), fill(10, nan), map[string]string{
			"x": "x stable (PSI 0.00)",
			"c": "c stable (PSI 0.00); constant in training, so PSI sees only missing values",
			"m": "m stable (PSI 0.00); missing in every training row",
		}, drift.OK},
		// Shares 0.5, 0.1, 0.1, 0.1, 0.2 against 0.2 each: PSI
		// 0.3·ln 2.5 + 3·0.1·ln 2 = 0.4828.
		{"down", []float64{1, 1, 1, 1, 1, 3, 5, 7, 9, 10}, fill(10, 3), fill(10, nan), map[string]string{
			"x": "x shifted (PSI 0.48): more rows at or below 2 (50.0% now, 20.0% in training)",
		}, drift.Alarm},
		// The emptied bins weigh most in the PSI, but the summary names
		// where the rows went.
		{"all at the top", fill(10, 10), fill(10, 3), fill(10, nan), map[string]string{
			"x": "x shifted (PSI 7.37): more rows above 8 (100.0% now, 20.0% in training)",
		}, drift.Alarm},
		// Shares 0.2, 0.1, 0.35, 0.15, 0.2:
		// 0.1·ln 2 + 0.15·ln 1.75 + 0.05·ln 4/3 = 0.1676.
		{"middle", []float64{1, 2, 1, 2, 3, 4, 5, 6, 5, 6, 5, 6, 5, 7, 8, 7, 9, 10, 9, 10}, nil, nil, map[string]string{
			"x": "x moved (PSI 0.17): more rows in (4, 6] (35.0% now, 20.0% in training)",
		}, drift.Warn},
		{"constant changes value", ten, fill(10, 7), fill(10, nan), map[string]string{
			"c": "c stable (PSI 0.00); constant in training, so PSI sees only missing values",
		}, drift.OK},
		// Both bins go from empty (PSIEpsilon) to full and back:
		// 2·(1−ε)·ln(1/ε) = 18.42.
		{"values where there were none", ten, fill(10, 3), ten, map[string]string{
			"m": "m shifted (PSI 18.42): more rows with a value (100.0% now, 0.0% in training); missing in every training row",
		}, drift.Alarm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c == nil {
				tc.c, tc.m = fill(len(tc.x), 3), fill(len(tc.x), nan)
			}
			rep := compare(t, ref, sample(names, [][]float64{tc.x, tc.c, tc.m}, ten), drift.Thresholds{})
			got := map[string]string{}
			for _, c := range rep.Columns {
				if _, ok := tc.want[c.Name]; ok {
					got[c.Name] = c.Summary
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("summaries (-want +got):\n%s", diff)
			}
			if rep.Level != tc.overall {
				t.Errorf("level %v, want %v", rep.Level, tc.overall)
			}
		})
	}
}

// Drift repeats metrics' binning against stored edges; on data without
// missing values the two must give the same PSI, or the training report and
// the monitor would disagree.
func TestMatchesMetricsPSI(t *testing.T) {
	flag := func(seed uint64, p float64) []float64 {
		r := rand.New(rand.NewPCG(seed, 2))
		v := make([]float64, 1000)
		for i := range v {
			if r.Float64() < p {
				v[i] = 1
			}
		}
		return v
	}
	ints := func(seed uint64, k int) []float64 {
		r := rand.New(rand.NewPCG(seed, 3))
		v := make([]float64, 1000)
		for i := range v {
			v[i] = float64(r.IntN(k))
		}
		return v
	}
	tests := []struct {
		name             string
		expected, actual []float64
		bins             int
	}{
		{"normal shifted", normal(1, 3000, 0, 1), normal(2, 700, 0.5, 1.5), 10},
		{"normal, 4 bins", normal(1, 3000, 0, 1), normal(2, 700, -0.2, 1), 4},
		{"flag", flag(1, 0.3), flag(2, 0.6), 10},
		{"heavy ties", ints(1, 4), ints(2, 6), 10},
		{"out of range", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{-100, 100, 5}, 5},
		{"constant", fill(50, 2), []float64{1, 2, 3}, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := metrics.PSI(tc.expected, tc.actual, tc.bins)
			if err != nil {
				t.Fatal(err)
			}
			ref := capture(t, sample([]string{"v"}, [][]float64{tc.expected}, tc.expected), tc.bins)
			rep := compare(t, ref, sample([]string{"v"}, [][]float64{tc.actual}, tc.actual), drift.Thresholds{})
			got := []float64{rep.Columns[0].PSI, rep.Score.PSI}
			if diff := cmp.Diff([]float64{want, want}, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("PSI of column and score against metrics.PSI (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConstantColumn(t *testing.T) {
	ref := capture(t, sample([]string{"c"}, [][]float64{fill(100, 3)}, normal(1, 100, 0, 1)), 0)
	half := fill(100, 3)
	for i := range 50 {
		half[i] = nan
	}
	tests := []struct {
		name  string
		c     []float64
		psi   float64
		level drift.Level
	}{
		{"unchanged", fill(100, 3), 0, drift.OK},
		// The blind spot of quantile bins, pinned so that fixing it is a
		// deliberate change: one value bin cannot see a new constant.
		{"another constant", fill(100, 7), 0, drift.OK},
		// (0.5−ε)·ln(0.5/ε) + (0.5−1)·ln(0.5) = 4.5988.
		{"half missing", half, (0.5-metrics.PSIEpsilon)*math.Log(0.5/metrics.PSIEpsilon) + 0.5*math.Log(2), drift.Alarm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := compare(t, ref, sample([]string{"c"}, [][]float64{tc.c}, normal(1, 100, 0, 1)), drift.Thresholds{})
			c := rep.Columns[0]
			if diff := cmp.Diff(tc.psi, c.PSI, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("PSI (-want +got):\n%s", diff)
			}
			if c.Level != tc.level {
				t.Errorf("level %v, want %v", c.Level, tc.level)
			}
		})
	}
}

func TestOrderAndOverall(t *testing.T) {
	const n = 3000
	names := []string{"a", "b", "c", "d"}
	a, b, c, d := normal(1, n, 0, 1), normal(2, n, 0, 1), normal(3, n, 0, 1), normal(4, n, 0, 1)
	scores := normal(5, n, 0, 1)
	ref := capture(t, sample(names, [][]float64{a, b, c, d}, scores), 0)

	// d and a are unchanged, so tie at PSI 0 and keep name order.
	rep := compare(t, ref, sample(names, [][]float64{a, shift(b, 0.4), shift(c, 1), d}, scores), drift.Thresholds{})
	var order []string
	var levels []drift.Level
	for _, col := range rep.Columns {
		order = append(order, col.Name)
		levels = append(levels, col.Level)
	}
	if diff := cmp.Diff([]string{"c", "b", "a", "d"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]drift.Level{drift.Alarm, drift.Warn, drift.OK, drift.OK}, levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	if rep.Level != drift.Alarm || !rep.Alarm() || rep.Rows != n || rep.Scores != n || rep.ReferenceRows != n {
		t.Errorf("report level %v, alarm %v, rows %d, scores %d, reference rows %d", rep.Level, rep.Alarm(), rep.Rows, rep.Scores, rep.ReferenceRows)
	}

	rep = compare(t, ref, sample(names, [][]float64{a, shift(b, 0.4), c, d}, scores), drift.Thresholds{})
	if rep.Level != drift.Warn || rep.Alarm() {
		t.Errorf("with only b moved: level %v, alarm %v, want warn and no alarm", rep.Level, rep.Alarm())
	}
}

func TestThresholds(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	ref := capture(t, sample([]string{"x"}, [][]float64{ten}, ten), 5)
	down := sample([]string{"x"}, [][]float64{{1, 1, 1, 1, 1, 3, 5, 7, 9, 10}}, ten) // PSI 0.4828
	tests := []struct {
		name  string
		in    drift.Thresholds
		want  drift.Thresholds
		level drift.Level
	}{
		{"zero value is the convention", drift.Thresholds{}, drift.Thresholds{Warn: 0.1, Alarm: 0.25}, drift.Alarm},
		{"warn only", drift.Thresholds{Warn: 0.2}, drift.Thresholds{Warn: 0.2, Alarm: 0.25}, drift.Alarm},
		{"alarm only", drift.Thresholds{Alarm: 0.5}, drift.Thresholds{Warn: 0.1, Alarm: 0.5}, drift.Warn},
		{"lenient", drift.Thresholds{Warn: 0.5, Alarm: 1}, drift.Thresholds{Warn: 0.5, Alarm: 1}, drift.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := compare(t, ref, down, tc.in)
			if diff := cmp.Diff(tc.want, rep.Thresholds); diff != "" {
				t.Errorf("thresholds (-want +got):\n%s", diff)
			}
			if rep.Level != tc.level {
				t.Errorf("level %v, want %v", rep.Level, tc.level)
			}
		})
	}
	for _, bad := range []drift.Thresholds{
		{Warn: 0.3},                    // above the default alarm
		{Warn: 0.2, Alarm: 0.2},        // equal
		{Warn: -0.1},                   // negative
		{Warn: nan},                    // not a number
		{Alarm: math.Inf(1)},           // not JSON
		{Warn: 0.5, Alarm: 0.4},        // inverted
		{Warn: math.Inf(-1), Alarm: 1}, // negative infinity
	} {
		if _, err := drift.Compare(ref, down, bad); !errors.Is(err, drift.ErrInput) {
			t.Errorf("thresholds %+v: got %v, want ErrInput", bad, err)
		}
	}
}

func TestNamesRefused(t *testing.T) {
	col := []float64{1, 2, 3}
	ref := capture(t, sample([]string{"a", "b", "c"}, [][]float64{col, col, col}, col), 0)
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"a", "x", "c"}, `column 1 is "b" in the reference, "x" in the sample`},
		{[]string{"a", "c", "b"}, `column 1 is "b" in the reference, "c" in the sample`},
		{[]string{"a", "b"}, `the sample lacks column 2 "c"`},
		{[]string{"a", "b", "c", "d"}, `the sample has an extra column 3 "d"`},
		{nil, `the sample lacks column 0 "a"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			cols := make([][]float64, max(len(tc.names), 1))
			for i := range cols {
				cols[i] = col
			}
			s := sample(tc.names, cols, col)
			if len(tc.names) == 0 {
				s.X = nil
			}
			_, err := drift.Compare(ref, s, drift.Thresholds{})
			if !errors.Is(err, drift.ErrSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrSchema saying %s", err, tc.want)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	names := []string{"a", "b"}
	good := func() drift.Sample {
		return drift.Sample{Names: names, Rows: 3, X: []float64{1, 2, 3, 4, 5, nan}, Scores: []float64{0.1, 0.2, 0.3}}
	}
	ref := capture(t, good(), 0)
	tests := []struct {
		name   string
		change func(*drift.Sample)
		want   string
	}{
		{"no rows", func(s *drift.Sample) { s.Rows, s.X, s.Scores = 0, nil, nil }, "0 rows"},
		{"no scores", func(s *drift.Sample) { s.Scores = nil }, "no scores"},
		{"short matrix", func(s *drift.Sample) { s.X = s.X[:5] }, "5 values are not 3 rows of 2 columns"},
		{"rows disagree", func(s *drift.Sample) { s.Rows = 2 }, "6 values are not 2 rows of 2 columns"},
		{"infinite input", func(s *drift.Sample) { s.X[5] = math.Inf(1) }, `column "b" row 2 is +Inf`},
		{"negative infinite input", func(s *drift.Sample) { s.X[0] = math.Inf(-1) }, `column "a" row 0 is -Inf`},
		{"missing score", func(s *drift.Sample) { s.Scores[1] = nan }, "score 1 is NaN"},
		{"infinite score", func(s *drift.Sample) { s.Scores[2] = math.Inf(1) }, "score 2 is +Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.change(&s)
			if _, err := drift.Capture(s, 0); !errors.Is(err, drift.ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Capture: got %v, want ErrInput saying %s", err, tc.want)
			}
			if _, err := drift.Compare(ref, s, drift.Thresholds{}); !errors.Is(err, drift.ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compare: got %v, want ErrInput saying %s", err, tc.want)
			}
		})
	}

	for _, bad := range [][]string{{"a", "a"}, {"a", ""}} {
		s := good()
		s.Names = bad
		if _, err := drift.Capture(s, 0); !errors.Is(err, drift.ErrInput) {
			t.Errorf("Capture with names %q: got %v, want ErrInput", bad, err)
		}
	}
	if _, err := drift.Capture(good(), -1); !errors.Is(err, drift.ErrInput) {
		t.Errorf("Capture with -1 bins: got %v, want ErrInput", err)
	}
	for _, r := range []*drift.Reference{nil, {}} {
		if _, err := drift.Compare(r, good(), drift.Thresholds{}); !errors.Is(err, drift.ErrSchema) {
			t.Errorf("Compare against %v: got %v, want ErrSchema", r, err)
		}
	}
	if _, err := json.Marshal(drift.Reference{}); !errors.Is(err, drift.ErrSchema) {
		t.Errorf("marshal of a zero reference: got %v, want ErrSchema", err)
	}
}

// The caution states how large a PSI noise alone gives, so check the claim
// against unshifted draws as well as the flag.
func TestSmallSampleCaution(t *testing.T) {
	ref := capture(t, sample([]string{"x"}, [][]float64{normal(1, 5000, 0, 1)}, normal(2, 5000, 0, 1)), 0)
	tests := []struct {
		rows    int
		caution string
	}{
		{20, "only 20 rows for up to 10 bins (fewer than 10 a bin): noise alone gives a PSI of about 1.11"},
		{50, "only 50 rows for up to 10 bins (fewer than 10 a bin): noise alone gives a PSI of about 0.23"},
		{100, ""},
		{1000, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.rows), func(t *testing.T) {
			var sum float64
			const draws = 300
			for i := range uint64(draws) {
				rep := compare(t, ref, sample([]string{"x"}, [][]float64{normal(10+i, tc.rows, 0, 1)}, normal(1000+i, tc.rows, 0, 1)), drift.Thresholds{})
				sum += rep.Columns[0].PSI
				if i == 0 && rep.Caution != tc.caution {
					t.Errorf("caution %q, want %q", rep.Caution, tc.caution)
				}
			}
			if tc.caution == "" {
				return
			}
			var said float64
			fmt.Sscanf(tc.caution[strings.LastIndex(tc.caution, " ")+1:], "%g", &said)
			if mean := sum / draws; math.Abs(mean-said) > 0.1*said {
				t.Errorf("mean PSI of unshifted %d-row samples is %.3f, the caution says about %.2f", tc.rows, mean, said)
			}
		})
	}
}

// golden is the reference of one feature (0, 30, missing, 90) and four scores
// in 2 bins: the format as it lands in a model artifact.
const golden = `{"version":"recoup.drift.reference/1","bins":2,"rows":4,"scores":4,` +
	`"columns":[{"name":"dpd","edges":[30],"shares":[0.5,0.25],"missing":0.25}],` +
	`"score":{"edges":[0.2],"shares":[0.5,0.5],"missing":0}}`

func TestGoldenJSON(t *testing.T) {
	ref := capture(t, drift.Sample{Names: []string{"dpd"}, Rows: 4, X: []float64{0, 30, nan, 90}, Scores: []float64{0.1, 0.2, 0.3, 0.4}}, 2)
	got, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(golden, string(got)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	const n = 1000
	names := []string{"amount", "dpd", "flag", "constant", "sometimes"}
	sometimes := normal(4, n, 5, 2)
	for i := 0; i < n; i += 3 {
		sometimes[i] = nan
	}
	flag := make([]float64, n)
	for i := range flag {
		flag[i] = float64(i % 4 / 3)
	}
	s := sample(names, [][]float64{normal(1, n, 1e5, 3e4), normal(2, n, 30, 20), flag, fill(n, 1), sometimes}, normal(3, n, 0.2, 0.05))
	ref := capture(t, s, 0)

	// As it would sit inside a model artifact, by pointer and by value.
	type artifact struct {
		Model string           `json:"model"`
		Drift *drift.Reference `json:"drift"`
		Copy  drift.Reference  `json:"copy"`
	}
	data, err := json.Marshal(artifact{Model: "m1", Drift: ref, Copy: *ref})
	if err != nil {
		t.Fatal(err)
	}
	var back artifact
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(data), string(again)); diff != "" {
		t.Errorf("re-encoded artifact (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(names, back.Drift.Names()); diff != "" || back.Drift.Rows() != n || back.Drift.Bins() != 10 {
		t.Errorf("decoded names (-want +got):\n%s rows %d bins %d", diff, back.Drift.Rows(), back.Drift.Bins())
	}

	today := sample(names, [][]float64{normal(5, 300, 1.2e5, 3e4), normal(6, 300, 45, 20), flag[:300], fill(300, 1), normal(7, 300, 5, 2)}, normal(8, 300, 0.2, 0.05))
	want := compare(t, ref, today, drift.Thresholds{})
	for _, r := range []*drift.Reference{back.Drift, &back.Copy} {
		if diff := cmp.Diff(want, compare(t, r, today, drift.Thresholds{})); diff != "" {
			t.Errorf("report from the decoded reference (-original +decoded):\n%s", diff)
		}
	}

	// The report itself goes to logs and the CLI, and must read back.
	data, err = json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"level":"alarm"`) {
		t.Errorf("report JSON %s does not name its level", data)
	}
	var rep drift.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("decoded report (-want +got):\n%s", diff)
	}
}

// corrupt returns golden with each old string replaced by the new one after it.
func corrupt(pairs ...string) string { return strings.NewReplacer(pairs...).Replace(golden) }

var corruptions = []struct {
	name, data, want string
}{
	{"another version", corrupt("reference/1", "reference/2"), `version "recoup.drift.reference/2"`},
	{"newer version with a new field", corrupt("reference/1", "reference/2", `"bins":2`, `"bins":2,"window":7`), `version "recoup.drift.reference/2"`},
	{"no version", corrupt(`"version":"recoup.drift.reference/1",`, ""), `version ""`},
	{"unknown field", corrupt(`"bins":2`, `"bins":2,"window":7`), `unknown field "window"`},
	{"edges decreasing", corrupt(`"bins":2`, `"bins":3`, `"edges":[30],"shares":[0.5,0.25]`, `"edges":[30,10],"shares":[0.25,0.25,0.25]`), "not increasing"},
	{"edges repeated", corrupt(`"bins":2`, `"bins":3`, `"edges":[30],"shares":[0.5,0.25]`, `"edges":[30,30],"shares":[0.25,0.25,0.25]`), "not increasing"},
	{"shares short of 1", corrupt(`"shares":[0.5,0.25]`, `"shares":[0.5,0.15]`), "sum to 0.9"},
	{"negative share", corrupt(`"shares":[0.5,0.25]`, `"shares":[0.8,-0.05]`), "share -0.05 outside [0, 1]"},
	{"share above 1", corrupt(`"shares":[0.5,0.5]`, `"shares":[1.5,-0.5]`), "share 1.5 outside [0, 1]"},
	{"edges and shares disagree", corrupt(`"edges":[30]`, `"edges":[]`), "0 edges and 2 shares"},
	{"more bins than asked", corrupt(`"bins":2`, `"bins":1`), "2 shares for 1 bins"},
	{"missing above 1", corrupt(`"missing":0.25`, `"missing":1.25`), "missing share 1.25"},
	{"score missing", corrupt(`"shares":[0.5,0.5],"missing":0`, `"shares":[0.25,0.5],"missing":0.25`), "scores are never missing"},
	{"score without shares", corrupt(`"score":{"edges":[0.2],"shares":[0.5,0.5]`, `"score":{"edges":[],"shares":[]`), "score: no shares"},
	{"no rows", corrupt(`"rows":4`, `"rows":0`), "0 rows"},
	{"no scores", corrupt(`"scores":4`, `"scores":0`), "0 scores"},
	{"no bins", corrupt(`"bins":2`, `"bins":0`), "0 bins"},
	{"name twice", corrupt(`"columns":[`, `"columns":[{"name":"dpd","edges":[],"shares":[1],"missing":0},`), `column "dpd" appears twice`},
	{"no name", corrupt(`"name":"dpd"`, `"name":""`), "column 0 has no name"},
	{"huge edge", corrupt(`[30]`, `[1e400]`), "1e400"},
	{"string share", corrupt(`[0.5,0.25]`, `["0.5",0.25]`), "cannot unmarshal string"},
	{"trailing data", golden + `{}`, "after top-level value"},
	{"truncated", golden[:len(golden)-5], "unexpected end"},
	{"null", "null", `version ""`},
	{"array", "[]", "cannot unmarshal array"},
	{"empty", "", "unexpected end"},
}

func TestDecodeRefuses(t *testing.T) {
	var ok drift.Reference
	if err := json.Unmarshal([]byte(golden), &ok); err != nil {
		t.Fatalf("golden reference refused: %v", err)
	}
	for _, tc := range corruptions {
		t.Run(tc.name, func(t *testing.T) {
			var r drift.Reference
			err := r.UnmarshalJSON([]byte(tc.data))
			if !errors.Is(err, drift.ErrSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrSchema saying %s", err, tc.want)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	const n = 2000
	names := []string{"a", "b"}
	a, b := normal(1, n, 0, 1), normal(2, n, 3, 1)
	for i := 0; i < n; i += 7 {
		b[i] = nan
	}
	scores := normal(3, n, 0, 1)
	encode := func() string {
		data, err := json.Marshal(capture(t, sample(names, [][]float64{a, b}, scores), 0))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	first := encode()
	if diff := cmp.Diff(first, encode()); diff != "" {
		t.Errorf("second capture (-first +second):\n%s", diff)
	}

	ref := capture(t, sample(names, [][]float64{a, b}, scores), 0)
	ca, cb, cs := shift(a[:500], 0.3), b[:500], shift(scores[:500], -0.2)
	want := compare(t, ref, sample(names, [][]float64{ca, cb}, cs), drift.Thresholds{})
	if diff := cmp.Diff(want, compare(t, ref, sample(names, [][]float64{ca, cb}, cs), drift.Thresholds{})); diff != "" {
		t.Errorf("second report (-first +second):\n%s", diff)
	}

	// Row order means nothing to a distribution.
	perm := rand.New(rand.NewPCG(9, 9)).Perm(500)
	pa, pb, ps := make([]float64, 500), make([]float64, 500), make([]float64, 500)
	for i, j := range perm {
		pa[i], pb[i], ps[i] = ca[j], cb[j], cs[j]
	}
	got := compare(t, ref, sample(names, [][]float64{pa, pb}, ps), drift.Thresholds{})
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("report of shuffled rows (-in order +shuffled):\n%s", diff)
	}
}
