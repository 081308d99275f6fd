package gbdt

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/recoup-dev/recoup/shared/learn/schema"
)

// Model is a trained ensemble. It is immutable after Train or
// UnmarshalBinary and safe for concurrent use.
type Model struct {
	objective  Objective
	base       float64  // margin before any tree
	names      []string // feature names, one per column
	roots      []int32  // index of each tree's root in nodes
	depth      []int32  // each tree's depth (longest root-to-leaf path)
	nodes      []node   // every tree's nodes, a tree's children after it
	value      []float64
	cover      []float64
	gain       []float64
	importance []float64 // total gain per feature, derived from gain
}

// node is the part of a tree node that prediction touches, kept to 16 bytes
// so a few hundred trees stay in the CPU cache. The rest (value, cover, gain)
// sits in parallel slices.
//
// A leaf points to itself, with a NaN threshold and missing values sent
// "left": every test then keeps a walk where it is, so PredictBatch can take
// exactly depth steps for several rows in lockstep without checking for
// leaves, and the CPU overlaps the independent walks.
type node struct {
	threshold float64 // x < threshold goes left; +Inf splits present from missing
	feat      uint32  // feature index, with defaultLeft in the top bit
	left      int32   // absolute index of the left child (right is left+1); itself for a leaf
}

// defaultLeftBit marks, in node.feat, splits that send missing values left.
const defaultLeftBit = 1 << 31

// leafNode returns the self-loop that marks node i as a leaf.
func leafNode(i int32) node {
	return node{threshold: math.NaN(), feat: defaultLeftBit, left: i}
}

// isLeaf reports whether node i is a leaf.
func (m *Model) isLeaf(i int32) bool { return m.nodes[i].left == i }

// appendTree adds a tree grown by grower, rebasing child indices.
func (m *Model) appendTree(tree []treeNode) {
	base := int32(len(m.nodes))
	m.roots = append(m.roots, base)
	for i, t := range tree {
		n := leafNode(base + int32(i))
		if t.feature >= 0 {
			n = node{threshold: t.threshold, feat: uint32(t.feature), left: base + t.left}
			if t.defaultLeft {
				n.feat |= defaultLeftBit
			}
		}
		m.nodes = append(m.nodes, n)
		m.value = append(m.value, t.value)
		m.cover = append(m.cover, t.cover)
		m.gain = append(m.gain, t.gain)
	}
	m.depth = append(m.depth, m.treeDepth(base))
}

// treeDepth returns the longest path below node i (0 for a leaf). Children
// always follow their parent, so the recursion ends.
func (m *Model) treeDepth(i int32) int32 {
	if m.isLeaf(i) {
		return 0
	}
	l := m.nodes[i].left
	return 1 + max(m.treeDepth(l), m.treeDepth(l+1))
}

// truncate keeps the first k trees.
func (m *Model) truncate(k int) {
	if k >= len(m.roots) {
		return
	}
	end := m.roots[k]
	m.roots = m.roots[:k:k]
	m.depth = m.depth[:k:k]
	m.nodes = m.nodes[:end:end]
	m.value = m.value[:end:end]
	m.cover = m.cover[:end:end]
	m.gain = m.gain[:end:end]
}

// computeImportance sums split gains per feature.
func (m *Model) computeImportance() {
	m.importance = make([]float64, len(m.names))
	for i, n := range m.nodes {
		if !m.isLeaf(int32(i)) {
			m.importance[n.feat&^defaultLeftBit] += m.gain[i]
		}
	}
}

// step moves a walk at node i one level down for row; a leaf stays put.
func (m *Model) step(i int32, row []float64) int32 {
	n := &m.nodes[i]
	x := row[n.feat&^defaultLeftBit]
	if x != x {
		return n.left + int32(1-n.feat>>31)
	}
	// b2i compiles to SETcc: no branch for the CPU to mispredict.
	return n.left + b2i(x >= n.threshold)
}

// b2i converts a bool to 0 or 1.
func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// leaf returns the leaf tree t sends row to.
func (m *Model) leaf(t int, row []float64) int32 {
	i := m.roots[t]
	for range m.depth[t] {
		i = m.step(i, row)
	}
	return i
}

// schemaPanic reports a caller bug (a row of the wrong width) as a panic
// wrapping ErrSchema; rows are built from a fixed schema, which CheckSchema
// verifies once, so a mismatch here is a programming error.
func (m *Model) schemaPanic(what string, got int) {
	panic(fmt.Errorf("%w: %s has %d values, the model has %d features", ErrSchema, what, got, len(m.names)))
}

