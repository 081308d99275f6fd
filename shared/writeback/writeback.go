// Package writeback delivers erp.Actions to a tenant's ERP exactly once.
//
// Every action has a status (erp.Status) kept in a store. Before a request
// leaves, the status says "sent"; so if the answer is lost (a timeout after
// the ERP committed, a Lambda that died), the next attempt finds "sent" and
// reads the ERP back (ERP.Find) before writing again. A credit hold is
// never applied twice and never lost. Each final outcome (confirmed,
// failed, dead-lettered) is written with its audit record in one step, so
// the audit log holds every action once.
//
// The queue around it (shared/writeback/sqsqueue, an SQS FIFO queue)
// redelivers with backoff; Deliver decides, on each delivery, what
// is left to do. Failures are classified by the adapters (erp.Error): a
// permanent one fails the action with the ERP's message, a transient one
// is retried until the queue's last attempt, which dead-letters it. A
// circuit breaker per tenant stops calling an ERP that keeps failing.
package writeback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// ERP is what delivery needs of an ERP adapter.
type ERP interface {
	// Name names the ERP in audit records ("oracle-ebs").
	Name() string
	// Apply writes a and returns the ERP's reference for it. Failures are
	// *erp.Error.
	Apply(ctx context.Context, a erp.Action) (ref string, err error)
	// Find reads back whether a is already applied, and its reference.
	Find(ctx context.Context, a erp.Action) (ref string, found bool, err error)
}

// Store keeps action statuses.
type Store interface {
	// Get returns the status of the action with key, or found false.
	Get(ctx context.Context, tenant ledger.TenantID, key string) (st erp.Status, found bool, err error)
	// Put stores st if the stored status is at version st.Version-1 (absent
	// for version 1), else fails with ErrConflict. A non-nil rec is
	// appended to the tenant's audit log in the same atomic write.
	Put(ctx context.Context, st erp.Status, rec *audit.Record) error
}

// ErrConflict is a Put that lost a race: another delivery of the same
// action moved its status first.
var ErrConflict = errors.New("writeback: the action's status changed under us")

// Outcome says what a delivery did.
type Outcome string

// The outcomes of Deliver.
const (
	// Confirmed: the ERP applied the action on this delivery.
	Confirmed Outcome = "confirmed"
	// Reconciled: a read-back found the action applied by an earlier
	// attempt whose answer was lost; nothing was written again.
	Reconciled Outcome = "reconciled"
	// Duplicate: the action was already confirmed; nothing was done.
	Duplicate Outcome = "duplicate"
	// Failed: the ERP refused the action for good, with its message.
	Failed Outcome = "failed"
	// DeadLettered: the last attempt failed too; the action waits for a
	// replay.
	DeadLettered Outcome = "dead_lettered"
	// Skipped: the action had failed or been dead-lettered before and
	// was not replayed; nothing was done.
	Skipped Outcome = "skipped"
	// Retry: a transient failure; the returned error says which, and the
	// queue delivers the action again later.
	Retry Outcome = "retry"
)

// Options configure a Deliverer.
type Options struct {
	// Breaker configures each tenant's circuit breaker; zero fields take
	// DefaultBreaker's.
	Breaker BreakerSettings
	// Lease bounds one delivery's calls to the ERP (the read-back and the
	// write); until it passes no other delivery of the action touches it.
	// DefaultLease when zero. Keep it under the queue's visibility timeout.
	Lease time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives one line per outcome, with ids only; slog.Default when nil.
	Log *slog.Logger
}

// BreakerSettings configure the circuit breaker of each tenant's ERP.
type BreakerSettings struct {
	// Consecutive transient failures that open the circuit.
	Consecutive uint32
	// Open is how long the circuit stays open before one trial request.
	Open time.Duration
}

// DefaultBreaker opens after 5 transient failures in a row and tries again
// after 30 s. Permanent failures (a business error) prove the ERP answers
// and do not count.
var DefaultBreaker = BreakerSettings{Consecutive: 5, Open: 30 * time.Second}

// DefaultLease covers a read-back and a write with the adapters' 30 s
// request timeout, and stays under the write-back queue's 5-minute
// visibility timeout.
const DefaultLease = 2 * time.Minute

// ErrInProgress is a delivery that found another delivery of the same
// action with a request out to the ERP; the queue tries again later. The
// error is an *InProgressError, which says how much later.
var ErrInProgress = errors.New("writeback: another delivery of the action is in progress")

// InProgressError is ErrInProgress with the time left on the other
// delivery's lease: a queue that retries sooner spends a receive, of the
// few it allows, on an action it could not have touched.
type InProgressError struct {
	Key  string
	Wait time.Duration
}

