package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/recoup-dev/recoup/shared/learn/parallel"
	"math"
	"slices"

	"github.com/recoup-dev/recoup/shared/learn/metrics"
)

// ErrSchema marks a reference that cannot be used (damaged, another version,
// or never captured) and a sample whose columns are not the reference's:
// comparing other columns would report a drift that is only a mix-up.
var ErrSchema = errors.New("drift: reference does not match")

// ErrInput marks a sample or thresholds that drift cannot be measured from:
// no rows, no scores, a matrix of the wrong size, infinite values.
var ErrInput = errors.New("drift: invalid input")

// Version names the JSON form of a Reference. A decoder refuses any other,
// since a misread reference would raise alarms (or hide them) for every run.
const Version = "recoup.drift.reference/1"

// DefaultBins is the number of quantile bins per column when Capture is
// given 0: the usual choice for PSI, and the one its 0.1 and 0.25 readings
// assume.
const DefaultBins = 10

// shareTolerance is how far a decoded column's shares may sum from 1: shares
// written by Capture are exact counts over rows, so anything further off was
// edited or damaged.
const shareTolerance = 1e-6

// Sample is a batch of model inputs and scores. X is row-major with one
// value per name and row, as in scoring.Matrix, so a caller passes a
// matrix's fields through unchanged; NaN in X means unknown.
//
// Scores usually hold one score per row, but need not: a training job may
// take the reference scores from held-out rows, because scores on the rows a
// model was fitted on are more confident than any it gives in production and
// would make every later run look shifted.
type Sample struct {
	Names  []string
	Rows   int
	X      []float64
	Scores []float64
}

// check refuses samples drift cannot read. Inf is refused rather than binned,
// because it only comes from a bug upstream (a division by zero in a
// feature), which an alarm on that column would disguise as drift.
func (s Sample) check() error {
	c := len(s.Names)
	switch {
	case s.Rows <= 0:
		return fmt.Errorf("%w: %d rows, want at least one", ErrInput, s.Rows)
	case len(s.Scores) == 0:
		return fmt.Errorf("%w: no scores", ErrInput)
	case c == 0 && len(s.X) != 0, c > 0 && (len(s.X)%c != 0 || len(s.X)/c != s.Rows):
		return fmt.Errorf("%w: %d values are not %d rows of %d columns", ErrInput, len(s.X), s.Rows, c)
	}
	seen := make(map[string]bool, c)
	for _, n := range s.Names {
		if n == "" {
			return fmt.Errorf("%w: a column has no name", ErrInput)
		}
		if seen[n] {
			return fmt.Errorf("%w: column %q appears twice", ErrInput, n)
		}
		seen[n] = true
	}
	// A scan of a million rows: in parallel blocks, the first infinite
	// value of the earliest block reported.
	bad := make([]int, parallel.Workers())
	for w := range bad {
		bad[w] = -1
	}
	parallel.Blocks(len(s.X), 1<<16, func(w, lo, hi int) {
		for i := lo; i < hi; i++ {
			if math.IsInf(s.X[i], 0) {
				bad[w] = i
				return
			}
		}
	})
	for _, i := range bad {
		if i >= 0 {
			return fmt.Errorf("%w: column %q row %d is %v", ErrInput, s.Names[i%c], i/c, s.X[i])
		}
	}
	for i, v := range s.Scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: score %d is %v", ErrInput, i, v)
		}
	}
	return nil
}

// column copies column j of s into buf (len s.Rows) and returns it.
func (s Sample) column(j int, buf []float64) []float64 {
	c := len(s.Names)
	for i := range buf {
		buf[i] = s.X[i*c+j]
	}
	return buf
}

// dist is one variable's distribution over fixed bins: shares[b] is the
// share of all values in bin b (edges as in metrics.QuantileEdges), missing
// the share of NaN, so the shares and missing sum to 1.
type dist struct {
	edges   []float64
	shares  []float64
	missing float64
}

// capture bins values by their own quantiles. The edges come from the known
// values only, so a column that is often missing still gets its bins spread
// over the values it has.
func capture(values []float64, bins int) dist {
	known := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			known = append(known, v)
		}
	}
	edges := []float64{} // not nil, so the JSON says [] rather than null
	if len(known) > 0 {  // QuantileEdges needs at least one value
		edges = append(edges, metrics.QuantileEdges(known, bins)...)
	}
	return against(values, edges)
}