// Margin returns the raw score: log-odds for Logistic, the value for
// SquaredError. Row must hold NumFeatures values in training order (NaN for
// missing); it panics with an ErrSchema error otherwise.
func (m *Model) Margin(row []float64) float64 {
	if len(row) != len(m.names) {
		m.schemaPanic("row", len(row))
	}
	s := m.base
	for t := range m.roots {
		s += m.value[m.leaf(t, row)]
	}
	return s
}

// Predict returns the probability of label 1 for Logistic and the predicted
// value for SquaredError.
func (m *Model) Predict(row []float64) float64 {
	return m.link(m.Margin(row))
}

// link maps a margin to the objective's output scale.
func (m *Model) link(margin float64) float64 {
	if m.objective == Logistic {
		return sigmoid(margin)
	}
	return margin
}

// predictChunk is the rows per parallel task of PredictBatch: large enough to
// amortise a goroutine hand-off, small enough to balance the workers.
const predictChunk = 4096

// PredictBatch writes Predict of every row of x (row-major, cols per row) to
// out, in parallel over row blocks and without per-row allocation. It panics
// with an ErrSchema error if cols is not NumFeatures or len(x) is not
// len(out)×cols.
func (m *Model) PredictBatch(x []float64, cols int, out []float64) { m.batch(x, cols, out, true) }

// MarginBatch writes Margin of every row of x to out, as PredictBatch
// does, without the link: a caller blending margins would otherwise undo
// the sigmoid and lose precision at the extremes.
func (m *Model) MarginBatch(x []float64, cols int, out []float64) { m.batch(x, cols, out, false) }

func (m *Model) batch(x []float64, cols int, out []float64, link bool) {
	if cols != len(m.names) {
		m.schemaPanic("each row", cols)
	}
	if len(x) != len(out)*cols {
		panic(fmt.Errorf("%w: len(x) = %d, want len(out)×cols = %d×%d", ErrSchema, len(x), len(out), cols))
	}
	chunks := (len(out) + predictChunk - 1) / predictChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := w; c < chunks; c += workers {
				lo, hi := c*predictChunk, min((c+1)*predictChunk, len(out))
				m.predictRange(x, cols, out, lo, hi, link)
			}
		})
	}
	wg.Wait()
}

// predictRange predicts rows lo..hi-1 two trees at a time, so their nodes
// stay hot in cache across the block, walking four rows down both trees
// in lockstep: eight independent walks whose loads the CPU overlaps.
func (m *Model) predictRange(x []float64, cols int, out []float64, lo, hi int, link bool) {
	acc := out[lo:hi]
	for i := range acc {
		acc[i] = m.base
	}
	t := 0
	for ; t+2 <= len(m.roots); t += 2 {
		ra, rb := m.roots[t], m.roots[t+1]
		depth := max(m.depth[t], m.depth[t+1])
		k := 0
		for ; k+4 <= len(acc); k += 4 {
			at := (lo + k) * cols
			r0 := x[at : at+cols]
			r1 := x[at+cols : at+2*cols]
			r2 := x[at+2*cols : at+3*cols]
			r3 := x[at+3*cols : at+4*cols]
			i0, i1, i2, i3 := ra, ra, ra, ra
			j0, j1, j2, j3 := rb, rb, rb, rb
			for range depth {
				i0 = m.step(i0, r0)
				i1 = m.step(i1, r1)
				i2 = m.step(i2, r2)
				i3 = m.step(i3, r3)
				j0 = m.step(j0, r0)
				j1 = m.step(j1, r1)
				j2 = m.step(j2, r2)
				j3 = m.step(j3, r3)
			}
			// Added one tree at a time, in tree order, so a batch gives
			// exactly Predict's sums.
			acc[k] += m.value[i0]
			acc[k] += m.value[j0]
			acc[k+1] += m.value[i1]
			acc[k+1] += m.value[j1]
			acc[k+2] += m.value[i2]
			acc[k+2] += m.value[j2]
			acc[k+3] += m.value[i3]
			acc[k+3] += m.value[j3]
		}
		for ; k < len(acc); k++ {
			row := x[(lo+k)*cols : (lo+k+1)*cols]
			acc[k] += m.value[m.leaf(t, row)]
			acc[k] += m.value[m.leaf(t+1, row)]
		}
	}
	for ; t < len(m.roots); t++ {
		root := m.roots[t]
		depth := m.depth[t]
		k := 0
		for ; k+4 <= len(acc); k += 4 {
			at := (lo + k) * cols
			r0 := x[at : at+cols]
			r1 := x[at+cols : at+2*cols]
			r2 := x[at+2*cols : at+3*cols]
			r3 := x[at+3*cols : at+4*cols]
			i0, i1, i2, i3 := root, root, root, root
			for range depth {
				i0 = m.step(i0, r0)
				i1 = m.step(i1, r1)
				i2 = m.step(i2, r2)
				i3 = m.step(i3, r3)
			}
			acc[k] += m.value[i0]
			acc[k+1] += m.value[i1]
			acc[k+2] += m.value[i2]
			acc[k+3] += m.value[i3]
		}
		for ; k < len(acc); k++ {
			acc[k] += m.value[m.leaf(t, x[(lo+k)*cols:(lo+k+1)*cols])]
		}
	}
	if link {
		for i := range acc {
			acc[i] = m.link(acc[i])
		}
	}
}

