package cycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Run is a customer's current execution of the cycle and, while it waits
// in the Park state, the task token that wakes it.
type Run struct {
	Tenant    ledger.TenantID
	Customer  string
	Execution string // execution ARN
	Token     string // "" unless parked
	Until     time.Time
	At        time.Time // when recorded
}

// Runs keeps one Run per customer.
type Runs interface {
	Get(ctx context.Context, t ledger.TenantID, customer string) (Run, bool, error)
	// Put records r as the customer's current run.
	Put(ctx context.Context, r Run) error
	// Begin records r, a run just started, unless the customer's record
	// is already of r's execution: a cycle can reach Park, and record its
	// token, before the starter records the start.
	Begin(ctx context.Context, r Run) error
	// TakeToken clears the run's token if it is still token, and reports
	// whether it did: of two wakers only one may send it.
	TakeToken(ctx context.Context, t ledger.TenantID, customer, token string) (bool, error)
}

// RunLister reads many customers' runs at once, for the daily run.
type RunLister interface {
	// Runs returns the runs of customers that have one, by customer.
	Runs(ctx context.Context, t ledger.TenantID, customers []string) (map[string]Run, error)
}

// Executions is the part of Step Functions the cycle drives.
type Executions interface {
	// Start starts machine with a unique name and input, and returns the
	// execution ARN. A running execution with the same name and input is
	// returned as is; ErrAlreadyRan when the name was used and closed.
	Start(ctx context.Context, machine, name string, input []byte) (string, error)
	// Running reports whether the execution is still running.
	Running(ctx context.Context, execution string) (bool, error)
	// SendTaskSuccess resumes a waiting task; ErrTaskGone when the task
	// is no longer waiting (timed out, or its execution ended).
	SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error
}

// Errors of Executions.
var (
	ErrAlreadyRan = errors.New("cycle: an execution of that name already ran")
	ErrTaskGone   = errors.New("cycle: the task is no longer waiting")
)

// ReplanReader lists re-plan requests recorded by the engagement consumer.
type ReplanReader interface {
	ReplansOf(ctx context.Context, t ledger.TenantID, customer string, since time.Time) ([]Replan, error)
}

