// Package scoring holds the customer ranking models: the probability that
// an invoice is paid late (and so, per customer, who needs a collector
// first), the expected days to pay, and the reasons behind each score.
//
// The method is chosen on the evidence, per training run: a logistic
// regression and gradient-boosted trees are both fitted on the older part
// of the training rows, blended in log-odds with the weight that scores best
// on the newest part (a time-based validation), and then refitted on all
// rows. Logistic regression wins on small, smooth problems (the IBM file);
// trees win where interactions matter (the UCI file); the blend is never
// worse on the validation rows than either alone, since weights 0 and 1 are
// among the candidates.
//
// The classifier's linear part is scikit-learn's pipeline (mean
// imputation, standardisation, L2 logistic regression) plus a 0/1 column
// per pattern of missing values, so a customer's first invoice is not
// scored as if its history were average (missingFlags). On the IBM file
// the flags lower the validation log loss at every blend weight below
// trees alone.
package scoring

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/recoup-dev/recoup/shared/learn/gbdt"
	"github.com/recoup-dev/recoup/shared/learn/linear"
	"github.com/recoup-dev/recoup/shared/learn/parallel"
)

// ErrData marks training data the models cannot learn from.
var ErrData = errors.New("scoring: unusable training data")

// Matrix is a row-major feature matrix with its column names. Rows are in
// time order: the newest rows validate the blend.
type Matrix struct {
	X     []float64
	Rows  int
	Names []string
}

// Row returns row i.
func (m Matrix) Row(i int) []float64 { c := len(m.Names); return m.X[i*c : (i+1)*c] }

func (m Matrix) slice(from, to int) Matrix {
	c := len(m.Names)
	return Matrix{X: m.X[from*c : to*c], Rows: to - from, Names: m.Names}
}

// Options tune training. The zero value is the default.
type Options struct {
	// Validation is the newest share of the rows that chooses the blend
	// weight and the number of trees (default 0.2).
	Validation float64
	// Trees are the boosting parameters; the zero value means
	// DefaultTrees for the objective.
	Trees *gbdt.Params
	// Seed makes training reproducible.
	Seed uint64
	// Weight, when set, fixes the trees' share of the blend instead of
	// choosing it on the validation rows (0 is the linear model alone).
	Weight *float64
}

// DefaultTrees are the boosting settings: small learning rate, shallow
// trees, row and column sampling, early stopping on the validation rows.
// They are the settings commonly used for tabular data of this size, set
// once, not tuned on any test split.
func DefaultTrees(obj gbdt.Objective) gbdt.Params {
	p := gbdt.DefaultParams(obj)
	p.Trees, p.LearningRate, p.MaxDepth = 1000, 0.05, 4
	p.Subsample, p.ColSample, p.EarlyStopping = 0.8, 0.8, 50
	return p
}

func (o Options) validation() float64 {
	if o.Validation <= 0 || o.Validation >= 1 {
		return 0.2
	}
	return o.Validation
}

func (o Options) trees(obj gbdt.Objective) gbdt.Params {
	p := DefaultTrees(obj)
	if o.Trees != nil {
		p = *o.Trees
		p.Objective = obj
	}
	if o.Seed != 0 {
		p.Seed = o.Seed
	}
	return p
}

// blend is a linear model and trees combined: for a classifier in
// log-odds, for a regressor in the target's units.
type blend struct {
	names []string
	used  []int // columns with information in training; the rest are ignored
	// flags are the used columns whose missing values the classifier's
	// linear part sees as a 0/1 column of its own (see missingFlags);
	// flagBase is each flag's contribution when the value is present.
	flags    []int
	flagBase []float64
	weight   float64
	logit    *linear.Logistic
	ols      *linear.Regression
	trees    *gbdt.Model
	classif  bool
}

// Report says how a model was chosen.
type Report struct {
	Rows, ValidationRows int
	// Weight is the trees' share of the blend chosen on the validation
	// rows; Trees is how many the refit used.
	Weight float64
	Trees  int
	// Validation holds the validation score of each candidate weight
	// (log loss for a classifier, mean absolute error for a regressor).
	Validation map[string]float64
	Ignored    []string // columns constant or entirely missing in training
	Elapsed    time.Duration
}

