package approvaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// CmpOptions compare requests: money.Currency has unexported fields.
var CmpOptions = []cmp.Option{
	cmp.Comparer(func(a, b money.Currency) bool { return a.Code() == b.Code() }),
}

// Payload is what the Approval state sends for an email that needs
// approval because the invoice is disputed.
func Payload(tenant ledger.TenantID, token string) approval.Payload {
	return approval.Payload{
		Token:     token,
		Execution: "arn:aws:states:us-east-1:123456789012:execution:recoup-cycle:" + string(tenant) + "-C1-1",
		Tenant:    tenant,
		Customer:  "C1",
		Mode:      "live",
		Decision: json.RawMessage(`{"tenant":"` + string(tenant) + `","customer":"C1","outcome":"act","action":"firm_reminder",
			"channel":"email","when":"2025-06-03T14:00:00Z","invoices":["INV-1","INV-2"],
			"totals":[{"currency":"USD","minor":1250000,"decimal":"12500.00"}],"requires_approval":true,
			"approval_reasons":[{"code":"dispute","detail":"INV-3 is disputed"},{"code":"high_balance","detail":"over 10000.00"}],
			"reason":"second reminder","trace":{"segment":"smb"},"route":"act","wait_seconds":3600}`),
		Draft: json.RawMessage(`{"channel":"email","subject":"Invoices INV-1 and INV-2","body":"Dear Pat, invoices INV-1 and INV-2 are overdue.","source":"model"}`),
	}
}

