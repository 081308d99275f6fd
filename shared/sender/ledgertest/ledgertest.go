// Package ledgertest holds the contract every sender.Ledger must honour, as
// one test suite run against each implementation (the in-memory Memory here
// and the DynamoDB store against DynamoDB Local), so that a fake can never
// drift from the real thing.
package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
)

// Memory is an in-memory sender.Ledger for tests and local tools.
type Memory struct {
	mu   sync.Mutex
	recs map[string]sender.Record
}

var _ sender.Ledger = (*Memory)(nil)

// NewMemory returns an empty ledger.
func NewMemory() *Memory { return &Memory{recs: map[string]sender.Record{}} }

func memKey(t ledger.TenantID, id string) string { return string(t) + "#" + id }

// Claim implements sender.Ledger.
func (m *Memory) Claim(_ context.Context, r sender.Record, takeOver string) (sender.Record, bool, error) {
	if r.State != sender.StateSending || r.Token == "" {
		return sender.Record{}, false, fmt.Errorf("ledgertest: a claim must be sending with a token, got %q", r.State)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(r.Tenant, r.AttemptID)
	cur, ok := m.recs[k]
	if ok && !(takeOver != "" && cur.State == sender.StateSending && cur.Token == takeOver) {
		return cur, false, nil
	}
	m.recs[k] = r
	return r, true, nil
}

func (m *Memory) update(t ledger.TenantID, id, token string, f func(*sender.Record)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(t, id)
	cur, ok := m.recs[k]
	if !ok || cur.State != sender.StateSending || cur.Token != token {
		return sender.ErrClaimLost
	}
	if f == nil {
		delete(m.recs, k)
		return nil
	}
	f(&cur)
	m.recs[k] = cur
	return nil
}

// Complete implements sender.Ledger.
func (m *Memory) Complete(_ context.Context, t ledger.TenantID, id, token string, rc sender.Receipt) error {
	return m.update(t, id, token, func(r *sender.Record) { r.State, r.Receipt = sender.StateSent, rc })
}

// Fail implements sender.Ledger.
func (m *Memory) Fail(_ context.Context, t ledger.TenantID, id, token, reason string, at time.Time) error {
	return m.update(t, id, token, func(r *sender.Record) { r.State, r.Reason, r.FailedAt = sender.StateFailed, reason, at })
}

// Release implements sender.Ledger.
func (m *Memory) Release(_ context.Context, t ledger.TenantID, id, token string) error {
	return m.update(t, id, token, nil)
}

// Get implements sender.Ledger.
func (m *Memory) Get(_ context.Context, t ledger.TenantID, id string) (sender.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[memKey(t, id)]
	return r, ok, nil
}

// Put stores r as it is, for tests that start from a given state (a claim
// left by a delivery that died).
func (m *Memory) Put(r sender.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[memKey(r.Tenant, r.AttemptID)] = r
}

// T0 is the contract's clock; stores must keep at least microseconds.
var T0 = time.Date(2026, 5, 4, 15, 4, 5, 123456000, time.UTC)

func claim(tenant ledger.TenantID, id, token string, at time.Time) sender.Record {
	return sender.Record{Tenant: tenant, AttemptID: id, Customer: "C1", Channel: compliance.ChannelEmail,
		State: sender.StateSending, Token: token, ClaimedAt: at, FirstClaimedAt: at}
}

// Run runs the contract against ledgers made by newLedger, one per subtest.
func Run(t *testing.T, newLedger func(t *testing.T) sender.Ledger) {
	ctx := context.Background()
	const tn ledger.TenantID = "acme"
	mustClaim := func(t *testing.T, l sender.Ledger, r sender.Record, takeOver string, wantWon bool) sender.Record {
		t.Helper()
		got, won, err := l.Claim(ctx, r, takeOver)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if won != wantWon {
			t.Fatalf("Claim won = %v, want %v (record %+v)", won, wantWon, got)
		}
		return got
	}
	mustGet := func(t *testing.T, l sender.Ledger, tenant ledger.TenantID, id string) (sender.Record, bool) {
		t.Helper()
		r, ok, err := l.Get(ctx, tenant, id)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return r, ok
	}
	rc := sender.Receipt{Provider: sender.ProviderSES, ProviderID: "0100018f-abc-000000", At: T0.Add(time.Second)}

	t.Run("a first claim wins and a second finds it", func(t *testing.T) {
		l := newLedger(t)
		first := claim(tn, "A1", "tok1", T0)
		if diff := cmp.Diff(first, mustClaim(t, l, first, "", true)); diff != "" {
			t.Errorf("claimed record (-want +got):\n%s", diff)
		}
		got := mustClaim(t, l, claim(tn, "A1", "tok2", T0.Add(time.Minute)), "", false)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("record found by the second claim (-want +got):\n%s", diff)
		}
		stored, ok := mustGet(t, l, tn, "A1")
		if diff := cmp.Diff(first, stored); !ok || diff != "" {
			t.Errorf("Get found=%v (-want +got):\n%s", ok, diff)
		}
	})

	t.Run("complete needs the claim's token and ends the claim", func(t *testing.T) {
		l := newLedger(t)
		mustClaim(t, l, claim(tn, "A1", "tok1", T0), "", true)
		if err := l.Complete(ctx, tn, "A1", "other", rc); !errors.Is(err, sender.ErrClaimLost) {
			t.Fatalf("Complete with another token: %v, want ErrClaimLost", err)
		}
		if err := l.Complete(ctx, tn, "A1", "tok1", rc); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		want := claim(tn, "A1", "tok1", T0)
		want.State, want.Receipt = sender.StateSent, rc
		got, _ := mustGet(t, l, tn, "A1")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sent record (-want +got):\n%s", diff)
		}
		for name, err := range map[string]error{
			"Complete": l.Complete(ctx, tn, "A1", "tok1", rc),
			"Fail":     l.Fail(ctx, tn, "A1", "tok1", "x", T0),
			"Release":  l.Release(ctx, tn, "A1", "tok1"),
		} {
			if !errors.Is(err, sender.ErrClaimLost) {
				t.Errorf("%s after sent: %v, want ErrClaimLost", name, err)
			}
		}
		if got := mustClaim(t, l, claim(tn, "A1", "tok3", T0), "", false); got.State != sender.StateSent {
			t.Errorf("claim after sent found %q", got.State)
		}
		if got := mustClaim(t, l, claim(tn, "A1", "tok3", T0), "tok1", false); got.State != sender.StateSent {
			t.Errorf("takeover of a sent record found %q", got.State)
		}
	})

	t.Run("fail records the reason and is final", func(t *testing.T) {
		l := newLedger(t)
		mustClaim(t, l, claim(tn, "A1", "tok1", T0), "", true)
		if err := l.Fail(ctx, tn, "A1", "tok1", "provider refused: MessageRejected", T0.Add(time.Second)); err != nil {
			t.Fatalf("Fail: %v", err)
		}
		want := claim(tn, "A1", "tok1", T0)
		want.State, want.Reason, want.FailedAt = sender.StateFailed, "provider refused: MessageRejected", T0.Add(time.Second)
		got := mustClaim(t, l, claim(tn, "A1", "tok2", T0), "", false)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("failed record (-want +got):\n%s", diff)
		}
	})

	t.Run("release lets the next claim win", func(t *testing.T) {
		l := newLedger(t)
		mustClaim(t, l, claim(tn, "A1", "tok1", T0), "", true)
		if err := l.Release(ctx, tn, "A1", "tok2"); !errors.Is(err, sender.ErrClaimLost) {
			t.Fatalf("Release with another token: %v, want ErrClaimLost", err)
		}
		if err := l.Release(ctx, tn, "A1", "tok1"); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if _, ok := mustGet(t, l, tn, "A1"); ok {
			t.Fatal("record still there after Release")
		}
		if err := l.Release(ctx, tn, "A1", "tok1"); !errors.Is(err, sender.ErrClaimLost) {
			t.Fatalf("Release of nothing: %v, want ErrClaimLost", err)
		}
		mustClaim(t, l, claim(tn, "A1", "tok2", T0), "", true)
	})

	t.Run("a takeover needs the current token", func(t *testing.T) {
		l := newLedger(t)
		mustClaim(t, l, claim(tn, "A1", "tok1", T0), "", true)
		next := claim(tn, "A1", "tok2", T0.Add(10*time.Minute))
		next.FirstClaimedAt = T0
		if got := mustClaim(t, l, next, "wrong", false); got.Token != "tok1" {
			t.Fatalf("takeover with a wrong token changed the claim to %q", got.Token)
		}
		if diff := cmp.Diff(next, mustClaim(t, l, next, "tok1", true)); diff != "" {
			t.Errorf("taken-over record (-want +got):\n%s", diff)
		}
		if err := l.Complete(ctx, tn, "A1", "tok1", rc); !errors.Is(err, sender.ErrClaimLost) {
			t.Errorf("Complete by the old holder: %v, want ErrClaimLost", err)
		}
		if err := l.Complete(ctx, tn, "A1", "tok2", rc); err != nil {
			t.Errorf("Complete by the new holder: %v", err)
		}
	})

	t.Run("tenants do not share attempt ids", func(t *testing.T) {
		l := newLedger(t)
		mustClaim(t, l, claim("acme", "A1", "tok1", T0), "", true)
		mustClaim(t, l, claim("globex", "A1", "tok2", T0), "", true)
		if err := l.Complete(ctx, "globex", "A1", "tok1", rc); !errors.Is(err, sender.ErrClaimLost) {
			t.Errorf("Complete across tenants: %v, want ErrClaimLost", err)
		}
		if _, ok := mustGet(t, l, "initech", "A1"); ok {
			t.Error("Get found another tenant's record")
		}
	})

	t.Run("concurrent claims: exactly one wins", func(t *testing.T) {
		l := newLedger(t)
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Go(func() {
				tok := fmt.Sprintf("tok%d", i)
				_, won, err := l.Claim(ctx, claim(tn, "A1", tok, T0), "")
				if err != nil {
					t.Errorf("Claim %d: %v", i, err)
				}
				if won {
					wins <- tok
				}
			})
		}
		wg.Wait()
		close(wins)
		var winners []string
		for w := range wins {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("winners = %v, want exactly one", winners)
		}
		if got, _ := mustGet(t, l, tn, "A1"); got.Token != winners[0] {
			t.Errorf("stored token %q, winner %q", got.Token, winners[0])
		}
	})
}
