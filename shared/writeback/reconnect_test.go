package writeback

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/erp"
)

// passwordERP accepts only the password it was opened with being current.
type passwordERP struct {
	password string
	current  *string // the ERP's password now
	calls    *int
}

func (p passwordERP) Name() string { return "fake" }

func (p passwordERP) check() error {
	*p.calls++
	if p.password != *p.current {
		return &erp.Error{Class: erp.ClassPermanent, Code: "401", NotSent: true, Credentials: true, Message: "refused"}
	}
	return nil
}

func (p passwordERP) Apply(context.Context, erp.Action) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	return "ref-" + p.password, nil
}

func (p passwordERP) Find(context.Context, erp.Action) (string, bool, error) {
	if err := p.check(); err != nil {
		return "", false, err
	}
	return "ref-" + p.password, true, nil
}

func TestReconnecting(t *testing.T) {
	type step struct {
		rotate  string        // the ERP's and the document's new password, before the call
		advance time.Duration // clock moves before the call
		find    bool
		ref     string // "" when the call fails
		class   erp.Class
		opens   int // document reads so far
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no rotation: one read", []step{{ref: "ref-p1", opens: 1}, {find: true, ref: "ref-p1", opens: 1}}},
		{"rotated: read again, retried, passes", []step{{ref: "ref-p1", opens: 1}, {rotate: "p2", ref: "ref-p2", opens: 2}, {ref: "ref-p2", opens: 2}}},
		{"rotated, seen by Find", []step{{rotate: "p2", find: true, ref: "ref-p2", opens: 2}}},
		{"rotated twice within the interval: the second waits, transient", []step{
			{rotate: "p2", ref: "ref-p2", opens: 2},
			{rotate: "p3", advance: 10 * time.Second, class: erp.ClassTransient, opens: 2},
			{advance: time.Minute, ref: "ref-p3", opens: 3},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			current, document, calls, opens := "p1", "p1", 0, 0
			now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
			open := func(context.Context) (ERP, error) {
				opens++
				return passwordERP{password: document, current: &current, calls: &calls}, nil
			}
			r, err := NewReconnecting(context.Background(), open, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				if s.rotate != "" {
					current, document = s.rotate, s.rotate
				}
				now = now.Add(s.advance)
				var ref string
				if s.find {
					ref, _, err = r.Find(context.Background(), erp.Action{})
				} else {
					ref, err = r.Apply(context.Background(), erp.Action{})
				}
				var ee *erp.Error
				got := step{ref: ref, opens: opens}
				if errors.As(err, &ee) {
					got.class = ee.Class
				} else if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				want := step{ref: s.ref, class: s.class, opens: s.opens}
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(step{})); diff != "" {
					t.Errorf("step %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// Other failures pass through untouched and read nothing again.
func TestReconnectingLeavesOtherFailures(t *testing.T) {
	opens := 0
	business := erp.Permanent("HZ_API_NO_RECORD", "no such account")
	r, err := NewReconnecting(context.Background(), func(context.Context) (ERP, error) {
		opens++
		return failingERP{err: business}, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(context.Background(), erp.Action{}); err != business || opens != 1 {
		t.Errorf("Apply = %v after %d reads, want the business error as it was and one read", err, opens)
	}
}

type failingERP struct{ err error }

func (f failingERP) Name() string { return "fake" }
func (f failingERP) Apply(context.Context, erp.Action) (string, error) {
	return "", f.err
}
func (f failingERP) Find(context.Context, erp.Action) (string, bool, error) {
	return "", false, f.err
}