// Request is the pending request of Payload, created at.
func Request(t testing.TB, tenant ledger.TenantID, token string, at time.Time) approval.Request {
	t.Helper()
	r, err := approval.NewRequest(Payload(tenant, token), at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var tenantSeq atomic.Int64

// freshTenant names a tenant no other subtest uses, so stores that share
// one table between subtests stay independent.
func freshTenant() ledger.TenantID {
	return ledger.TenantID(fmt.Sprintf("acme-%d-%d", time.Now().UnixNano()%1_000_000, tenantSeq.Add(1)))
}

// Run is the contract every approval.Store honours.
func Run(t *testing.T, newStore func(t *testing.T) approval.Store) {
	ctx := context.Background()
	t0 := time.Date(2025, 6, 2, 9, 0, 0, 123456789, time.UTC)
	verdict := func(k approval.Kind, by string, at time.Time) approval.Verdict {
		v := approval.Verdict{Kind: k, By: by, At: at, Note: "checked with " + by}
		if k == approval.Edited {
			v.Draft = &approval.Draft{Channel: "email", Subject: "Invoices", Body: "Dear Pat, please pay INV-1."}
		}
		return v
	}
	lease := func(owner string, now time.Time) approval.Lease {
		return approval.Lease{Owner: owner, Now: now, Until: now.Add(time.Minute)}
	}

	t.Run("put is idempotent on the id and round-trips", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Request(t, tenant, "tok-put", t0)
		got, created, err := s.Put(ctx, r)
		if err != nil || !created {
			t.Fatalf("first put: created %v, %v", created, err)
		}
		if diff := cmp.Diff(r, got, CmpOptions...); diff != "" {
			t.Errorf("put returned (-want +got):\n%s", diff)
		}
		again := Request(t, tenant, "tok-put", t0.Add(time.Hour))
		got, created, err = s.Put(ctx, again)
		if err != nil || created {
			t.Fatalf("second put: created %v, %v", created, err)
		}
		if diff := cmp.Diff(r, got, CmpOptions...); diff != "" {
			t.Errorf("second put must return the first request (-want +got):\n%s", diff)
		}
		got, err = s.Get(ctx, tenant, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got, CmpOptions...); diff != "" {
			t.Errorf("get (-want +got):\n%s", diff)
		}
	})

	t.Run("get of an unknown id or another tenant's is not found", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Request(t, tenant, "tok-get", t0)
		if _, _, err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, tenant, approval.IDOf("other")); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, freshTenant(), r.ID); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("other tenant: %v, want ErrNotFound", err)
		}
		if _, _, err := s.Decide(ctx, tenant, approval.IDOf("other"), verdict(approval.Approved, "col-1", t0), lease("o", t0)); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("decide unknown: %v, want ErrNotFound", err)
		}
		if _, err := s.Expire(ctx, tenant, approval.IDOf("other"), t0); !errors.Is(err, approval.ErrNotFound) {
			t.Errorf("expire unknown: %v, want ErrNotFound", err)
		}
	})

	t.Run("pending lists oldest first, pages by cursor, only pending, only the tenant's", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		var want []string
		for i := range 5 {
			r := Request(t, tenant, fmt.Sprintf("tok-list-%d", i), t0.Add(time.Duration(5-i)*time.Minute))
			if _, _, err := s.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
			want = append([]string{r.ID}, want...)
		}
		other := Request(t, freshTenant(), "tok-list-other", t0)
		if _, _, err := s.Put(ctx, other); err != nil {
			t.Fatal(err)
		}
		// Decide the second oldest and expire the newest: neither is listed.
		if _, won, err := s.Decide(ctx, tenant, want[1], verdict(approval.Rejected, "col-1", t0), lease("o", t0)); err != nil || !won {
			t.Fatalf("decide: won %v, %v", won, err)
		}
		if _, err := s.Expire(ctx, tenant, want[4], t0); err != nil {
			t.Fatal(err)
		}
		want = []string{want[0], want[2], want[3]}
		var got []string
		after := ""
		for range 5 {
			page, err := s.Pending(ctx, tenant, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				if r.Status != approval.StatusPending {
					continue // an index may lag; callers skip
				}
				got = append(got, r.ID)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Cursor()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pending ids (-want +got):\n%s", diff)
		}
	})

	t.Run("decide records the first verdict only", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Request(t, tenant, "tok-decide", t0)
		if _, _, err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		first := verdict(approval.Edited, "col-1", t0.Add(time.Second))
		got, won, err := s.Decide(ctx, tenant, r.ID, first, lease("a", t0))
		if err != nil || !won {
			t.Fatalf("first decide: won %v, %v", won, err)
		}
		want := r
		want.Status, want.Verdict, want.LeaseUntil = approval.StatusDecided, &first, t0.Add(time.Minute)
		if diff := cmp.Diff(want, got, CmpOptions...); diff != "" {
			t.Errorf("decided (-want +got):\n%s", diff)
		}
		if stored, err := s.Get(ctx, tenant, r.ID); err != nil {
			t.Fatal(err)
		} else if diff := cmp.Diff(want, stored, CmpOptions...); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		// Another verdict, and the same one while the lease is current: lost,
		// and the first verdict is returned.
		for name, v := range map[string]approval.Verdict{
			"other verdict": verdict(approval.Rejected, "col-2", t0.Add(2*time.Minute)),
			"same, leased":  verdict(approval.Edited, "col-1", t0.Add(30*time.Second)),
		} {
			now := v.At
			got, won, err := s.Decide(ctx, tenant, r.ID, v, lease("b", now))
			if err != nil || won {
				t.Fatalf("%s: won %v, %v", name, won, err)
			}
			if got.Verdict == nil || !got.Verdict.At.Equal(first.At) || got.Verdict.Kind != approval.Edited {
				t.Errorf("%s: returned verdict %+v, want the first", name, got.Verdict)
			}
		}
		// The same verdict after the lease lapsed takes it over, keeping the
		// first verdict's time.
		later := t0.Add(2 * time.Minute)
		got, won, err = s.Decide(ctx, tenant, r.ID, verdict(approval.Edited, "col-1", later), lease("c", later))
		if err != nil || !won {
			t.Fatalf("takeover: won %v, %v", won, err)
		}
		if !got.Verdict.At.Equal(first.At) || !got.LeaseUntil.Equal(later.Add(time.Minute)) {
			t.Errorf("takeover: verdict at %v lease until %v", got.Verdict.At, got.LeaseUntil)
		}
	})

	t.Run("release frees the lease for its owner only", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Request(t, tenant, "tok-release", t0)
		if _, _, err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		v := verdict(approval.Approved, "col-1", t0)
		if _, won, err := s.Decide(ctx, tenant, r.ID, v, lease("a", t0)); err != nil || !won {
			t.Fatalf("decide: won %v, %v", won, err)
		}
		if err := s.Release(ctx, tenant, r.ID, "someone-else"); err != nil {
			t.Fatal(err)
		}
		soon := t0.Add(time.Second)
		if _, won, err := s.Decide(ctx, tenant, r.ID, v, lease("b", soon)); err != nil || won {
			t.Fatalf("still leased: won %v, %v", won, err)
		}
		if err := s.Release(ctx, tenant, r.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if _, won, err := s.Decide(ctx, tenant, r.ID, v, lease("b", soon)); err != nil || !won {
			t.Fatalf("released: won %v, %v", won, err)
		}
	})

	t.Run("resumed ends the request and drops its token", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		r := Request(t, tenant, "tok-resumed", t0)
		if _, _, err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		v := verdict(approval.Approved, "col-1", t0)
		if _, _, err := s.Decide(ctx, tenant, r.ID, v, lease("a", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Resumed(ctx, tenant, r.ID, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, tenant, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != approval.StatusDecided || !got.Resumed || got.Token != "" || !got.LeaseUntil.IsZero() {
			t.Errorf("after resumed: status %s resumed %v token kept %v lease %v", got.Status, got.Resumed, got.Token != "", got.LeaseUntil)
		}
		later := t0.Add(time.Hour)
		if _, won, err := s.Decide(ctx, tenant, r.ID, v, lease("b", later)); err != nil || won {
			t.Errorf("decide after resumed: won %v, %v", won, err)
		}
		if got, err := s.Expire(ctx, tenant, r.ID, later); err != nil || got.Status != approval.StatusDecided {
			t.Errorf("expire after resumed: %s, %v; want it left decided", got.Status, err)
		}
	})

	t.Run("expire ends pending and unresumed requests", func(t *testing.T) {
		s, tenant := newStore(t), freshTenant()
		pending := Request(t, tenant, "tok-exp-1", t0)
		decided := Request(t, tenant, "tok-exp-2", t0)
		for _, r := range []approval.Request{pending, decided} {
			if _, _, err := s.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Decide(ctx, tenant, decided.ID, verdict(approval.Approved, "col-1", t0), lease("a", t0)); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		for _, r := range []approval.Request{pending, decided} {
			got, err := s.Expire(ctx, tenant, r.ID, at)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != approval.StatusExpired || !got.ExpiredAt.Equal(at) || got.Token != "" || !got.LeaseUntil.IsZero() {
				t.Errorf("expired %s: status %s at %v token kept %v lease %v", r.ID, got.Status, got.ExpiredAt, got.Token != "", got.LeaseUntil)
			}
			if stored, err := s.Get(ctx, tenant, r.ID); err != nil || stored.Status != approval.StatusExpired || stored.Token != "" {
				t.Errorf("stored %s: status %s token kept %v, %v", r.ID, stored.Status, stored.Token != "", err)
			}
		}
		if _, won, err := s.Decide(ctx, tenant, pending.ID, verdict(approval.Approved, "col-1", at), lease("b", at)); err != nil || won {
			t.Errorf("decide after expiry: won %v, %v", won, err)
		}
		// The execution's word wins: a resume that landed before the expiry
		// was recorded leaves the request decided and resumed.
		if err := s.Resumed(ctx, tenant, decided.ID, at); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, tenant, decided.ID); err != nil || got.Status != approval.StatusDecided || !got.Resumed || !got.ExpiredAt.IsZero() {
			t.Errorf("resumed after expiry: %s resumed %v expired at %v, %v", got.Status, got.Resumed, got.ExpiredAt, err)
		}
		if err := s.Resumed(ctx, tenant, pending.ID, at); err == nil {
			t.Error("resumed on a request that never had a verdict: want an error")
		}
	})
}
