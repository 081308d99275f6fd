// Package writebacktest drives actions through a writeback.Deliverer the
// way the SQS consumer does — several workers, a failed delivery coming
// back after a backoff up to a last receive, a copy that finds another's
// lease waiting for it, some actions queued twice — without SQS, for the
// exactly-once test and the write-back bench.
package writebacktest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// Options shape a run.
type Options struct {
	Workers int
	// MaxReceives is the redrive's maxReceiveCount: that delivery is the
	// last (writeback.Attempt.Final).
	MaxReceives int
	// TwiceEvery queues every n-th action twice at once (0: none).
	TwiceEvery int
	// Timeout ends a run that has not settled.
	Timeout time.Duration
	// Progress, when set, is called every few seconds with the outcomes
	// so far.
	Progress func(elapsed time.Duration, outcomes map[writeback.Outcome]int)
}

// Result is what a run did.
type Result struct {
	Took time.Duration
	// Deliveries counts Deliver calls; Outcomes counts them by outcome.
	Deliveries int
	Outcomes   map[writeback.Outcome]int
	// Latency is, per confirmed action, the time from its first delivery
	// to its confirmation.
	Latency map[string]time.Duration
}

type delivery struct {
	a        erp.Action
	receives int
}

// Drive delivers actions until every copy has a final outcome. A retried
// delivery waits 5-25 ms, or as long as the lease it found has left.
func Drive(ctx context.Context, d *writeback.Deliverer, actions []erp.Action, opts Options) (Result, error) {
	res := Result{Outcomes: map[writeback.Outcome]int{}, Latency: map[string]time.Duration{}}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	queue := make(chan delivery, 2*len(actions))
	var pending sync.WaitGroup
	for i, a := range actions {
		pending.Add(1)
		queue <- delivery{a: a, receives: 1}
		if opts.TwiceEvery > 0 && i%opts.TwiceEvery == 0 {
			pending.Add(1)
			queue <- delivery{a: a, receives: 1}
		}
	}
	var mu sync.Mutex
	first := map[string]time.Time{}
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Now()
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() {
			for {
				var dl delivery
				select {
				case dl = <-queue:
				case <-stop:
					return
				}
				mu.Lock()
				if _, ok := first[dl.a.Key]; !ok {
					first[dl.a.Key] = time.Now()
				}
				res.Deliveries++
				mu.Unlock()
				got, err := d.Deliver(ctx, dl.a, writeback.Attempt{Final: dl.receives >= opts.MaxReceives})
				mu.Lock()
				res.Outcomes[got]++
				if got == writeback.Confirmed || got == writeback.Reconciled {
					res.Latency[dl.a.Key] = time.Since(first[dl.a.Key])
				}
				backoff := time.Duration(5+rng.IntN(20)) * time.Millisecond
				mu.Unlock()
				var busy *writeback.InProgressError
				if errors.As(err, &busy) {
					backoff = busy.Wait
				}
				if got != writeback.Retry {
					pending.Done()
					continue
				}
				dl.receives++
				workers.Go(func() {
					select {
					case <-time.After(backoff):
						queue <- dl
					case <-stop:
					}
				})
			}
		})
	}
	done := make(chan struct{})
	go func() { pending.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	var err error
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			if opts.Progress != nil {
				mu.Lock()
				opts.Progress(time.Since(start), res.Outcomes)
				mu.Unlock()
			}
		case <-time.After(opts.Timeout - time.Since(start)):
			err, waiting = fmt.Errorf("writebacktest: deliveries did not settle in %s", opts.Timeout), false
		}
	}
	res.Took = time.Since(start)
	close(stop)
	workers.Wait()
	return res, err
}
