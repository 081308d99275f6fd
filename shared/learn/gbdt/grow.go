package gbdt

import "math"

// treeNode is one node of a trained tree. Children are stored next to each
// other (right = left+1), so a node needs one child index.
type treeNode struct {
	feature     int32 // split feature, or -1 for a leaf
	left        int32 // index of the left child within the tree
	bin         uint8 // training only: value bins 1..bin go left
	defaultLeft bool  // missing values go left
	threshold   float64
	value       float64 // learning rate × Newton weight; a leaf's output
	cover       float64 // hessian sum of the training rows that reached it
	gain        float64 // split gain (0 for a leaf)
}

// partChunk is the row block whose gradient sums make the root's; it fixes
// their summation order.
const partChunk = 16384

// grower grows one tree at a time over a binned training matrix, reusing its
// buffers across trees.
type grower struct {
	m       *binnedMatrix
	binners []binner
	bins    []int // bins per feature, the missing bin included
	rules   splitRules
	eta     float64
	depth   int
	pool    histPool
	team    *team

	// idx lists the rows of every open node, each node a contiguous segment;
	// ord holds their gradients in the same order so histogram passes read
	// them sequentially. The *2 buffers receive the next level's partition.
	idx, idx2 []int32
	ord, ord2 []gpair

	// credits says, after grow, which leaf every sampled row reached.
	credits []credit
}

// credit is a run of sampled rows that one tree sends to one leaf or, for a
// split just above the leaves, to one of its two leaves: the rows are never
// partitioned at the last level, so one routing step sorts them.
type credit struct {
	rows  []int32    // ascending
	col   []uint8    // the last split's feature's bins; nil for a leaf
	table [256]uint8 // 1 for bins that go left
	value [2]float64 // the right and left leaves' values; a leaf's twice
}

func newGrower(m *binnedMatrix, binners []binner, p Params, t *team) *grower {
	g := &grower{
		team:    t,
		m:       m,
		binners: binners,
		bins:    make([]int, len(binners)),
		rules:   splitRules{lambda: p.Lambda, gamma: p.Gamma, minChild: p.MinChildWeight},
		eta:     p.LearningRate,
		depth:   p.MaxDepth,
		pool:    histPool{size: 256 * len(binners)},
		idx:     make([]int32, m.rows),
		idx2:    make([]int32, m.rows),
		ord:     make([]gpair, m.rows),
		ord2:    make([]gpair, m.rows),
	}
	for f := range binners {
		g.bins[f] = binners[f].bins()
	}
	return g
}

// open is a node whose rows are still being partitioned.
type open struct {
	node       int // index in the tree
	start, end int // segment of idx
	g, h       float64
	hist       histogram
}

// grow fits one tree to gradients gh on the rows in g.idx[:n], splitting
// only on feats (ascending), and leaves in gr.credits where those rows
// ended up, for the caller to add the tree's output to their predictions
// without walking them down the tree. It grows depth-wise, as XGBoost does
// by default.
func (gr *grower) grow(gh []gpair, n int, feats []int) []treeNode {
	gr.credits = gr.credits[:0]
	chunks := (n + partChunk - 1) / partChunk
	gs, hs := make([]float64, chunks), make([]float64, chunks)
	gr.team.run(chunks, func(c int) {
		lo, hi := c*partChunk, min((c+1)*partChunk, n)
		var sg, sh float64
		for k := lo; k < hi; k++ {
			p := gh[gr.idx[k]]
			gr.ord[k] = p
			sg += float64(p.g)
			sh += float64(p.h)
		}
		gs[c], hs[c] = sg, sh
	})
	var g, h float64
	for c := range gs {
		g += gs[c]
		h += hs[c]
	}

	nodes := []treeNode{gr.leaf(g, h)}
	level := []open{{node: 0, start: 0, end: n, g: g, h: h, hist: gr.pool.get()}}
	gr.build(level, []int{0}, feats, nil)
	for depth := 0; depth < gr.depth && len(level) > 0; depth++ {
		splits := gr.bestSplits(level, feats)
		var next []open
		var splitting []int
		for i, s := range splits {
			o := &level[i]
			if s.feature < 0 {
				gr.pool.put(o.hist)
				o.hist = nil
				// Partitions only ever write other nodes' segments, so
				// these rows stay put while the tree grows on.
				v := nodes[o.node].value
				gr.credits = append(gr.credits, credit{rows: gr.idx[o.start:o.end], value: [2]float64{v, v}})
				continue
			}
			if o.hist.feature(s.feature)[missingBin].h <= 0 {
				// No missing values reached this node: send future ones
				// where most of the weight went.
				s.defaultLeft = s.hl >= s.hr
				splits[i] = s
			}
			nd := &nodes[o.node]
			nd.feature = int32(s.feature)
			nd.bin = s.bin
			nd.defaultLeft = s.defaultLeft
			nd.threshold = gr.threshold(s.feature, s.bin)
			nd.gain = s.gain
			nd.left = int32(len(nodes))
			nodes = append(nodes, gr.leaf(s.gl, s.hl), gr.leaf(s.gr, s.hr))
			splitting = append(splitting, i)
		}
		if len(splitting) == 0 {
			break
		}
		if depth+1 == gr.depth {
			// The children are leaves: no need to partition their rows.
			for _, i := range splitting {
				o := &level[i]
				gr.pool.put(o.hist)
				l := nodes[o.node].left
				gr.credits = append(gr.credits, credit{
					rows:  gr.idx[o.start:o.end],
					col:   gr.m.col[splits[i].feature],
					table: goLeft(&splits[i]),
					value: [2]float64{nodes[l+1].value, nodes[l].value},
				})
			}
			break
		}
		lefts := gr.partition(level, splits, splitting)
		var small, large []int // indices into next
		for j, i := range splitting {
			o, s := &level[i], &splits[i]
			nl := int(nodes[o.node].left)
			mid := o.start + lefts[j]
			next = append(next,
				open{node: nl, start: o.start, end: mid, g: s.gl, h: s.hl},
				open{node: nl + 1, start: mid, end: o.end, g: s.gr, h: s.hr})
			sm, lg := len(next)-2, len(next)-1
			if mid-o.start > o.end-mid {
				sm, lg = lg, sm
			}
			// The parent's histogram becomes the larger child's in place.
			next[sm].hist, next[lg].hist = gr.pool.get(), o.hist
			o.hist = nil
			small, large = append(small, sm), append(large, lg)
		}
		gr.build(next, small, feats, large)
		level = next
	}
	return nodes
}

