package gbdt

// split is the best way found to divide a node.
type split struct {
	feature     int   // -1 when no split passed the constraints
	bin         uint8 // value bins 1..bin go left
	defaultLeft bool  // where missing values go
	gain        float64
	gl, hl      float64 // left child sums
	gr, hr      float64 // right child sums
}

// splitRules carries the constraints every candidate must meet.
type splitRules struct {
	lambda, gamma, minChild float64
}

// score is a node's contribution to the objective reduction, G²/(H+λ);
// XGBoost measures gain (and Gamma) on this same scale.
func (s splitRules) score(g, h float64) float64 {
	return g * g / (h + s.lambda)
}

// weight is the Newton step of a leaf, before the learning rate.
func (s splitRules) weight(g, h float64) float64 {
	if h+s.lambda <= 0 {
		return 0
	}
	return -g / (h + s.lambda)
}

// bestSplit scans the histograms of feats for the split with the largest
// gain. Each threshold is tried with missing values on the left and on the
// right, which is how the default direction is learned; the last threshold
// (all values left, missing right) is the present-versus-missing split.
// Ties go to the earlier feature and lower bin, so the result is
// deterministic.
func (s splitRules) bestSplit(h histogram, feats []int, bins []int, g, hs float64) split {
	best := split{feature: -1, gain: s.gamma}
	for _, f := range feats {
		best = s.better(best, s.bestSplitOn(h, f, bins[f], g, hs))
	}
	return s.final(best)
}

// better returns the better of best so far and c, the best split of a later
// feature: ties go to the earlier, so combining features' best splits in
// order picks what one scan over all of them would.
func (s splitRules) better(best, c split) split {
	if c.feature >= 0 && c.gain > best.gain {
		return c
	}
	return best
}

// final turns a best split that does not reduce the loss into no split.
func (s splitRules) final(best split) split {
	if best.feature >= 0 && best.gain <= 0 {
		best.feature = -1
	}
	return best
}

// bestSplitOn is bestSplit for feature f alone, which has nb bins; its
// result still needs final.
func (s splitRules) bestSplitOn(h histogram, f, nb int, g, hs float64) split {
	best := split{feature: -1, gain: s.gamma}
	parent := s.score(g, hs)
	// A child with (almost) no hessian is floating-point residue of the
	// histogram subtraction, not rows.
	minH := max(s.minChild, hs*1e-10)
	try := func(b int, defaultLeft bool, gl, hl float64) {
		gr, hr := g-gl, hs-hl
		if hl < minH || hr < minH || hl <= 0 || hr <= 0 {
			return
		}
		gain := s.score(gl, hl) + s.score(gr, hr) - parent
		if gain > best.gain {
			best = split{feature: f, bin: uint8(b), defaultLeft: defaultLeft, gain: gain, gl: gl, hl: hl, gr: gr, hr: hr}
		}
	}
	fh := h.feature(f)
	miss := fh[missingBin]
	hasMissing := miss.h > 0
	var gl, hl float64
	for b := 1; b < nb; b++ {
		gl += fh[b].g
		hl += fh[b].h
		if b < nb-1 || hasMissing {
			try(b, false, gl, hl)
		}
		if hasMissing && b < nb-1 {
			try(b, true, gl+miss.g, hl+miss.h)
		}
	}
	return best
}
