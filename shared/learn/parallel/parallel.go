// Package parallel splits row-wise work (features, predictions, reasons)
// into one contiguous block of rows per core: contiguous blocks keep each
// core on its own cache lines, and per-block scratch space needs no locks.
package parallel

import (
	"runtime"
	"sync"
)

// Blocks runs fn on rows [lo, hi) of n, one block per core, concurrently,
// and returns when all are done. Blocks are at least minBlock rows (so a
// small n runs on one goroutine without hand-off costs); w numbers the
// blocks from 0 and is always below Workers().
func Blocks(n, minBlock int, fn func(w, lo, hi int)) {
	k := min(Workers(), max(1, n/max(1, minBlock)))
	if k == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range k {
		lo, hi := w*n/k, (w+1)*n/k
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// Workers is the most blocks Blocks uses: the cores Go may run on.
func Workers() int { return runtime.GOMAXPROCS(0) }
