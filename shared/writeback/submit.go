package writeback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

// Queue holds submitted actions until a delivery takes them.
type Queue interface {
	Send(ctx context.Context, actions []erp.Action) error
}

// Submit records each action as pending (when it is new) and queues it.
// An action whose key is already confirmed, failed or dead-lettered is not
// queued again: the same cause submitted twice is one action, and a
// refused one waits for a replay. It returns how many were queued.
func Submit(ctx context.Context, s Store, q Queue, actions []erp.Action, now time.Time) (int, error) {
	var send []erp.Action
	for _, a := range actions {
		if err := a.Validate(); err != nil {
			return 0, err
		}
		st, found, err := s.Get(ctx, a.Tenant, a.Key)
		if err != nil {
			return 0, fmt.Errorf("writeback: submit %s: %w", a.Key, err)
		}
		if found && st.State.Final() {
			continue
		}
		if !found {
			err := s.Put(ctx, erp.Status{Action: a, State: erp.StatePending, Version: 1, Updated: now.UTC()}, nil)
			if err != nil && !errors.Is(err, ErrConflict) {
				return 0, fmt.Errorf("writeback: submit %s: %w", a.Key, err)
			}
		}
		send = append(send, a)
	}
	if len(send) == 0 {
		return 0, nil
	}
	if err := q.Send(ctx, send); err != nil {
		return 0, fmt.Errorf("writeback: queue %d actions: %w", len(send), err)
	}
	return len(send), nil
}

// Reopen takes a failed or dead-lettered action back to pending, for a
// replay after the cause was fixed; the caller queues it again.
func Reopen(ctx context.Context, s Store, st erp.Status, now time.Time) (erp.Status, error) {
	if !st.State.CanMove(erp.StatePending) || st.State == erp.StateSent {
		return st, fmt.Errorf("writeback: action %s is %s; only failed or dead-lettered actions are replayed", st.Action.Key, st.State)
	}
	st.State, st.Version, st.Updated, st.LeaseUntil = erp.StatePending, st.Version+1, now.UTC(), time.Time{}
	if err := s.Put(ctx, st, nil); err != nil {
		return st, fmt.Errorf("writeback: reopen %s: %w", st.Action.Key, err)
	}
	return st, nil
}

// Submitter submits actions to one store and queue at its clock: what the
// collection cycle's steps hold to write to the ERP.
type Submitter struct {
	Store Store
	Queue Queue
	Now   func() time.Time
}

// Submit records and queues actions (see the function Submit).
func (s *Submitter) Submit(ctx context.Context, actions []erp.Action) (int, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return Submit(ctx, s.Store, s.Queue, actions, now())
}
