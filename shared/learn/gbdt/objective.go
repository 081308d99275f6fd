package gbdt

import "math"

// gpair is one row's gradient and hessian. float32 halves the memory the
// histogram passes stream, as in XGBoost; sums are kept in float64.
type gpair struct{ g, h float32 }

// minHessian keeps a saturated logistic row from carrying zero hessian, which
// would let a leaf of such rows divide by (almost) nothing.
const minHessian = 1e-16

// baseScore is the constant margin boosting starts from: the log-odds of the
// weighted mean label for Logistic, the weighted mean for SquaredError.
func baseScore(obj Objective, d *Dataset) float64 {
	var sy, sw float64
	for i, y := range d.Y {
		w := d.weight(i)
		sy += w * y
		sw += w
	}
	mean := sy / sw
	if obj == Logistic {
		return math.Log(mean / (1 - mean))
	}
	return mean
}

// sigmoid maps a margin to a probability without overflow.
func sigmoid(m float64) float64 {
	if m >= 0 {
		return 1 / (1 + math.Exp(-m))
	}
	e := math.Exp(m)
	return e / (1 + e)
}

// logBatch is how many factors 1+e, each in (1, 2], the loss sum multiplies
// before taking one logarithm: a Log per row was an eighth of training
// time, and 2^512 is far from overflowing.
const logBatch = 512

// evaluator computes the gradients and loss of one dataset. The costly
// per-row work (exp, divisions) runs in small blocks on every worker and
// leaves each row's loss terms in term and onePlusE; a second pass sums them
// in binChunk chunks and row order, so the loss does not depend on
// scheduling.
type evaluator struct {
	obj Objective
	d   *Dataset
	// term is each row's weighted loss, except for unweighted Logistic,
	// where it is the linear part max(m,0) - y·m and onePlusE holds the
	// factor 1+exp(-|m|) whose logarithm completes the loss.
	term, onePlusE []float64
}

func newEvaluator(obj Objective, d *Dataset) *evaluator {
	ev := &evaluator{obj: obj, d: d, term: make([]float64, d.Rows)}
	if obj == Logistic && d.W == nil {
		ev.onePlusE = make([]float64, d.Rows)
	}
	return ev
}

// update adds a tree's output to the margins pred, fills gh (when non-nil)
// with the gradients at the new margins and returns the weighted mean loss
// there. The tree may be nil (nothing to add); credits, when non-nil, say
// where grow left the sampled rows, and oob lists the others; without
// credits every row of bm, the dataset binned, is walked down the tree.
// Adding a block's outputs in the pass that computes its gradients, rather
// than leaf by leaf while the tree grows, saves a pass over pred and a
// handful of synchronisations per tree, and keeps two workers from writing
// the same cache lines of pred.
func (ev *evaluator) update(t *team, bm *binnedMatrix, tree []treeNode, credits []credit, oob []int32, pred []float64, gh []gpair) float64 {
	n := len(pred)
	var w *walker
	if tree != nil {
		w = newWalker(bm, tree)
	}
	// Every row's result is its own, so the block only balances the
	// workers; binChunk still fixes the order the loss is summed in.
	blk := t.block(n)
	t.run((n+blk-1)/blk, func(c int) {
		lo, hi := c*blk, min((c+1)*blk, n)
		switch {
		case w == nil:
		case credits != nil:
			creditRange(credits, pred, lo, hi)
			w.walkRows(pred, between(oob, lo, hi))
		default:
			w.walkRange(pred, lo, hi)
		}
		switch {
		case ev.obj != Logistic:
			ev.squaredRows(pred, gh, lo, hi)
		case ev.d.W == nil:
			ev.logisticRows(pred, gh, lo, hi)
		default:
			ev.weightedLogisticRows(pred, gh, lo, hi)
		}
	})
	chunks := (n + binChunk - 1) / binChunk
	lossSum := make([]float64, chunks)
	wSum := make([]float64, chunks)
	t.run(chunks, func(c int) {
		lossSum[c], wSum[c] = ev.sumChunk(c*binChunk, min((c+1)*binChunk, n))
	})
	var ls, ws float64
	for c := range lossSum {
		ls += lossSum[c]
		ws += wSum[c]
	}
	return ls / ws
}

// sumChunk returns the loss and weight sums of rows lo..hi-1.
func (ev *evaluator) sumChunk(lo, hi int) (ls, ws float64) {
	if ev.onePlusE == nil {
		for i := lo; i < hi; i++ {
			ls += ev.term[i]
			ws += ev.d.weight(i)
		}
		return ls, ws
	}
	prod, k := 1.0, 0
	for i := lo; i < hi; i++ {
		ls += ev.term[i]
		prod *= ev.onePlusE[i]
		if k++; k == logBatch {
			ls += math.Log(prod)
			prod, k = 1, 0
		}
	}
	// Every weight is 1, and a float64 counts rows exactly.
	return ls + math.Log(prod), float64(hi - lo)
}

// logistic returns, for margin m, e = exp(-|m|) and the probability
// p = 1/(1+e) (e/(1+e) for negative m), computed so neither overflows.
func logistic(m float64) (e, p float64) {
	e = math.Exp(-math.Abs(m))
	num := 1.0
	if m < 0 {
		num = e
	}
	return e, num / (1 + e)
}

// logisticLinear is the part max(m,0) - y·m of the logistic loss of margin
// m and label y; max(m,0) + log(1+exp(-|m|)) - y·m never overflows.
func logisticLinear(m, y float64) float64 {
	pos := 0.0
	if m > 0 {
		pos = m
	}
	return pos - y*m
}

// hessian is p(1-p), floored at minHessian.
func hessian(p float64) float64 {
	h := p * (1 - p)
	if h < minHessian {
		h = minHessian
	}
	return h
}

// logisticRows handles rows lo..hi-1 of unweighted Logistic.
func (ev *evaluator) logisticRows(pred []float64, gh []gpair, lo, hi int) {
	ys, term, ope := ev.d.Y[lo:hi], ev.term[lo:hi], ev.onePlusE[lo:hi]
	for k, m := range pred[lo:hi] {
		y := ys[k]
		e, p := logistic(m)
		term[k] = logisticLinear(m, y)
		ope[k] = 1 + e
		if gh != nil {
			gh[lo+k] = gpair{float32(p - y), float32(hessian(p))}
		}
	}
}

// weightedLogisticRows is logisticRows with weights.
func (ev *evaluator) weightedLogisticRows(pred []float64, gh []gpair, lo, hi int) {
	ys, ws, term := ev.d.Y[lo:hi], ev.d.W[lo:hi], ev.term[lo:hi]
	for k, m := range pred[lo:hi] {
		y, w := ys[k], ws[k]
		e, p := logistic(m)
		term[k] = w * (logisticLinear(m, y) + math.Log(1+e))
		if gh != nil {
			gh[lo+k] = gpair{float32((p - y) * w), float32(hessian(p) * w)}
		}
	}
}

// squaredRows handles rows lo..hi-1 of SquaredError; the loss is (m-y)².
func (ev *evaluator) squaredRows(pred []float64, gh []gpair, lo, hi int) {
	for i := lo; i < hi; i++ {
		r, w := pred[i]-ev.d.Y[i], ev.d.weight(i)
		ev.term[i] = w * r * r
		if gh != nil {
			gh[i] = gpair{float32(r * w), float32(w)}
		}
	}
}
