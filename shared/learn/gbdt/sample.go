package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
)

// sampler draws the rows and features of every tree. Each round, and each
// row chunk within a round, has its own PCG stream keyed by (Seed, round,
// chunk), so draws neither depend on earlier rounds nor on which goroutine
// samples which chunk.
type sampler struct {
	seed     uint64
	rowShare float64
	colShare float64
	chunkIn  []int   // sampled rows per chunk
	oob      []int32 // rows left out this round
	team     *team
}

func newSampler(p Params, rows int, t *team) *sampler {
	s := &sampler{seed: p.Seed, rowShare: p.Subsample, colShare: p.ColSample, team: t}
	if p.Subsample < 1 {
		s.chunkIn = make([]int, (rows+binChunk-1)/binChunk)
		s.oob = make([]int32, rows)
	}
	return s
}

// stream returns the generator for round and sub-stream k (0 for features,
// chunk+1 for row chunks).
func (s *sampler) stream(round, k int) *rand.Rand {
	return rand.New(s.pcg(round, k))
}

// pcg is the source behind stream(round, k), for loops that call it
// directly instead of through the Rand's interface.
func (s *sampler) pcg(round, k int) *rand.PCG {
	return rand.NewPCG(s.seed, uint64(round)<<32|uint64(k))
}

// rows fills idx with the rows of round's tree, each kept with probability
// rowShare (XGBoost's subsample), in ascending order, and returns how many
// plus the rows left out, also ascending.
func (s *sampler) rows(idx []int32, round int) (n int, oob []int32) {
	if s.rowShare >= 1 {
		for r := range idx {
			idx[r] = int32(r)
		}
		return len(idx), nil
	}
	rows := len(idx)
	// Each chunk packs its kept rows to the front of its own stretch of idx
	// and the others to the front of its stretch of oob, without a branch
	// (a row's fate is a coin flip to the CPU); the stretches are then slid
	// together in chunk order, each to at or before where it starts, so
	// none overwrites one not yet moved.
	s.team.run(len(s.chunkIn), func(c int) {
		src := s.pcg(round, c+1)
		lo, hi := c*binChunk, min((c+1)*binChunk, rows)
		in, out := idx[lo:hi], s.oob[lo:hi]
		k := 0
		for j := range in {
			r := int32(lo + j)
			in[k] = r
			out[j-k] = r
			// rand.Rand's Float64, spelled out.
			u := float64(src.Uint64()<<11>>11) / (1 << 53)
			k += int(b2i(u < s.rowShare))
		}
		s.chunkIn[c] = k
	})
	for c, k := range s.chunkIn {
		lo, hi := c*binChunk, min((c+1)*binChunk, rows)
		copy(idx[n:], idx[lo:lo+k])
		copy(s.oob[lo-n:], s.oob[lo:hi-k])
		n += k
	}
	return n, s.oob[:rows-n]
}

// features picks round(colShare × len(usable)) features, at least one,
// returned in ascending order.
func (s *sampler) features(usable []int, round int) []int {
	k := max(1, int(math.Round(s.colShare*float64(len(usable)))))
	if k >= len(usable) {
		return usable
	}
	rng := s.stream(round, 0)
	pool := slices.Clone(usable)
	for i := range k {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	picked := pool[:k]
	slices.Sort(picked)
	return picked
}

// walkNode is a treeNode reduced to routing a binned row, with a leaf made
// a node that sends every bin left to itself: a walk can then take the
// tree's depth in steps whatever leaf it reaches, without a branch.
type walkNode struct {
	col      []uint8 // the split feature's bins
	left     int32   // a leaf's own index
	missLeft int32   // 1 if missing values go left
	bin      uint8   // value bins 1..bin go left; 255 for a leaf
}

// walker routes the rows of a binned matrix down one tree.
type walker struct {
	nodes []walkNode
	value []float64 // each node's value
	depth int
}

func newWalker(bm *binnedMatrix, tree []treeNode) *walker {
	w := &walker{nodes: make([]walkNode, len(tree)), value: make([]float64, len(tree))}
	depth := make([]int, len(tree))
	for i, t := range tree {
		w.value[i] = t.value
		if t.feature < 0 {
			w.nodes[i] = walkNode{col: bm.col[0], left: int32(i), missLeft: 1, bin: 255}
			continue
		}
		w.nodes[i] = walkNode{col: bm.col[t.feature], left: t.left, missLeft: b2i(t.defaultLeft), bin: t.bin}
		// Children follow their parent, so a parent's depth is known first.
		depth[t.left], depth[t.left+1] = depth[i]+1, depth[i]+1
		w.depth = max(w.depth, depth[i]+1)
	}
	return w
}

// walkRange adds the tree's output to pred[lo:hi], walking bins so
// training never re-reads raw values. It moves a block of rows one level
// down before the next level rather than one row to its leaf before the
// next row: the rows' steps are then independent, and the CPU overlaps
// their loads instead of waiting on each in turn.
func (w *walker) walkRange(pred []float64, lo, hi int) {
	var buf [walkBlock]int32
	for ; lo < hi; lo += walkBlock {
		at := buf[:min(walkBlock, hi-lo)] // each row's node
		clear(at)
		for range w.depth {
			for k, i := range at {
				at[k] = w.step(i, int32(lo+k))
			}
		}
		for k, i := range at {
			pred[lo+k] += w.value[i]
		}
	}
}

// walkRows is walkRange for a list of rows, four at a time in lockstep.
func (w *walker) walkRows(pred []float64, rows []int32) {
	k := 0
	for ; k+4 <= len(rows); k += 4 {
		r0, r1, r2, r3 := rows[k], rows[k+1], rows[k+2], rows[k+3]
		var i0, i1, i2, i3 int32
		for range w.depth {
			i0 = w.step(i0, r0)
			i1 = w.step(i1, r1)
			i2 = w.step(i2, r2)
			i3 = w.step(i3, r3)
		}
		pred[r0] += w.value[i0]
		pred[r1] += w.value[i1]
		pred[r2] += w.value[i2]
		pred[r3] += w.value[i3]
	}
	for _, r := range rows[k:] {
		var i int32
		for range w.depth {
			i = w.step(i, r)
		}
		pred[r] += w.value[i]
	}
}

// step moves a walk at node i one level down for row r.
func (w *walker) step(i, r int32) int32 {
	nd := &w.nodes[i]
	b := nd.col[r]
	// Bin 0 (missing) wraps to 255, which no split's bin exceeds.
	left := b2i(b-1 < nd.bin) | b2i(b == missingBin)&nd.missLeft
	return nd.left + 1 - left
}

// walkBlock is the most rows walkRange walks at once.
const walkBlock = 2048

// between returns the part of rows (ascending) in lo..hi-1.
func between(rows []int32, lo, hi int) []int32 {
	if len(rows) == 0 || int(rows[0]) >= hi || int(rows[len(rows)-1]) < lo {
		return nil
	}
	a, _ := slices.BinarySearch(rows, int32(lo))
	b, _ := slices.BinarySearch(rows, int32(hi))
	return rows[a:b]
}

// creditRange adds the tree's output to pred for the sampled rows in
// lo..hi-1, from where grow left them.
func creditRange(credits []credit, pred []float64, lo, hi int) {
	for i := range credits {
		c := &credits[i]
		rows := between(c.rows, lo, hi)
		if c.col == nil {
			for _, r := range rows {
				pred[r] += c.value[0]
			}
			continue
		}
		for _, r := range rows {
			pred[r] += c.value[c.table[c.col[r]]]
		}
	}
}