func (e *InProgressError) Error() string {
	return fmt.Sprintf("action %s: %v (lease ends in %s)", e.Key, ErrInProgress, e.Wait.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrInProgress) hold.
func (e *InProgressError) Is(target error) bool { return target == ErrInProgress }

// Deliverer delivers actions to one kind of ERP.
type Deliverer struct {
	erp   ERP
	store Store
	opts  Options

	mu       sync.Mutex
	breakers map[ledger.TenantID]*gobreaker.CircuitBreaker[string]
}

// New returns a Deliverer writing to e and keeping statuses in s.
func New(e ERP, s Store, opts Options) (*Deliverer, error) {
	if e == nil || s == nil {
		return nil, errors.New("writeback: nil ERP or store")
	}
	if opts.Breaker.Consecutive == 0 {
		opts.Breaker.Consecutive = DefaultBreaker.Consecutive
	}
	if opts.Breaker.Open <= 0 {
		opts.Breaker.Open = DefaultBreaker.Open
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Deliverer{erp: e, store: s, opts: opts, breakers: map[ledger.TenantID]*gobreaker.CircuitBreaker[string]{}}, nil
}

// Attempt describes one delivery of an action by the queue.
type Attempt struct {
	// Final says the queue will not deliver the action again: a transient
	// failure now dead-letters it.
	Final bool
}

// Deliver takes a to its next state. It returns an error only with Retry,
// a conflict, or a store failure, all of which the queue retries; every
// other outcome is final for this delivery.
func (d *Deliverer) Deliver(ctx context.Context, a erp.Action, at Attempt) (Outcome, error) {
	if err := a.Validate(); err != nil {
		return Failed, err
	}
	st, found, err := d.store.Get(ctx, a.Tenant, a.Key)
	if err != nil {
		return Retry, fmt.Errorf("writeback: read status of action %s: %w", a.Key, err)
	}
	if !found {
		st = erp.Status{Action: a, State: erp.StatePending}
	}
	// The first queued copy of an action is the one delivered: a later
	// copy with the same key (the same cause) never rewrites what the ERP
	// was asked.
	a = st.Action
	switch st.State {
	case erp.StateConfirmed:
		d.log(a, Duplicate, st)
		return Duplicate, nil
	case erp.StateFailed, erp.StateDeadLettered:
		d.log(a, Skipped, st)
		return Skipped, nil
	case erp.StateSent:
		if wait := st.LeaseUntil.Sub(d.opts.Now()); wait > 0 {
			return Retry, &InProgressError{Key: a.Key, Wait: wait}
		}
	}
	// Take the lease, and say sent before anything leaves: from here on a
	// lost answer is found by the next delivery's read-back.
	// A status left sent, or one reopened by a replay after writes that
	// may have left (Attempts counts only those), may already be applied.
	inDoubt := st.State == erp.StateSent || st.Attempts > 0
	if st, err = d.next(st, erp.StateSent); err != nil {
		return Retry, err
	}
	st.LeaseUntil = st.Updated.Add(d.opts.Lease)
	if err := d.store.Put(ctx, st, nil); err != nil {
		return Retry, fmt.Errorf("writeback: lease action %s: %w", a.Key, err)
	}
	// A duration, not the lease's instant: Now may be a simulated clock.
	ctx, cancel := context.WithTimeout(ctx, d.opts.Lease)
	defer cancel()
	if inDoubt {
		// An earlier request may have been applied: read back first.
		ref, applied, err := d.find(ctx, a)
		switch {
		case err != nil:
			return d.transient(ctx, st, classify(err), at, false)
		case applied:
			return d.settle(ctx, st, erp.StateConfirmed, ref, nil, Reconciled)
		}
	}
	st.Attempts++
	ref, err := d.apply(ctx, a)
	if err == nil {
		return d.settle(ctx, st, erp.StateConfirmed, ref, nil, Confirmed)
	}
	e := classify(err)
	if e.Class == erp.ClassPermanent {
		return d.settle(ctx, st, erp.StateFailed, "", e, Failed)
	}
	return d.transient(ctx, st, e, at, true)
}

// transient records a transient failure: dead-lettered on the last
// attempt; back to pending when it was this delivery's write that surely
// never left (a read-back that never left proves nothing about the earlier
// write); else left sent, so the next delivery reads back.
func (d *Deliverer) transient(ctx context.Context, st erp.Status, e *erp.Error, at Attempt, wrote bool) (Outcome, error) {
	if at.Final {
		return d.settle(ctx, st, erp.StateDeadLettered, "", e, DeadLettered)
	}
	// Release the lease so the next delivery need not wait for it.
	to := erp.StateSent
	if wrote && e.NotSent {
		to = erp.StatePending
		st.Attempts--
	}
	st, err := d.next(st, to)
	if err != nil {
		return Retry, err
	}
	st.Error, st.LeaseUntil = e, time.Time{}
	if err := d.store.Put(context.WithoutCancel(ctx), st, nil); err != nil {
		return Retry, fmt.Errorf("writeback: release action %s: %w (after %w)", st.Action.Key, err, e)
	}
	d.log(st.Action, Retry, st, "code", e.Code)
	return Retry, e
}

// settle moves st to a final state with its audit record, in one write,
// and returns o. When the write fails the outcome is Retry: the ERP may
// have applied the action, and the status still says sent, so the next
// delivery reads back and settles it then.
func (d *Deliverer) settle(ctx context.Context, st erp.Status, to erp.State, ref string, e *erp.Error, o Outcome) (Outcome, error) {
	st, err := d.next(st, to)
	if err != nil {
		return Retry, err
	}
	st.Ref, st.Error, st.LeaseUntil = ref, e, time.Time{}
	rec, err := d.record(st, o)
	if err != nil {
		return Retry, err
	}
	// The lease may have run out during the call: the outcome is still
	// worth recording.
	if err := d.store.Put(context.WithoutCancel(ctx), st, &rec); err != nil {
		return Retry, fmt.Errorf("writeback: record action %s %s: %w", st.Action.Key, to, err)
	}
	d.log(st.Action, o, st)
	return o, nil
}

// next is st moved to state to, at the next version. A move the state
// model does not allow is a bug here or a status edited by hand; it is
// refused rather than written.
func (d *Deliverer) next(st erp.Status, to erp.State) (erp.Status, error) {
	if !st.State.CanMove(to) {
		return st, fmt.Errorf("writeback: action %s cannot move from %s to %s", st.Action.Key, st.State, to)
	}
	st.State = to
	st.Version++
	st.Updated = d.opts.Now().UTC()
	return st, nil
}

// record is the audit record of a final outcome: the action as it was
// asked, and the ERP's reference or refusal.
func (d *Deliverer) record(st erp.Status, o Outcome) (audit.Record, error) {
	a := st.Action
	inputs, err := json.Marshal(a)
	if err != nil {
		return audit.Record{}, fmt.Errorf("writeback: encode action %s: %w", a.Key, err)
	}
	content, err := json.Marshal(struct {
		ERP      string     `json:"erp"`
		Outcome  Outcome    `json:"outcome"`
		Ref      string     `json:"ref,omitempty"`
		Attempts int        `json:"attempts"`
		Error    *erp.Error `json:"error,omitempty"`
	}{d.erp.Name(), o, st.Ref, st.Attempts, st.Error})
	if err != nil {
		return audit.Record{}, fmt.Errorf("writeback: encode outcome of %s: %w", a.Key, err)
	}
	reason := fmt.Sprintf("%s %s in %s", a.Kind, o, d.erp.Name())
	if st.Error != nil {
		reason += ": " + st.Error.Error()
	}
	return audit.Record{Tenant: a.Tenant, At: st.Updated, Kind: audit.KindWriteback, Account: a.Target.Customer,
		Debt: a.Target.Transaction, Decision: string(st.State), Reason: reason, Inputs: inputs, Content: content}, nil
}

// apply calls the ERP through the tenant's circuit breaker.
func (d *Deliverer) apply(ctx context.Context, a erp.Action) (string, error) {
	return d.breaker(a.Tenant).Execute(func() (string, error) { return d.erp.Apply(ctx, a) })
}

// find reads back through the breaker too: a read-back is a call to the
// same ERP, and an ERP that is down fails it the same way.
func (d *Deliverer) find(ctx context.Context, a erp.Action) (string, bool, error) {
	var found bool
	ref, err := d.breaker(a.Tenant).Execute(func() (string, error) {
		ref, ok, err := d.erp.Find(ctx, a)
		found = ok
		return ref, err
	})
	return ref, found, err
}

func (d *Deliverer) breaker(t ledger.TenantID) *gobreaker.CircuitBreaker[string] {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.breakers[t]; ok {
		return b
	}
	n := d.opts.Breaker.Consecutive
	b := gobreaker.NewCircuitBreaker[string](gobreaker.Settings{
		Name:        string(t),
		Timeout:     d.opts.Breaker.Open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n },
		// A business error is an answer: the ERP is up.
		IsSuccessful: func(err error) bool { return err == nil || erp.Classify(err).Class == erp.ClassPermanent },
		// A cancelled delivery says nothing about the ERP.
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			d.opts.Log.Warn("writeback circuit", "tenant", name, "erp", d.erp.Name(), "from", from.String(), "to", to.String())
		},
	})
	d.breakers[t] = b
	return b
}

// classify is erp.Classify that also reads the breaker's own refusals: a
// request the open circuit stopped never left.
func classify(err error) *erp.Error {
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &erp.Error{Class: erp.ClassTransient, Code: "circuit_open", Message: err.Error(), NotSent: true}
	}
	return erp.Classify(err)
}

func (d *Deliverer) log(a erp.Action, o Outcome, st erp.Status, extra ...any) {
	args := append([]any{"tenant", a.Tenant, "key", a.Key, "kind", a.Kind, "outcome", o, "state", st.State, "attempts", st.Attempts}, extra...)
	d.opts.Log.Info("writeback", args...)
}
