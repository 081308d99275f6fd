package gbdt

// hbin accumulates the gradient and hessian of the rows in one bin.
type hbin struct{ g, h float64 }

// histogram holds one node's bins, 256 per feature so a byte indexes a
// feature's bins without a bounds check.
type histogram []hbin

// feature returns feature f's bins.
func (h histogram) feature(f int) *[256]hbin {
	return (*[256]hbin)(h[f*256 : (f+1)*256])
}

// accumulate adds the rows idx (with ordered gradients ord, ord[k] belonging
// to idx[k]) of one feature column to h. Rows arrive in ascending order, so
// the column is read front to back.
func accumulate(h *[256]hbin, col []uint8, idx []int32, ord []gpair) {
	ord = ord[:len(idx)]
	for k, r := range idx {
		b := col[r]
		h[b].g += float64(ord[k].g)
		h[b].h += float64(ord[k].h)
	}
}

// accumulatePair is accumulate for two features in one pass: row indices
// and gradients are loaded once for both, and the two histograms' updates are
// independent, which hides the latency of consecutive rows hitting the same
// bin. It is about 40% faster than two single passes.
func accumulatePair(h0, h1 *[256]hbin, c0, c1 []uint8, idx []int32, ord []gpair) {
	ord = ord[:len(idx)]
	for k, r := range idx {
		b0, b1 := c0[r], c1[r]
		g, h := float64(ord[k].g), float64(ord[k].h)
		h0[b0].g += g
		h0[b0].h += h
		h1[b1].g += g
		h1[b1].h += h
	}
}

// accumulate3 is accumulatePair for three features.
func accumulate3(h0, h1, h2 *[256]hbin, c0, c1, c2 []uint8, idx []int32, ord []gpair) {
	ord = ord[:len(idx)]
	for k, r := range idx {
		b0, b1, b2 := c0[r], c1[r], c2[r]
		g, h := float64(ord[k].g), float64(ord[k].h)
		h0[b0].g += g
		h0[b0].h += h
		h1[b1].g += g
		h1[b1].h += h
		h2[b2].g += g
		h2[b2].h += h
	}
}

// accumulate4 is accumulatePair for four features: loading each row index
// and gradient once for more features makes a histogram pass about a tenth
// faster than pairs on the UCI credit data.
func accumulate4(h0, h1, h2, h3 *[256]hbin, c0, c1, c2, c3 []uint8, idx []int32, ord []gpair) {
	ord = ord[:len(idx)]
	for k, r := range idx {
		b0, b1, b2, b3 := c0[r], c1[r], c2[r], c3[r]
		g, h := float64(ord[k].g), float64(ord[k].h)
		h0[b0].g += g
		h0[b0].h += h
		h1[b1].g += g
		h1[b1].h += h
		h2[b2].g += g
		h2[b2].h += h
		h3[b3].g += g
		h3[b3].h += h
	}
}

// subtract sets h to parent minus small for one feature: the larger child's
// histogram at the cost of a 256-bin loop instead of a pass over its rows.
func subtract(h, parent, small *[256]hbin, bins int) {
	for b := range bins {
		h[b] = hbin{parent[b].g - small[b].g, parent[b].h - small[b].h}
	}
}

// histPool recycles histograms between levels and trees; a fresh 80 KB
// allocation per node would keep the garbage collector busy.
type histPool struct {
	size int
	free []histogram
}

func (p *histPool) get() histogram {
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free = p.free[:n-1]
		return h
	}
	return make(histogram, p.size)
}

func (p *histPool) put(h histogram) {
	if h != nil {
		p.free = append(p.free, h)
	}
}
