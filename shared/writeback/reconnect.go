package writeback

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

// DefaultReopenInterval bounds how often Reconnecting reads the connection
// again: a wrong password must not turn every action into a secret read.
const DefaultReopenInterval = time.Minute

// Reconnecting is an ERP that reads its connection again when the ERP
// refuses the credentials (erp.Error.Credentials) and retries the call once
// with the new one. The tenant's administrator rotates the integration
// user's password in the connection document; without this a warm
// function would keep the old one and fail every action until it
// restarted.
//
// A refusal it cannot mend now (the document was read too recently, or
// still holds the refused password) is returned as transient: nothing
// ran, and the queue's retries give a rotation in progress time to
// finish; an action still refused after its receives is dead-lettered for
// a replay, never dropped.
type Reconnecting struct {
	// Open reads the connection document and opens its adapter.
	Open func(ctx context.Context) (ERP, error)
	// Interval is the least time between two reads (DefaultReopenInterval).
	Interval time.Duration
	Now      func() time.Time

	mu     sync.Mutex
	cur    ERP
	opened time.Time
}

// NewReconnecting opens the first connection.
func NewReconnecting(ctx context.Context, open func(ctx context.Context) (ERP, error), now func() time.Time) (*Reconnecting, error) {
	if open == nil {
		return nil, errors.New("writeback: reconnecting ERP without an opener")
	}
	if now == nil {
		now = time.Now
	}
	first, err := open(ctx)
	if err != nil {
		return nil, err
	}
	// opened stays zero: the first refusal reads the document again.
	return &Reconnecting{Open: open, Now: now, cur: first}, nil
}

var _ ERP = (*Reconnecting)(nil)

// Name implements ERP.
func (r *Reconnecting) Name() string { return r.current().Name() }

// Apply implements ERP.
func (r *Reconnecting) Apply(ctx context.Context, a erp.Action) (string, error) {
	e := r.current()
	ref, err := e.Apply(ctx, a)
	if next, ok := r.reopen(ctx, e, err); ok {
		ref, err = next.Apply(ctx, a)
	}
	return ref, retryable(err)
}

// Find implements ERP.
func (r *Reconnecting) Find(ctx context.Context, a erp.Action) (string, bool, error) {
	e := r.current()
	ref, found, err := e.Find(ctx, a)
	if next, ok := r.reopen(ctx, e, err); ok {
		ref, found, err = next.Find(ctx, a)
	}
	return ref, found, retryable(err)
}

// retryable makes a credentials refusal transient (see Reconnecting).
func retryable(err error) error {
	var ee *erp.Error
	if !errors.As(err, &ee) || !ee.Credentials || ee.Class == erp.ClassTransient {
		return err
	}
	t := *ee
	t.Class, t.NotSent = erp.ClassTransient, true
	return &t
}

func (r *Reconnecting) current() ERP {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// reopen reads the connection again after a credentials refusal by used,
// unless another call already has or the last read is too recent. It
// returns the adapter to retry with.
func (r *Reconnecting) reopen(ctx context.Context, used ERP, err error) (ERP, bool) {
	var ee *erp.Error
	if !errors.As(err, &ee) || !ee.Credentials {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != used {
		return r.cur, true // another call reconnected meanwhile
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultReopenInterval
	}
	if r.Now().Sub(r.opened) < interval {
		return nil, false
	}
	// Held under the lock: concurrent refusals wait for one read.
	next, oerr := r.Open(ctx)
	r.opened = r.Now()
	if oerr != nil {
		return nil, false
	}
	r.cur = next
	return next, true
}