// against bins values by stored edges. metrics has no exported helper for
// this (PSI recomputes the edges from its expected sample and refuses NaN),
// so the binning is repeated here with metrics' rule, closed on the right;
// TestMatchesMetricsPSI keeps the two in step.
func against(values, edges []float64) dist {
	d := dist{edges: edges, shares: make([]float64, len(edges)+1)}
	for _, v := range values {
		if math.IsNaN(v) {
			d.missing++
			continue
		}
		b, _ := slices.BinarySearch(edges, v)
		d.shares[b]++
	}
	n := float64(len(values))
	for b := range d.shares {
		d.shares[b] /= n
	}
	d.missing /= n
	return d
}

// share returns the share of bin b, b == len(shares) being the missing bin.
func (d dist) share(b int) float64 {
	if b == len(d.shares) {
		return d.missing
	}
	return d.shares[b]
}

// psi is metrics.PSI's sum over the bins of ref and cur plus the missing
// bin, each share floored at metrics.PSIEpsilon so that an empty bin costs a
// large but finite amount.
func psi(ref, cur dist) float64 {
	var total float64
	for b := range len(ref.shares) + 1 {
		e := max(ref.share(b), metrics.PSIEpsilon)
		a := max(cur.share(b), metrics.PSIEpsilon)
		total += (a - e) * math.Log(a/e)
	}
	return total
}

// moved returns the bin whose share changed most. It is what the summary
// names, rather than the bin with the largest PSI term, because the largest
// term is often a bin that emptied, and "fewer rows at or below 2" says less
// than "more rows above 8", where the rows went.
func moved(ref, cur dist) int {
	worst, most := 0, -1.0
	for b := range len(ref.shares) + 1 {
		if d := math.Abs(cur.share(b) - ref.share(b)); d > most {
			worst, most = b, d
		}
	}
	return worst
}

// Reference is the distribution of every input column and of the score at
// training time, against which later samples are compared. Build it with
// Capture or decode it from JSON; the zero value is not usable.
type Reference struct {
	bins    int
	rows    int
	scores  int
	names   []string
	columns []dist
	score   dist
}