// bestSplits returns the best split of every node of level. With fewer
// nodes than workers, the root above all, the search is split by feature
// as well, so it is shared between workers.
func (gr *grower) bestSplits(level []open, feats []int) []split {
	splits := make([]split, len(level))
	if len(level) >= len(gr.team.helpers)+1 {
		gr.team.run(len(level), func(i int) {
			o := &level[i]
			splits[i] = gr.rules.bestSplit(o.hist, feats, gr.bins, o.g, o.h)
		})
		return splits
	}
	nf := len(feats)
	byFeature := make([]split, len(level)*nf)
	gr.team.run(len(byFeature), func(t int) {
		o, f := &level[t/nf], feats[t%nf]
		byFeature[t] = gr.rules.bestSplitOn(o.hist, f, gr.bins[f], o.g, o.h)
	})
	for i := range splits {
		best := split{feature: -1, gain: gr.rules.gamma}
		for _, c := range byFeature[i*nf : (i+1)*nf] {
			best = gr.rules.better(best, c)
		}
		splits[i] = gr.rules.final(best)
	}
	return splits
}

// goLeft returns, for every bin, 1 if split s sends it left.
func goLeft(s *split) (t [256]uint8) {
	for b := 1; b <= int(s.bin); b++ {
		t[b] = 1
	}
	if s.defaultLeft {
		t[missingBin] = 1
	}
	return t
}

// segmentChunks cuts the segments of level[splitting[j]] into blocks,
// each tagged with j. The partition is stable, so the block size only
// balances the workers.
func (gr *grower) segmentChunks(level []open, splitting []int) []segChunk {
	n := 0
	for _, i := range splitting {
		n += level[i].end - level[i].start
	}
	blk := gr.team.block(n)
	var chunks []segChunk
	for j, i := range splitting {
		for lo := level[i].start; lo < level[i].end; lo += blk {
			chunks = append(chunks, segChunk{node: j, lo: lo, hi: min(lo+blk, level[i].end)})
		}
	}
	return chunks
}

// segChunk is a block of one node's segment, the unit of parallel work over
// rows.
type segChunk struct{ node, lo, hi, lefts int }

// leaf returns a node that, until split, predicts the shrunken Newton step.
func (gr *grower) leaf(g, h float64) treeNode {
	return treeNode{feature: -1, value: gr.eta * gr.rules.weight(g, h), cover: h}
}

// threshold is the raw-value cut equivalent to "bin <= b": the upper cut of
// bin b, or +Inf when b is the last value bin (the present-versus-missing
// split).
func (gr *grower) threshold(f int, b uint8) float64 {
	cuts := gr.binners[f].cuts
	if int(b) > len(cuts) {
		return math.Inf(1)
	}
	return cuts[b-1]
}