// Contributions writes each feature's share of Margin(row) to out (length
// NumFeatures) and returns the bias, so that bias + sum(out) == Margin(row)
// up to rounding. Shares use Saabas path attribution: every split moves the
// expected value from the parent's weight to the child's and credits that
// change to the split feature. Rank reason codes by the shares; the bias is
// the part no feature explains (the base score plus every tree's root
// weight). It panics with an ErrSchema error on a row or out of the wrong
// width.
func (m *Model) Contributions(row []float64, out []float64) (bias float64) {
	if len(row) != len(m.names) {
		m.schemaPanic("row", len(row))
	}
	if len(out) != len(m.names) {
		m.schemaPanic("out", len(out))
	}
	clear(out)
	bias = m.base
	// Four trees walked in lockstep: the walks are independent, so the
	// CPU overlaps their loads instead of waiting on one path at a time.
	// Each takes the deepest of the four's steps: a leaf steps to itself
	// and adds value[i]-value[i] = 0 to feature 0.
	t := 0
	for ; t+4 <= len(m.roots); t += 4 {
		i0, i1, i2, i3 := m.roots[t], m.roots[t+1], m.roots[t+2], m.roots[t+3]
		bias += m.value[i0] + m.value[i1] + m.value[i2] + m.value[i3]
		depth := max(m.depth[t], m.depth[t+1], m.depth[t+2], m.depth[t+3])
		for range depth {
			c0, c1, c2, c3 := m.step(i0, row), m.step(i1, row), m.step(i2, row), m.step(i3, row)
			out[m.nodes[i0].feat&^defaultLeftBit] += m.value[c0] - m.value[i0]
			out[m.nodes[i1].feat&^defaultLeftBit] += m.value[c1] - m.value[i1]
			out[m.nodes[i2].feat&^defaultLeftBit] += m.value[c2] - m.value[i2]
			out[m.nodes[i3].feat&^defaultLeftBit] += m.value[c3] - m.value[i3]
			i0, i1, i2, i3 = c0, c1, c2, c3
		}
	}
	for ; t < len(m.roots); t++ {
		r := m.roots[t]
		bias += m.value[r]
		for i := r; !m.isLeaf(i); {
			child := m.step(i, row)
			out[m.nodes[i].feat&^defaultLeftBit] += m.value[child] - m.value[i]
			i = child
		}
	}
	return bias
}

// Objective returns the objective the model was trained for.
func (m *Model) Objective() Objective { return m.objective }

// Names returns a copy of the feature names, in the order rows must use.
func (m *Model) Names() []string { return append([]string(nil), m.names...) }

// NumFeatures returns the row width Margin, Predict and PredictBatch expect.
func (m *Model) NumFeatures() int { return len(m.names) }

// NumTrees returns the number of trees, after early stopping.
func (m *Model) NumTrees() int { return len(m.roots) }

// Importance returns a copy of the total split gain per feature (XGBoost's
// "total_gain"), a global ranking of what the model relies on; features never
// split on get 0.
func (m *Model) Importance() []float64 { return append([]float64(nil), m.importance...) }

// CheckSchema returns an ErrSchema error unless names are exactly the model's
// features in the model's order. Scoring code should call it once with the
// columns it builds rows from, so a reordered or renamed feature fails loudly
// instead of scoring every row with shifted inputs.
func (m *Model) CheckSchema(names []string) error {
	if err := schema.Compare(m.names, names, "model", "rows"); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return nil
}
