package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/tenant"
)

// TestIntegrationRuns: a run is read back as stored, and of two wakers
// taking the same token only one gets it.
func TestIntegrationRuns(t *testing.T) {
	client, prefix := localtest.DynamoDB(t)
	if _, err := EnsureTables(context.Background(), client, prefix); err != nil {
		t.Fatal(err)
	}
	runs, err := NewRuns(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	if _, found, err := runs.Get(ctx, "acme", "C1"); err != nil || found {
		t.Fatalf("empty store: found %v, %v", found, err)
	}
	want := cycle.Run{Tenant: "acme", Customer: "C1", Execution: "arn:x:1", Token: "tok-1", Until: at.Add(time.Hour), At: at}
	if err := runs.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, found, err := runs.Get(ctx, "acme", "C1")
	if err != nil || !found {
		t.Fatalf("get: %v %v", found, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run (-want +got):\n%s", diff)
	}
	for i, tc := range []struct {
		token string
		want  bool
	}{{"tok-other", false}, {"tok-1", true}, {"tok-1", false}} {
		took, err := runs.TakeToken(ctx, "acme", "C1", tc.token)
		if err != nil || took != tc.want {
			t.Errorf("take %d (%s): %v %v, want %v", i, tc.token, took, err, tc.want)
		}
	}
	if got, _, _ := runs.Get(ctx, "acme", "C1"); got.Token != "" || got.Execution != "arn:x:1" {
		t.Errorf("after the take: %+v", got)
	}
	if took, err := runs.TakeToken(ctx, "acme", "C9", "tok-1"); err != nil || took {
		t.Errorf("take on a customer with no run: %v %v", took, err)
	}
}

// TestIntegrationTenants: a profile is stored checked and read back; a
// tenant without one is told how to add it.
func TestIntegrationTenants(t *testing.T) {
	client, prefix := localtest.DynamoDB(t)
	if _, err := EnsureTables(context.Background(), client, prefix); err != nil {
		t.Fatal(err)
	}
	s, err := NewTenants(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Profile(ctx, "demo"); !errors.Is(err, ErrNoProfile) {
		t.Errorf("no profile yet: %v", err)
	}
	if _, err := s.Put(ctx, []byte(`{"schema":"recoup.tenant/1"}`), time.Now()); !errors.Is(err, tenant.ErrProfile) {
		t.Errorf("a bad profile was stored: %v", err)
	}
	if _, err := s.Put(ctx, tenant.DemoJSON(), time.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := s.Profile(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != tenant.Demo().Name || p.StrategyConfig().Hash() != tenant.Demo().StrategyConfig().Hash() {
		t.Errorf("profile read back %+v", p)
	}
}
