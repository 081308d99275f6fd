package writeback

import (
	"context"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

type memQueue struct{ sent []erp.Action }

func (q *memQueue) Send(_ context.Context, a []erp.Action) error {
	q.sent = append(q.sent, a...)
	return nil
}

func TestSubmitAndReopen(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	s, q := newMemStore(), &memQueue{}
	a := action()
	if n, err := Submit(ctx, s, q, []erp.Action{a, a}, now); err != nil || n != 2 {
		t.Fatalf("first submit: %d %v", n, err)
	}
	if st, _, _ := s.Get(ctx, a.Tenant, a.Key); st.State != erp.StatePending || st.Version != 1 {
		t.Fatalf("after submit: %+v", st)
	}
	// Confirmed: submitting the same cause again queues nothing.
	st, _, _ := s.Get(ctx, a.Tenant, a.Key)
	st.State, st.Version = erp.StateConfirmed, 2
	if err := s.Put(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := Submit(ctx, s, q, []erp.Action{a}, now); err != nil || n != 0 {
		t.Fatalf("submit of a confirmed action: %d %v", n, err)
	}
	if _, err := Reopen(ctx, s, st, now); err == nil {
		t.Fatal("a confirmed action was reopened")
	}
	st.State, st.Version = erp.StateDeadLettered, 3
	if err := s.Put(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := Reopen(ctx, s, st, now); err != nil || got.State != erp.StatePending || got.Version != 4 {
		t.Fatalf("reopen: %+v %v", got, err)
	}
	bad := a
	bad.Key = "nope"
	if _, err := Submit(ctx, s, q, []erp.Action{bad}, now); err == nil {
		t.Fatal("an invalid action was submitted")
	}
}
