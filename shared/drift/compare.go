package drift

import (
	"cmp"
	"fmt"
	"github.com/recoup-dev/recoup/shared/learn/parallel"
	"math"
	"slices"
	"strings"

	"github.com/recoup-dev/recoup/shared/learn/metrics"
	"github.com/recoup-dev/recoup/shared/learn/schema"
)

// Level grades a PSI against Thresholds. Levels are ordered, so the worst of
// several is their maximum.
type Level int

// The levels, in increasing severity.
const (
	// OK is a PSI below the warn threshold: no shift worth a look.
	OK Level = iota
	// Warn is a moderate shift: worth investigating, not yet a reason to
	// stop trusting the model.
	Warn
	// Alarm is a major shift: the model is scoring a population it did not
	// learn from; check the data feed, then retrain.
	Alarm
)

var levelNames = [...]string{OK: "ok", Warn: "warn", Alarm: "alarm"}

// String returns "ok", "warn" or "alarm".
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// MarshalText encodes the level as its name, so logs read "alarm", not 2.
func (l Level) MarshalText() ([]byte, error) {
	if l < 0 || int(l) >= len(levelNames) {
		return nil, fmt.Errorf("%w: level %d", ErrInput, int(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes a level name written by MarshalText, so a logged
// report can be read back.
func (l *Level) UnmarshalText(b []byte) error {
	i := slices.Index(levelNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("%w: level %q", ErrInput, b)
	}
	*l = Level(i)
	return nil
}

// The conventional PSI readings (see metrics.PSI), for about 10 bins and a
// few hundred rows or more.
const (
	DefaultWarn  = 0.1
	DefaultAlarm = 0.25
)

// Thresholds are the PSI at or above which a column warns and alarms. A zero
// field takes its default (DefaultWarn, DefaultAlarm), so the zero value is
// the conventional reading.
type Thresholds struct {
	Warn  float64 `json:"warn"`
	Alarm float64 `json:"alarm"`
}

// resolve fills in defaults and refuses thresholds that could never order
// the levels: warn must be positive, below alarm, and both finite so the
// report stays JSON.
func (t Thresholds) resolve() (Thresholds, error) {
	if t.Warn == 0 {
		t.Warn = DefaultWarn
	}
	if t.Alarm == 0 {
		t.Alarm = DefaultAlarm
	}
	if !(t.Warn > 0 && t.Warn < t.Alarm && !math.IsInf(t.Alarm, 0)) {
		return t, fmt.Errorf("%w: thresholds warn %v and alarm %v, want 0 < warn < alarm", ErrInput, t.Warn, t.Alarm)
	}
	return t, nil
}

func (t Thresholds) level(psi float64) Level {
	switch {
	case psi >= t.Alarm:
		return Alarm
	case psi >= t.Warn:
		return Warn
	}
	return OK
}

// ColumnReport is the drift of one input column or of the score.
type ColumnReport struct {
	Name  string  `json:"name"`
	PSI   float64 `json:"psi"`
	Level Level   `json:"level"`
	// Summary says in words what moved, for a person reading the log:
	// "days_past_due shifted (PSI 0.31): more rows above 90 (31.0% now,
	// 10.0% in training)".
	Summary string `json:"summary"`
}

// Report is the drift of one sample against a reference.
type Report struct {
	// Level is the worst level of any column or the score.
	Level Level `json:"level"`
	// Rows and Scores are the sample's counts, ReferenceRows the training
	// rows it was compared with: with the caution, they say how far the
	// numbers can be trusted.
	Rows          int        `json:"rows"`
	Scores        int        `json:"scores"`
	ReferenceRows int        `json:"reference_rows"`
	Thresholds    Thresholds `json:"thresholds"`
	// Score is the drift of the model's score, named "score".
	Score ColumnReport `json:"score"`
	// Columns are the inputs, largest PSI first (ties by name), so the
	// column to look at heads the list.
	Columns []ColumnReport `json:"columns"`
	// Caution is set when the sample is too small for the thresholds to
	// mean much, and says how large a PSI noise alone gives on average (for
	// the column where it is largest).
	Caution string `json:"caution,omitempty"`
}

// Alarm reports whether any column or the score reached the alarm level.
func (r Report) Alarm() bool { return r.Level == Alarm }

// rowsPerBin is the sample size per bin below which Compare cautions: PSI
// of an unshifted sample of n rows in B bins is about (B−1)/n (it behaves
// like a chi-square statistic over n), so with 10 rows a bin noise alone
// reaches the conventional warn level of 0.1, and with fewer, empty bins make
// it climb fast.
const rowsPerBin = 10

// noise is the expected PSI of n rows drawn from ref's own distribution, from
// a reference of m rows. The current sample's part is exact: by linearity of
// expectation each bin's term is averaged over its binomial count, which
// captures the PSIEpsilon floor of bins left empty (at 5 rows a bin the
// chi-square approximation is a quarter too low, at 2 less than half). The
// reference's own noise is the approximation (B−1)/m, since references are
// large.
func noise(ref dist, n, m int) float64 {
	total := float64(len(ref.shares)-1) / float64(m)
	lgamma := func(x int) float64 { v, _ := math.Lgamma(float64(x)); return v }
	for b := range len(ref.shares) + 1 {
		p := ref.share(b)
		if !(p > 0 && p < 1) {
			continue // the bin's share in the sample is certain, so its term is 0
		}
		for k := range n + 1 {
			prob := math.Exp(lgamma(n+1) - lgamma(k+1) - lgamma(n-k+1) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
			a := max(float64(k)/float64(n), metrics.PSIEpsilon)
			e := max(p, metrics.PSIEpsilon)
			total += prob * (a - e) * math.Log(a/e)
		}
	}
	return total
}

// binRows bins every column of s against ref's edges in one pass over the
// rows, blocks of rows in parallel: a scoring run compares a million rows,
// and reading the row-major matrix column by column would walk it once
// per column.
func binRows(ref *Reference, s Sample) []dist {
	c := len(ref.columns)
	counts := make([][][]float64, parallel.Workers()) // per worker, per column: bins then missing
	parallel.Blocks(s.Rows, 4096, func(w, lo, hi int) {
		mine := make([][]float64, c)
		for j, d := range ref.columns {
			mine[j] = make([]float64, len(d.edges)+2)
		}
		for i := lo; i < hi; i++ {
			for j, v := range s.X[i*c : (i+1)*c] {
				if math.IsNaN(v) {
					mine[j][len(mine[j])-1]++
					continue
				}
				b, _ := slices.BinarySearch(ref.columns[j].edges, v)
				mine[j][b]++
			}
		}
		counts[w] = mine
	})
	out := make([]dist, c)
	n := float64(s.Rows)
	for j, d := range ref.columns {
		sum := make([]float64, len(d.edges)+2)
		for _, mine := range counts {
			if mine != nil {
				for b, v := range mine[j] {
					sum[b] += v
				}
			}
		}
		for b := range sum {
			sum[b] /= n
		}
		out[j] = dist{edges: d.edges, shares: sum[:len(d.edges)+1], missing: sum[len(d.edges)+1]}
	}
	return out
}

// Compare measures the drift of s against ref. The sample's names must be
// the reference's, in the same order; thresholds t are resolved as
// documented on Thresholds. Errors wrap ErrSchema (the reference is unusable
// or the columns differ) or ErrInput (the sample or thresholds are).
func Compare(ref *Reference, s Sample, t Thresholds) (Report, error) {
	t, err := t.resolve()
	if err != nil {
		return Report{}, err
	}
	if ref == nil || ref.rows == 0 {
		return Report{}, fmt.Errorf("%w: the reference was never captured", ErrSchema)
	}
	if err := sameNames(ref.names, s.Names); err != nil {
		return Report{}, err
	}
	if err := s.check(); err != nil {
		return Report{}, err
	}
	rep := Report{Rows: s.Rows, Scores: len(s.Scores), ReferenceRows: ref.rows, Thresholds: t,
		Columns: make([]ColumnReport, 0, len(ref.columns))}
	bins := len(ref.score.shares)
	for j, d := range binRows(ref, s) {
		rep.Columns = append(rep.Columns, judge(ref.names[j], ref.columns[j], d, t))
		bins = max(bins, len(d.shares))
	}
	rep.Score = judge("score", ref.score, against(s.Scores, ref.score.edges), t)
	slices.SortStableFunc(rep.Columns, func(a, b ColumnReport) int {
		return cmp.Or(cmp.Compare(b.PSI, a.PSI), strings.Compare(a.Name, b.Name))
	})
	rep.Level = rep.Score.Level
	for _, c := range rep.Columns {
		rep.Level = max(rep.Level, c.Level)
	}
	if n := min(rep.Rows, rep.Scores); n < rowsPerBin*bins {
		worst := noise(ref.score, len(s.Scores), ref.scores)
		for _, d := range ref.columns {
			worst = max(worst, noise(d, s.Rows, ref.rows))
		}
		rep.Caution = fmt.Sprintf("only %d rows for up to %d bins (fewer than %d a bin): noise alone gives a PSI of about %.2f",
			n, bins, rowsPerBin, worst)
	}
	return rep, nil
}

// sameNames refuses columns other than the reference's, naming the first
// difference so the fix (a renamed or reordered feature) is obvious.
func sameNames(ref, got []string) error {
	if err := schema.Compare(ref, got, "reference", "sample"); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return nil
}

func judge(name string, ref, cur dist, t Thresholds) ColumnReport {
	p := psi(ref, cur)
	l := t.level(p)
	return ColumnReport{Name: name, PSI: p, Level: l, Summary: summarize(name, l, p, ref, cur)}
}

func summarize(name string, l Level, p float64, ref, cur dist) string {
	var b strings.Builder
	switch l {
	case OK:
		fmt.Fprintf(&b, "%s stable (PSI %.2f)", name, p)
	default:
		verb := "moved"
		if l == Alarm {
			verb = "shifted"
		}
		worst := moved(ref, cur)
		more := "more"
		if cur.share(worst) < ref.share(worst) {
			more = "fewer"
		}
		fmt.Fprintf(&b, "%s %s (PSI %.2f): %s rows %s (%.1f%% now, %.1f%% in training)",
			name, verb, p, more, where(ref.edges, worst), 100*cur.share(worst), 100*ref.share(worst))
	}
	switch {
	case ref.missing == 1:
		b.WriteString("; missing in every training row")
	case len(ref.edges) == 0:
		b.WriteString("; constant in training, so PSI sees only missing values")
	}
	return b.String()
}

// where describes bin b of edges in words; b == len(edges)+1 is the missing
// bin.
func where(edges []float64, b int) string {
	switch {
	case b == len(edges)+1:
		return "missing"
	case len(edges) == 0:
		return "with a value"
	case b == 0:
		return "at or below " + number(edges[0])
	case b == len(edges):
		return "above " + number(edges[b-1])
	}
	return "in (" + number(edges[b-1]) + ", " + number(edges[b]) + "]"
}

// number prints an edge short enough to read in a log line.
func number(v float64) string { return fmt.Sprintf("%.6g", v) }