// informative are the columns with at least two distinct values in
// training; a constant or all-missing column cannot be learned from, and
// the linear model's standardiser would divide by zero on it.
func informative(m Matrix) (used []int, ignored []string) {
	c := len(m.Names)
	for j := range c {
		first, varies := math.NaN(), false
		for i := range m.Rows {
			v := m.X[i*c+j]
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(first) {
				first = v
			} else if v != first {
				varies = true
				break
			}
		}
		if varies {
			used = append(used, j)
		} else {
			ignored = append(ignored, m.Names[j])
		}
	}
	return used, ignored
}

// missingFlags chooses the used columns whose missingness the linear
// part reads as a column of its own: those missing in some training rows
// and not all, one per distinct pattern of missing rows (a customer with
// no payment history lacks every history column at once, and one flag
// says so). Imputing the mean alone reads "unknown" as "average"; for a
// customer's first invoice that is a guess, and the flag lets the model
// learn what being new is worth. Only the classifier gets flags: its L2
// penalty makes a flag that duplicates other columns harmless, where the
// regressor's least squares would refuse it as collinear.
func missingFlags(m Matrix, used []int) []int {
	c := len(m.Names)
	missing := func(i, j int) bool { return math.IsNaN(m.X[i*c+j]) }
	// Patterns are compared on the matrix itself rather than kept as row
	// lists: at a million rows a list per column would be megabytes each.
	samePattern := func(j, f int) bool {
		for i := range m.Rows {
			if missing(i, j) != missing(i, f) {
				return false
			}
		}
		return true
	}
	var flags []int
	for _, j := range used {
		n := 0
		for i := range m.Rows {
			if missing(i, j) {
				n++
			}
		}
		if n == 0 || n == m.Rows || slices.ContainsFunc(flags, func(f int) bool { return samePattern(j, f) }) {
			continue
		}
		flags = append(flags, j)
	}
	return flags
}

// flagName names a missing flag in the linear part; the parentheses keep
// it apart from any feature name.
func flagName(feature string) string { return "missing(" + feature + ")" }

// linearNames are the linear part's columns: the used features, then the
// flags.
func linearNames(names []string, used, flags []int) []string {
	out := make([]string, 0, len(used)+len(flags))
	for _, j := range used {
		out = append(out, names[j])
	}
	for _, j := range flags {
		out = append(out, flagName(names[j]))
	}
	return out
}

// linearRow appends the linear part's inputs for a full-width row to x.
func linearRow(x, row []float64, used, flags []int) []float64 {
	for _, j := range used {
		x = append(x, row[j])
	}
	for _, j := range flags {
		v := 0.0
		if math.IsNaN(row[j]) {
			v = 1
		}
		x = append(x, v)
	}
	return x
}

func project(m Matrix, used, flags []int) linear.Data {
	d := linear.Data{X: make([]float64, 0, m.Rows*(len(used)+len(flags))), Rows: m.Rows, Cols: len(used) + len(flags),
		Names: linearNames(m.Names, used, flags)}
	for i := range m.Rows {
		d.X = linearRow(d.X, m.Row(i), used, flags)
	}
	return d
}

// checkMatrix refuses what no model can learn from, naming the problem.
func checkMatrix(m Matrix, y []float64, classif bool) error {
	c := len(m.Names)
	switch {
	case c == 0:
		return fmt.Errorf("%w: no feature columns", ErrData)
	case len(m.X) != m.Rows*c:
		return fmt.Errorf("%w: %d values for %d rows of %d columns", ErrData, len(m.X), m.Rows, c)
	case len(y) != m.Rows:
		return fmt.Errorf("%w: %d labels for %d rows", ErrData, len(y), m.Rows)
	case m.Rows < MinRows:
		return fmt.Errorf("%w: %d rows, need at least %d", ErrData, m.Rows, MinRows)
	}
	for i, v := range m.X {
		if math.IsInf(v, 0) {
			return fmt.Errorf("%w: row %d, column %s is infinite", ErrData, i/c, m.Names[i%c])
		}
	}
	var pos int
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: row %d: label %v is not a finite number", ErrData, i, v)
		}
		if classif {
			if v != 0 && v != 1 {
				return fmt.Errorf("%w: row %d: label %v is not 0 or 1", ErrData, i, v)
			}
			pos += int(v)
		}
	}
	if classif && (pos == 0 || pos == len(y)) {
		return fmt.Errorf("%w: every label is %v: a single class cannot be ranked", ErrData, y[0])
	}
	return nil
}