// featureGroups cuts feats into the groups of at most four features that
// build passes over together, as many as a multiple of the workers where
// that is possible: a node's groups then share the workers evenly.
func featureGroups(feats []int, workers int) [][]int {
	g := (len(feats) + 3) / 4
	if r := g % workers; r != 0 && g-r+workers <= len(feats) {
		g += workers - r
	}
	groups := make([][]int, g)
	for i := range groups {
		groups[i] = feats[i*len(feats)/g : (i+1)*len(feats)/g]
	}
	return groups
}

// build fills the histograms of nodes[which] for feats, one task per node
// and group of features, so every bin is summed by one goroutine in row
// order. With siblings, siblings[j] gets nodes[which[j]]'s sibling's
// histogram as the parent's (which it holds) minus nodes[which[j]]'s, in
// the same task while those bins are in cache.
func (gr *grower) build(nodes []open, which []int, feats []int, siblings []int) {
	groups := featureGroups(feats, len(gr.team.helpers)+1)
	gr.team.run(len(which)*len(groups), func(t int) {
		o := &nodes[which[t/len(groups)]]
		fs := groups[t%len(groups)]
		idx, ord := gr.idx[o.start:o.end], gr.ord[o.start:o.end]
		var h [4]*[256]hbin
		var c [4][]uint8
		for k, f := range fs {
			// Cleared through the slice, not through h[k]: the pointer's
			// nil check reads a fresh pool page before the clear writes
			// it, two page faults instead of one, which made deep trees
			// (many fresh histograms) train 1.7 times slower.
			clear(o.hist[f*256 : f*256+gr.bins[f]])
			h[k] = o.hist.feature(f)
			c[k] = gr.m.col[f]
		}
		switch len(fs) {
		case 1:
			accumulate(h[0], c[0], idx, ord)
		case 2:
			accumulatePair(h[0], h[1], c[0], c[1], idx, ord)
		case 3:
			accumulate3(h[0], h[1], h[2], c[0], c[1], c[2], idx, ord)
		default:
			accumulate4(h[0], h[1], h[2], h[3], c[0], c[1], c[2], c[3], idx, ord)
		}
		if siblings == nil {
			return
		}
		large := nodes[siblings[t/len(groups)]].hist
		for k, f := range fs {
			p := large.feature(f)
			subtract(p, p, h[k], gr.bins[f])
		}
	})
}

// partition splits the segments of the splitting nodes stably into left then
// right rows, in chunks counted then scattered in parallel, and returns each
// node's left count. Afterwards idx/ord hold the children's segments.
func (gr *grower) partition(level []open, splits []split, splitting []int) []int {
	tables := make([][256]uint8, len(splitting)) // 1 for bins that go left
	for j, i := range splitting {
		tables[j] = goLeft(&splits[i])
	}
	chunks := gr.segmentChunks(level, splitting)
	gr.team.run(len(chunks), func(c int) {
		ch := &chunks[c]
		col, table := gr.m.col[splits[splitting[ch.node]].feature], &tables[ch.node]
		n := 0
		for _, r := range gr.idx[ch.lo:ch.hi] {
			n += int(table[col[r]])
		}
		ch.lefts = n
	})
	lefts := make([]int, len(splitting))
	for _, ch := range chunks {
		lefts[ch.node] += ch.lefts
	}
	// Each chunk's destinations: its left rows after the earlier chunks'
	// left rows, its right rows after all left rows and earlier right rows.
	lpos, rpos := make([]int, len(chunks)), make([]int, len(chunks))
	nextL, nextR := make([]int, len(splitting)), make([]int, len(splitting))
	for j, i := range splitting {
		nextL[j] = level[i].start
		nextR[j] = level[i].start + lefts[j]
	}
	for c, ch := range chunks {
		lpos[c], rpos[c] = nextL[ch.node], nextR[ch.node]
		nextL[ch.node] += ch.lefts
		nextR[ch.node] += ch.hi - ch.lo - ch.lefts
	}
	gr.team.run(len(chunks), func(c int) {
		ch := &chunks[c]
		col, table := gr.m.col[splits[splitting[ch.node]].feature], &tables[ch.node]
		l, r := lpos[c], rpos[c]
		ord := gr.ord[ch.lo:ch.hi]
		// Branch-free: which side a row takes is a coin flip to the CPU.
		for k, row := range gr.idx[ch.lo:ch.hi] {
			left := int(table[col[row]])
			dst := r + (l-r)*left
			gr.idx2[dst] = row
			gr.ord2[dst] = ord[k]
			l += left
			r += 1 - left
		}
	})
	gr.idx, gr.idx2 = gr.idx2, gr.idx
	gr.ord, gr.ord2 = gr.ord2, gr.ord
	return lefts
}
