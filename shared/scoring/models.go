package scoring

import (
	"slices"
)

// Classifier is a calibrated probability of a binary outcome, such as an
// invoice being paid late, with its reasons.
type Classifier struct{ b *blend }

// Regressor predicts a quantity, such as days to pay, with its reasons.
type Regressor struct{ b *blend }

// TrainClassifier fits a classifier on m (rows in time order) and y (0/1).
func TrainClassifier(m Matrix, y []float64, opts Options) (*Classifier, Report, error) {
	b, rep, err := fitBlend(m, y, opts, true)
	if err != nil {
		return nil, rep, err
	}
	return &Classifier{b}, rep, nil
}

// TrainRegressor fits a regressor on m (rows in time order) and y.
func TrainRegressor(m Matrix, y []float64, opts Options) (*Regressor, Report, error) {
	b, rep, err := fitBlend(m, y, opts, false)
	if err != nil {
		return nil, rep, err
	}
	return &Regressor{b}, rep, nil
}

// Predict is the probability for a row, always in [0,1].
func (c *Classifier) Predict(row []float64) float64 { return sigmoid(c.b.output(row)) }

// Predict is the prediction for a row.
func (r *Regressor) Predict(row []float64) float64 { return r.b.output(row) }

// PredictBatch writes the probability of every row of m to out (len
// m.Rows), the trees in parallel. It refuses rows of other features.
func (c *Classifier) PredictBatch(m Matrix, out []float64) error {
	if err := CheckSchema(c.b.names, m.Names); err != nil {
		return err
	}
	c.b.outputs(m, out)
	for i, v := range out {
		out[i] = sigmoid(v)
	}
	return nil
}

// PredictBatch writes the prediction for every row of m to out.
func (r *Regressor) PredictBatch(m Matrix, out []float64) error {
	if err := CheckSchema(r.b.names, m.Names); err != nil {
		return err
	}
	r.b.outputs(m, out)
	return nil
}

// Names are the feature names the model reads, in row order.
func (r *Regressor) Names() []string { return slices.Clone(r.b.names) }

// Used are the features the model learnt from; the others were constant
// or missing in training, and no value of theirs changes a prediction.
func (c *Classifier) Used() []string { return c.b.usedNames() }

// Used are the features the model learnt from.
func (r *Regressor) Used() []string { return r.b.usedNames() }

func (b *blend) usedNames() []string {
	out := make([]string, len(b.used))
	for i, j := range b.used {
		out[i] = b.names[j]
	}
	return out
}

// Names are the feature names the model reads, in row order.
func (c *Classifier) Names() []string { return slices.Clone(c.b.names) }

// Reason is one feature's push on a score: positive raises the log-odds
// (classifier) or the prediction (regressor).
type Reason struct {
	Feature string
	// Column is the feature's index in the row, so a caller can show its
	// value without looking the name up.
	Column int
	Effect float64
}

// Reasons are the k features that moved a row's output most, largest
// push first, from the blend of the linear model's and the trees'
// per-feature contributions.
func (c *Classifier) Reasons(row []float64, k int) []Reason { return c.b.reasons(row, k, nil) }

// ReasonsWith is Reasons reusing buf's scratch space, for scoring many
// rows; a buffer must not be shared between goroutines, and the result
// is valid until the buffer's next use.
func (c *Classifier) ReasonsWith(row []float64, k int, buf *ReasonBuffer) []Reason {
	return c.b.reasons(row, k, buf)
}

// PredictReasonsWith is Predict and ReasonsWith of one row in one pass:
// the per-feature contributions the reasons rank add up, with the
// models' biases, to the blend's log-odds, so the trees are walked once
// instead of twice. The probability equals Predict's up to rounding.
func (c *Classifier) PredictReasonsWith(row []float64, k int, buf *ReasonBuffer) (float64, []Reason) {
	rs, margin := c.b.reasonsAndOutput(row, k, buf)
	return sigmoid(margin), rs
}

// Reasons are the k features that moved a row's prediction most.
func (r *Regressor) Reasons(row []float64, k int) []Reason { return r.b.reasons(row, k, nil) }

// ReasonBuffer is scratch space for ReasonsWith.
type ReasonBuffer struct {
	total, tc, lc, x []float64
	taken            []bool
	out              []Reason
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (b *blend) reasons(row []float64, k int, buf *ReasonBuffer) []Reason {
	rs, _ := b.reasonsAndOutput(row, k, buf)
	return rs
}

// reasonsAndOutput returns the k strongest reasons and the blend's output
// (bias plus every contribution, both parts weighted).
func (b *blend) reasonsAndOutput(row []float64, k int, buf *ReasonBuffer) ([]Reason, float64) {
	if buf == nil {
		buf = &ReasonBuffer{}
	}
	n := len(b.names)
	buf.total, buf.tc = grow(buf.total, n), grow(buf.tc, n)
	nl := len(b.used) + len(b.flags)
	buf.lc, buf.x = grow(buf.lc, nl), linearRow(buf.x[:0], row, b.used, b.flags)
	total, tc, lc, x := buf.total, buf.tc, buf.lc, buf.x
	var treeBias, linBias float64
	if b.weight > 0 {
		treeBias = b.trees.Contributions(row, tc)
	}
	switch {
	case b.weight == 1: // no linear part
	case b.classif:
		linBias = b.logit.Contributions(x, lc)
	default:
		linBias = b.ols.Contributions(x, lc)
	}
	// A flag is measured from "not missing", not from its training mean
	// as the standardised columns are: a customer with a payment history
	// must not get a push on it for lacking nothing. Its value at 0 goes
	// to the bias, and a missing value's push is its feature's ("no
	// payment history yet").
	if b.weight < 1 {
		for f := range b.flags {
			linBias += b.flagBase[f]
		}
	}
	output := b.weight*treeBias + (1-b.weight)*linBias
	for j := range n {
		total[j] = b.weight * tc[j]
	}
	for i, j := range b.used {
		total[j] += (1 - b.weight) * lc[i]
	}
	if b.weight < 1 {
		for f, j := range b.flags {
			total[j] += (1 - b.weight) * (lc[len(b.used)+f] - b.flagBase[f])
		}
	}
	for _, v := range total {
		output += v
	}
	// Selection of the k largest pushes (k is a handful, n a few dozen):
	// cheaper than sorting every feature of every scored row. Ties keep
	// the feature order, so the result is deterministic.
	k = min(k, n)
	out := buf.out[:0]
	if cap(buf.taken) < n {
		buf.taken = make([]bool, n)
	}
	taken := buf.taken[:n]
	clear(taken)
	for range k {
		best := -1
		for j := range n {
			if !taken[j] && (best < 0 || abs(total[j]) > abs(total[best])) {
				best = j
			}
		}
		taken[best] = true
		out = append(out, Reason{Feature: b.names[best], Column: best, Effect: total[best]})
	}
	buf.out = out
	return out, output
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