// MinRows is the fewest training rows accepted: below it the validation
// slice is too small to choose anything on.
const MinRows = 100

// fitBlend chooses the blend on the newest rows and refits on all.
func fitBlend(m Matrix, y []float64, opts Options, classif bool) (*blend, Report, error) {
	start := time.Now()
	if err := checkMatrix(m, y, classif); err != nil {
		return nil, Report{}, err
	}
	used, ignored := informative(m)
	if len(used) == 0 {
		return nil, Report{}, fmt.Errorf("%w: every feature is constant or missing in training", ErrData)
	}
	nv := int(math.Round(float64(m.Rows) * opts.validation()))
	nf := m.Rows - nv
	if classif {
		if err := checkMatrix(m.slice(0, nf), y[:nf], true); err != nil {
			return nil, Report{}, fmt.Errorf("the older %d rows: %w", nf, err)
		}
	}
	obj := gbdt.SquaredError
	if classif {
		obj = gbdt.Logistic
	}
	rep := Report{Rows: m.Rows, ValidationRows: nv, Ignored: ignored, Validation: map[string]float64{}}

	// Stage 1: fit on the older rows, score the newest.
	early, err := fitParts(m.slice(0, nf), y[:nf], &validSet{m.slice(nf, m.Rows), y[nf:]}, used, opts.trees(obj), classif, true, true)
	if err != nil {
		return nil, rep, err
	}
	lin, tr := make([]float64, nv), make([]float64, nv)
	for i := range nv {
		row := m.Row(nf + i)
		lin[i], tr[i] = early.linear(row), early.trees.Margin(row)
	}
	best := chooseWeight(lin, tr, y[nf:], classif, rep.Validation)
	if opts.Weight != nil {
		best = min(1, max(0, *opts.Weight))
	}
	rep.Weight = best

	// Stage 2: refit on every row with the chosen number of trees, scaled
	// to the larger training set as is usual after early stopping.
	p := opts.trees(obj)
	p.EarlyStopping = 0
	p.Trees = max(1, int(math.Round(float64(early.trees.NumTrees())*float64(m.Rows)/float64(nf))))
	// A part with no weight is not refitted: it would cost time and
	// contribute nothing.
	final, err := fitParts(m, y, nil, used, p, classif, best < 1, best > 0)
	if err != nil {
		return nil, rep, err
	}
	final.weight = best
	if final.trees != nil {
		rep.Trees = final.trees.NumTrees()
	}
	rep.Elapsed = time.Since(start)
	return final, rep, nil
}

type validSet struct {
	m Matrix
	y []float64
}

func fitParts(m Matrix, y []float64, valid *validSet, used []int, p gbdt.Params, classif, withLinear, withTrees bool) (*blend, error) {
	b := &blend{names: slices.Clone(m.Names), used: used, classif: classif}
	// The two learners are independent; on a few thousand rows neither
	// keeps both cores busy, so the linear model is fitted beside the
	// trees rather than before them.
	var linErr error
	var wg sync.WaitGroup
	if withLinear {
		wg.Go(func() { linErr = b.fitLinear(m, y) })
	}
	var treeErr error
	if withTrees {
		train := gbdt.Dataset{X: m.X, Rows: m.Rows, Cols: len(m.Names), Y: y, Names: m.Names}
		var vd *gbdt.Dataset
		if valid != nil {
			vd = &gbdt.Dataset{X: valid.m.X, Rows: valid.m.Rows, Cols: len(m.Names), Y: valid.y, Names: m.Names}
		}
		b.trees, _, treeErr = gbdt.Train(train, vd, p)
	}
	wg.Wait()
	if linErr != nil {
		return nil, fmt.Errorf("%w: linear model: %w", ErrData, linErr)
	}
	if treeErr != nil {
		return nil, fmt.Errorf("%w: trees: %w", ErrData, treeErr)
	}
	return b, nil
}

