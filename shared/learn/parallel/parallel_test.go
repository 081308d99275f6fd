package parallel

import (
	"sync"
	"testing"
)

func TestBlocksCoverEveryRowOnce(t *testing.T) {
	for _, tc := range []struct{ n, minBlock int }{{0, 10}, {1, 10}, {9, 10}, {10, 1}, {1001, 7}, {100_000, 4096}, {5, 0}} {
		seen := make([]int, tc.n)
		var mu sync.Mutex
		sizes := map[int]int{} // block -> rows
		Blocks(tc.n, tc.minBlock, func(w, lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := sizes[w]; dup || w >= Workers() {
				t.Errorf("n %d: block %d used twice or beyond %d workers", tc.n, w, Workers())
			}
			sizes[w] = hi - lo
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n %d: row %d done %d times", tc.n, i, c)
			}
		}
		if len(sizes) > 1 {
			for w, rows := range sizes {
				if rows < tc.minBlock {
					t.Errorf("n %d: block %d of %d rows, below the minimum %d", tc.n, w, rows, tc.minBlock)
				}
			}
		}
	}
}