// Capture records the reference distributions of s, in bins quantile bins
// per column (0 means DefaultBins; ties may merge bins, see
// metrics.QuantileEdges) plus a bin for missing values. Scores must not be
// NaN: a model that cannot score a row should say so, not hide it in drift.
func Capture(s Sample, bins int) (*Reference, error) {
	if bins == 0 {
		bins = DefaultBins
	}
	if bins < 1 {
		return nil, fmt.Errorf("%w: %d bins", ErrInput, bins)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	r := &Reference{bins: bins, rows: s.Rows, scores: len(s.Scores), names: slices.Clone(s.Names)}
	buf := make([]float64, s.Rows)
	for j := range s.Names {
		r.columns = append(r.columns, capture(s.column(j, buf), bins))
	}
	r.score = capture(s.Scores, bins)
	return r, nil
}

// Names returns the reference's column names in order: a sample passed to
// Compare must have exactly these.
func (r *Reference) Names() []string { return slices.Clone(r.names) }

// Rows returns the number of training rows the reference was captured from.
func (r *Reference) Rows() int { return r.rows }

// Bins returns the number of quantile bins asked for per column; a column
// with heavy ties uses fewer.
func (r *Reference) Bins() int { return r.bins }

type distJSON struct {
	Edges   []float64 `json:"edges"`
	Shares  []float64 `json:"shares"`
	Missing float64   `json:"missing"`
}

type columnJSON struct {
	Name    string    `json:"name"`
	Edges   []float64 `json:"edges"`
	Shares  []float64 `json:"shares"`
	Missing float64   `json:"missing"`
}

type referenceJSON struct {
	Version string       `json:"version"`
	Bins    int          `json:"bins"`
	Rows    int          `json:"rows"`
	Scores  int          `json:"scores"`
	Columns []columnJSON `json:"columns"`
	Score   distJSON     `json:"score"`
}

// MarshalJSON encodes the reference with its version. It has a value
// receiver so a Reference held by value inside a model artifact is still
// encoded through it.
func (r Reference) MarshalJSON() ([]byte, error) {
	if r.rows == 0 {
		return nil, fmt.Errorf("%w: the reference was never captured", ErrSchema)
	}
	w := referenceJSON{Version: Version, Bins: r.bins, Rows: r.rows, Scores: r.scores, Columns: []columnJSON{},
		Score: distJSON{Edges: r.score.edges, Shares: r.score.shares, Missing: r.score.missing}}
	for j, d := range r.columns {
		w.Columns = append(w.Columns, columnJSON{Name: r.names[j], Edges: d.edges, Shares: d.shares, Missing: d.missing})
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a reference written by MarshalJSON. It refuses
// another version, unknown fields, and shapes Capture cannot produce (edges
// not increasing, shares negative or not summing to 1, a missing share for
// the score), so a damaged artifact fails at load rather than as a false
// alarm. Errors wrap ErrSchema.
func (r *Reference) UnmarshalJSON(data []byte) error {
	// The version is read leniently first so that a newer reference is
	// refused for its version, not for the first field this build lacks.
	// json.Unmarshal also refuses data after the reference.
	var head struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if head.Version != Version {
		return fmt.Errorf("%w: version %q, this build reads %q", ErrSchema, head.Version, Version)
	}
	var w referenceJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	switch {
	case w.Bins < 1:
		return fmt.Errorf("%w: %d bins", ErrSchema, w.Bins)
	case w.Rows < 1:
		return fmt.Errorf("%w: %d rows", ErrSchema, w.Rows)
	case w.Scores < 1:
		return fmt.Errorf("%w: %d scores", ErrSchema, w.Scores)
	}
	got := Reference{bins: w.Bins, rows: w.Rows, scores: w.Scores, names: []string{}}
	seen := make(map[string]bool, len(w.Columns))
	for j, c := range w.Columns {
		if c.Name == "" {
			return fmt.Errorf("%w: column %d has no name", ErrSchema, j)
		}
		if seen[c.Name] {
			return fmt.Errorf("%w: column %q appears twice", ErrSchema, c.Name)
		}
		seen[c.Name] = true
		d, err := checkDist(distJSON{Edges: c.Edges, Shares: c.Shares, Missing: c.Missing}, w.Bins)
		if err != nil {
			return fmt.Errorf("%w: column %q: %w", ErrSchema, c.Name, err)
		}
		got.names = append(got.names, c.Name)
		got.columns = append(got.columns, d)
	}
	d, err := checkDist(w.Score, w.Bins)
	if err != nil {
		return fmt.Errorf("%w: score: %w", ErrSchema, err)
	}
	if d.missing != 0 {
		return fmt.Errorf("%w: score: missing share %v, scores are never missing", ErrSchema, d.missing)
	}
	got.score = d
	*r = got
	return nil
}

func checkDist(w distJSON, bins int) (dist, error) {
	switch {
	case len(w.Shares) == 0:
		return dist{}, errors.New("no shares")
	case len(w.Shares) != len(w.Edges)+1:
		return dist{}, fmt.Errorf("%d edges and %d shares, want one share more than edges", len(w.Edges), len(w.Shares))
	case len(w.Shares) > bins:
		return dist{}, fmt.Errorf("%d shares for %d bins", len(w.Shares), bins)
	case !(w.Missing >= 0 && w.Missing <= 1):
		return dist{}, fmt.Errorf("missing share %v outside [0, 1]", w.Missing)
	}
	for i, e := range w.Edges {
		if math.IsInf(e, 0) || math.IsNaN(e) || (i > 0 && !(e > w.Edges[i-1])) {
			return dist{}, fmt.Errorf("edges %v are not increasing finite values", w.Edges)
		}
	}
	sum := w.Missing
	for _, s := range w.Shares {
		if !(s >= 0 && s <= 1) {
			return dist{}, fmt.Errorf("share %v outside [0, 1]", s)
		}
		sum += s
	}
	if math.Abs(sum-1) > shareTolerance {
		return dist{}, fmt.Errorf("shares and missing sum to %v, want 1", sum)
	}
	edges := w.Edges
	if edges == nil {
		edges = []float64{}
	}
	return dist{edges: edges, shares: w.Shares, missing: w.Missing}, nil
}