// fitLinear fits the blend's linear part on m's used columns and flags.
func (b *blend) fitLinear(m Matrix, y []float64) error {
	if b.classif {
		b.flags = missingFlags(m, b.used)
	}
	d := project(m, b.used, b.flags)
	d.Y = y
	var err error
	if b.classif {
		if b.logit, err = linear.FitLogistic(d, linear.LogisticConfig{Missing: linear.MissingImpute}); err == nil {
			b.setFlagBase()
		}
	} else {
		b.ols, err = linear.FitRegression(d, linear.RegressionConfig{Missing: linear.MissingImpute})
	}
	return err
}

// setFlagBase records each flag's contribution at 0 (the value present);
// the other inputs do not change it.
func (b *blend) setFlagBase() {
	if len(b.flags) == 0 {
		return
	}
	nl := len(b.used) + len(b.flags)
	lc := make([]float64, nl)
	b.logit.Contributions(make([]float64, nl), lc)
	b.flagBase = lc[len(b.used):]
}

// linear is the linear model's output on a full-width row: log-odds for
// a classifier, the target for a regressor.
func (b *blend) linear(row []float64) float64 {
	var buf [64]float64
	x := linearRow(buf[:0], row, b.used, b.flags)
	if b.classif {
		return b.logit.Margin(x)
	}
	return b.ols.Predict(x)
}

// output is the blend on a row: log-odds or the target. A part with no
// weight was not fitted and is not evaluated.
func (b *blend) output(row []float64) float64 {
	var v float64
	if b.weight < 1 {
		v = (1 - b.weight) * b.linear(row)
	}
	if b.weight > 0 {
		v += b.weight * b.trees.Margin(row)
	}
	return v
}

// outputs writes output of every row of m to out: the trees in parallel
// blocks, the linear part row by row (it is a dot product).
func (b *blend) outputs(m Matrix, out []float64) {
	if len(out) != m.Rows {
		panic(fmt.Sprintf("scoring: %d outputs for %d rows", len(out), m.Rows))
	}
	if b.weight > 0 {
		b.trees.MarginBatch(m.X, len(m.Names), out)
		for i := range out {
			out[i] *= b.weight
		}
	} else {
		clear(out)
	}
	if b.weight < 1 {
		parallel.Blocks(len(out), 4096, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] += (1 - b.weight) * b.linear(m.Row(i))
			}
		})
	}
}

// chooseWeight picks the trees' share of the blend by the one-standard-
// error rule: the smallest share whose validation loss is within one
// standard error of the best share's (paired, row by row). The linear
// model is the simpler of the two; on a validation slice of a few hundred
// rows the best share alone is mostly noise, and the rule keeps a share
// of trees only where the rows say it is worth it.
func chooseWeight(lin, tr, y []float64, classif bool, scores map[string]float64) float64 {
	const steps = 10
	losses := make([][]float64, steps+1)
	means := make([]float64, steps+1)
	bestK := 0
	for k := range steps + 1 {
		w := float64(k) / steps
		losses[k] = rowLosses(lin, tr, y, w, classif)
		means[k] = stat.Mean(losses[k], nil)
		scores[fmt.Sprintf("trees %.1f", w)] = means[k]
		if means[k] < means[bestK] {
			bestK = k
		}
	}
	for k := range bestK {
		d := make([]float64, len(y))
		for i := range d {
			d[i] = losses[k][i] - losses[bestK][i]
		}
		m := stat.Mean(d, nil)
		var ss float64
		for _, v := range d {
			ss += (v - m) * (v - m)
		}
		se := math.Sqrt(ss/float64(max(1, len(d)-1))) / math.Sqrt(float64(len(d)))
		if m <= se {
			return float64(k) / steps
		}
	}
	return float64(bestK) / steps
}

// rowLosses are the per-row log losses (classifier) or absolute errors
// (regressor) of the blend with trees' share w.
func rowLosses(lin, tr, y []float64, w float64, classif bool) []float64 {
	out := make([]float64, len(y))
	for i := range out {
		v := (1-w)*lin[i] + w*tr[i]
		if !classif {
			out[i] = math.Abs(v - y[i])
			continue
		}
		p := min(max(sigmoid(v), 1e-15), 1-1e-15)
		if y[i] == 1 {
			out[i] = -math.Log(p)
		} else {
			out[i] = -math.Log(1 - p)
		}
	}
	return out
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
