package dynamo

import (
	"context"
	"errors"
	"fmt"
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

	// A start recorded after its cycle parked leaves the token alone; a
	// start of a new execution replaces the record.
	parked := cycle.Run{Tenant: "acme", Customer: "C2", Execution: "arn:x:2", Token: "tok-2", Until: at.Add(time.Hour), At: at.Add(time.Second)}
	if err := runs.Put(ctx, parked); err != nil {
		t.Fatal(err)
	}
	if err := runs.Begin(ctx, cycle.Run{Tenant: "acme", Customer: "C2", Execution: "arn:x:2", At: at}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := runs.Get(ctx, "acme", "C2"); got.Token != "tok-2" {
		t.Errorf("a late start record of the same execution overwrote the parked run: %+v", got)
	}
	if err := runs.Begin(ctx, cycle.Run{Tenant: "acme", Customer: "C2", Execution: "arn:x:3", At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := runs.Get(ctx, "acme", "C2"); got.Token != "" || got.Execution != "arn:x:3" {
		t.Errorf("the start of a new execution did not replace the record: %+v", got)
	}

	// Many at once, over more than one batch: only customers with a run,
	// and only the tenant's.
	var customers []string
	wantMany := map[string]cycle.Run{}
	for i := range 230 {
		c := fmt.Sprintf("M%03d", i)
		customers = append(customers, c)
		if i%3 == 0 {
			continue
		}
		r := cycle.Run{Tenant: "acme", Customer: c, Execution: "arn:x:" + c, Token: "tok-" + c, Until: at.Add(time.Duration(i) * time.Minute), At: at}
		if err := runs.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		wantMany[c] = r
	}
	if err := runs.Put(ctx, cycle.Run{Tenant: "other", Customer: "M001", Execution: "arn:y", At: at}); err != nil {
		t.Fatal(err)
	}
	many, err := runs.Runs(ctx, "acme", customers)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantMany, many); diff != "" {
		t.Errorf("runs of 230 customers (-want +got):\n%s", diff)
	}
	if _, err := runs.Runs(ctx, "acme", []string{"M001", ""}); err == nil {
		t.Error("an empty customer id was read")
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