// Replan is one re-plan request: an event that changes what the cycle
// should do (a reply, a payment, a STOP).
type Replan struct {
	Event  string    `json:"event"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ParkInput is the Park step's input (the callback task's payload).
type ParkInput struct {
	Ref
	Token    string `json:"token"`
	Decision Plan   `json:"decision"`
}

// Wake is what a woken Park task returns ($.wake).
type Wake struct {
	Reason string    `json:"reason"`
	Event  string    `json:"event,omitempty"`
	At     time.Time `json:"at"`
}

// Parker is the Park step: it records the token that wakes the execution,
// and wakes it at once when an event asked for a re-plan after this
// decision was made (a STOP that arrived while the message was sent).
type Parker struct {
	Runs       Runs
	Executions Executions
	Replans    ReplanReader
	Now        func() time.Time
}

// Park records the waiting execution.
func (p *Parker) Park(ctx context.Context, in ParkInput) error {
	if err := in.Ref.Check(); err != nil {
		return err
	}
	if in.Token == "" || in.Execution == "" {
		return fmt.Errorf("%w: park needs the task token and the execution", ErrInput)
	}
	now := p.Now().UTC()
	r := Run{Tenant: in.Tenant, Customer: in.Customer, Execution: in.Execution, Token: in.Token,
		Until: now.Add(time.Duration(in.Decision.WaitSeconds) * time.Second), At: now}
	if err := p.Runs.Put(ctx, r); err != nil {
		return Transient{fmt.Errorf("cycle: park %s: %w", in.Customer, err)}
	}
	since := in.Decision.Trace.Facts.Now
	if since.IsZero() {
		return nil
	}
	rs, err := p.Replans.ReplansOf(ctx, in.Tenant, in.Customer, since)
	if err != nil {
		return Transient{fmt.Errorf("cycle: park %s: re-plan requests: %w", in.Customer, err)}
	}
	if len(rs) == 0 {
		return nil
	}
	last := rs[len(rs)-1]
	_, err = resume(ctx, p.Runs, p.Executions, r, Wake{Reason: last.Reason, Event: last.Event, At: now})
	return err
}

// WakeInput asks for a customer's cycle to plan now: from the daily run
// (Start set: begin a cycle when none runs) or from an engagement event
// (only a waiting cycle is woken).
type WakeInput struct {
	Ref
	Mode   string `json:"mode,omitempty"`
	Reason string `json:"reason"`
	// AsOf is the daily run's date; it names the execution a start makes,
	// so two runs of one day start one execution.
	AsOf  time.Time `json:"as_of,omitzero"`
	Start bool      `json:"start,omitempty"`
}

// Woken says what Wake did, and for whom: it is all a daily run keeps of
// each customer, so a thousand of them fit in an execution's 256 KB.
type Woken struct {
	Action    string `json:"action"` // woken, started, running, waiting, none
	Execution string `json:"execution,omitempty"`
	Customer  string `json:"customer"`
}

// Waker wakes or starts customers' cycles.
type Waker struct {
	Runs       Runs
	Executions Executions
	Machine    string // the cycle state machine's ARN
	Now        func() time.Time
}

// Wake wakes the customer's waiting execution, or starts one when asked
// and none is running.
func (w *Waker) Wake(ctx context.Context, in WakeInput) (Woken, error) {
	out, err := w.wake(ctx, in)
	if err != nil {
		return Woken{}, err
	}
	out.Customer = in.Customer
	return out, nil
}

func (w *Waker) wake(ctx context.Context, in WakeInput) (Woken, error) {
	if err := in.Ref.Check(); err != nil {
		return Woken{}, err
	}
	if in.Start && in.Mode != ModeLive && in.Mode != ModeShadow {
		return Woken{}, fmt.Errorf("%w: mode %q, want %s or %s", ErrInput, in.Mode, ModeLive, ModeShadow)
	}
	now := w.Now().UTC()
	r, found, err := w.Runs.Get(ctx, in.Tenant, in.Customer)
	if err != nil {
		return Woken{}, Transient{fmt.Errorf("cycle: wake %s: %w", in.Customer, err)}
	}
	if found && r.Token != "" && in.Start && r.Until.After(now) {
		// The daily run leaves a cycle waiting for its planned time: its
		// own timer wakes it then, and an event sooner. It wakes only
		// those whose time has passed (a timer lost with its server).
		return Woken{Action: "waiting", Execution: r.Execution}, nil
	}
	if found && r.Token != "" {
		woke, err := resume(ctx, w.Runs, w.Executions, r, Wake{Reason: in.Reason, At: now})
		if err != nil {
			return Woken{}, err
		}
		if woke {
			return Woken{Action: "woken", Execution: r.Execution}, nil
		}
	}
	if found && r.Execution != "" {
		running, err := w.Executions.Running(ctx, r.Execution)
		if err != nil {
			return Woken{}, Transient{fmt.Errorf("cycle: wake %s: %w", in.Customer, err)}
		}
		if running {
			// Busy (planning, drafting, or waiting for a collector): it
			// plans again before it next waits.
			return Woken{Action: "running", Execution: r.Execution}, nil
		}
	}
	if !in.Start {
		return Woken{Action: "none"}, nil
	}
	day := in.AsOf
	if day.IsZero() {
		day = now
	}
	input, _ := json.Marshal(struct {
		Tenant   ledger.TenantID `json:"tenant"`
		Customer string          `json:"customer"`
		Mode     string          `json:"mode"`
	}{in.Tenant, in.Customer, in.Mode})
	arn, err := w.Executions.Start(ctx, w.Machine, ExecutionName(in.Tenant, in.Customer, day), input)
	if errors.Is(err, ErrAlreadyRan) {
		return Woken{Action: "none"}, nil // today's cycle ran and closed
	}
	if err != nil {
		return Woken{}, Transient{fmt.Errorf("cycle: start %s: %w", in.Customer, err)}
	}
	if err := w.Runs.Begin(ctx, Run{Tenant: in.Tenant, Customer: in.Customer, Execution: arn, At: now}); err != nil {
		return Woken{}, Transient{fmt.Errorf("cycle: start %s: record the run: %w", in.Customer, err)}
	}
	return Woken{Action: "started", Execution: arn}, nil
}

// resume sends a parked run's token once; false when the task had already
// gone (timed out into its next plan, or its execution ended).
func resume(ctx context.Context, runs Runs, ex Executions, r Run, wake Wake) (bool, error) {
	took, err := runs.TakeToken(ctx, r.Tenant, r.Customer, r.Token)
	if err != nil {
		return false, Transient{fmt.Errorf("cycle: wake %s: %w", r.Customer, err)}
	}
	if !took {
		return true, nil // another waker sent it
	}
	out, _ := json.Marshal(wake)
	err = ex.SendTaskSuccess(ctx, r.Token, out)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrTaskGone):
		return false, nil
	}
	// Not sent: put the token back so the next waker (or the timeout)
	// still finds the execution.
	if perr := runs.Put(ctx, r); perr != nil {
		err = errors.Join(err, perr)
	}
	return false, Transient{fmt.Errorf("cycle: wake %s: %w", r.Customer, err)}
}

var nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// ExecutionName is the name of a customer's cycle started on day: at most
// one start per customer per day, whoever asks.
func ExecutionName(t ledger.TenantID, customer string, day time.Time) string {
	n := fmt.Sprintf("%s-%s-%s", t, customer, day.UTC().Format("20060102"))
	if safe := nameUnsafe.ReplaceAllString(n, "_"); safe == n && len(n) <= 80 {
		return n
	}
	// Step Functions names allow 80 characters and no punctuation beyond
	// - and _; a hash keeps names of long or unusual ids unique.
	h := sha256.Sum256([]byte(n))
	return fmt.Sprintf("%s-%s", day.UTC().Format("20060102"), hex.EncodeToString(h[:16]))
}

// Replan implements engagement.Replanner: it wakes the customer's waiting
// cycle, and starts none.
func (w *Waker) Replan(ctx context.Context, t ledger.TenantID, customer, reason string) error {
	_, err := w.Wake(ctx, WakeInput{Ref: Ref{Tenant: t, Customer: customer}, Reason: reason})
	return err
}
