package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// parallelFor runs fn(0..n-1) on up to GOMAXPROCS goroutines. Tasks must
// write disjoint outputs; results then do not depend on which goroutine ran
// which task, which is what keeps training deterministic. It suits one-off
// passes; the loops of every boosting round run on a team.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// spinFor is how long an idle goroutine of a team polls for the next loop
// before it blocks. A boosting round on a few thousand rows is two dozen
// loops of tens of microseconds each, separated by microseconds of serial
// work: waking a blocked thread for each would cost about as much as the
// loop itself and leave the second core idle for a third of the time.
const spinFor = 200 * time.Microsecond

// team runs the parallel loops of one Train call on the calling goroutine
// and GOMAXPROCS-1 helpers that live as long as the call. Between loops the
// helpers spin for a moment (yielding to other goroutines) instead of
// blocking, so a loop starts on every core at once. Like parallelFor, tasks
// must write disjoint outputs.
type team struct {
	cur     atomic.Pointer[job] // the latest loop; helpers watch it change
	helpers []*helper
	wg      sync.WaitGroup
}

// job is one loop. A fresh job per loop means a helper still looking at a
// finished loop finds no task left in it instead of racing with the next.
type job struct {
	n    int
	fn   func(int)
	next atomic.Int64 // next task to hand out
	done atomic.Int64 // tasks finished
	// finished is closed by the goroutine that finishes the last task, for
	// a caller that stopped spinning.
	finished chan struct{}
	stop     bool // the team is closing
}

// helper is one of a team's goroutines; sleeping and wake let the caller
// rouse it once it has stopped spinning and blocked.
type helper struct {
	sleeping atomic.Bool
	wake     chan struct{}
}

// newTeam starts a team; close must be called to stop its helpers.
func newTeam() *team {
	t := &team{}
	t.cur.Store(&job{})
	for range runtime.GOMAXPROCS(0) - 1 {
		h := &helper{wake: make(chan struct{}, 1)}
		t.helpers = append(t.helpers, h)
		t.wg.Go(func() { t.serve(h) })
	}
	return t
}

// close stops the helpers and waits for them to exit.
func (t *team) close() {
	t.publish(&job{stop: true})
	t.wg.Wait()
}

// publish makes j the current loop and wakes blocked helpers.
func (t *team) publish(j *job) {
	t.cur.Store(j)
	for _, h := range t.helpers {
		// Only a helper that announced it is blocking gets a token, so
		// tokens never pile up.
		if h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
}

// serve is a helper's life: take tasks of each new loop, then wait for the
// next one.
func (t *team) serve(h *helper) {
	var seen *job
	for {
		j := t.await(h, seen)
		if j.stop {
			return
		}
		seen = j
		j.work()
	}
}

// await returns the first loop other than seen, spinning for spinFor and then
// blocking.
func (t *team) await(h *helper, seen *job) *job {
	deadline := time.Now().Add(spinFor)
	for spins := 0; ; spins++ {
		if j := t.cur.Load(); j != seen {
			return j
		}
		if spins%64 == 63 && time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	// Announce the block, then look once more: a loop published before the
	// announcement was not seen by publish's CompareAndSwap.
	h.sleeping.Store(true)
	if j := t.cur.Load(); j != seen {
		if !h.sleeping.CompareAndSwap(true, false) {
			<-h.wake // publish took the announcement and sent a token
		}
		return j
	}
	<-h.wake
	return t.cur.Load()
}

// work runs tasks of j until none are left.
func (j *job) work() {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			return
		}
		j.fn(i)
		if j.done.Add(1) == int64(j.n) {
			close(j.finished)
		}
	}
}

// run runs fn(0..n-1) on the team and returns when all have finished. A
// single task runs on the caller without involving the helpers.
func (t *team) run(n int, fn func(i int)) {
	if n <= 1 || len(t.helpers) == 0 {
		for i := range n {
			fn(i)
		}
		return
	}
	j := &job{n: n, fn: fn, finished: make(chan struct{})}
	t.publish(j)
	j.work()
	deadline := time.Now().Add(spinFor)
	for spins := 0; j.done.Load() < int64(n); spins++ {
		if spins%64 == 63 && time.Now().After(deadline) {
			<-j.finished
			return
		}
		runtime.Gosched()
	}
}

// minBlock is the least rows per task of a team's passes over rows whose
// results do not depend on how the rows are divided.
const minBlock = 2048

// block returns the rows per task for such a pass over n rows: about 16
// tasks per worker, so a 16,384-row chunk does not leave one of two cores
// idle for a third of a pass over 24,000 rows, but at least minBlock rows
// (a multiple of it), so that per-task costs stay small on large data.
func (t *team) block(n int) int {
	per := n / (16 * (len(t.helpers) + 1))
	return max(minBlock, (per+minBlock-1)/minBlock*minBlock)
}
