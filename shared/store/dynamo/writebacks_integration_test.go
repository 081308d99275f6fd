package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// TestIntegrationWritebacks: statuses round-trip, a stale version is a
// conflict, and a final state lands with its audit record or not at all.
func TestIntegrationWritebacks(t *testing.T) {
	a, client, prefix := integrationAudit(t)
	w, err := NewWritebacks(client, a, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	act := erp.New("acme", erp.KindPromise, "event:e1", erp.Target{Customer: "C-1", Transaction: "INV-1"}, at)
	act.Amount, act.Date = &erp.Money{Minor: 18000, Currency: "USD"}, "2026-11-06"

	if _, found, err := w.Get(ctx, "acme", act.Key); err != nil || found {
		t.Fatalf("empty: %v %v", found, err)
	}
	sent := erp.Status{Action: act, State: erp.StateSent, Attempts: 1, Version: 1, Updated: at, LeaseUntil: at.Add(2 * time.Minute)}
	if err := w.Put(ctx, sent, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, sent, nil); !errors.Is(err, writeback.ErrConflict) {
		t.Fatalf("second version 1: %v, want ErrConflict", err)
	}
	got, found, err := w.Get(ctx, "acme", act.Key)
	if err != nil || !found {
		t.Fatalf("get: %v %v", found, err)
	}
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// A final state over a stale version writes neither the state nor the
	// audit record.
	confirmed := sent
	confirmed.State, confirmed.Ref, confirmed.Version, confirmed.Updated = erp.StateConfirmed, "PRM-1", 2, at.Add(time.Second)
	confirmed.LeaseUntil = time.Time{}
	rec := audit.Record{Tenant: "acme", At: confirmed.Updated, Kind: audit.KindWriteback, Account: "C-1", Decision: "confirmed", Reason: "promise confirmed"}
	stale := confirmed
	stale.Version = 3
	if err := w.Put(ctx, stale, &rec); !errors.Is(err, writeback.ErrConflict) {
		t.Fatalf("stale final: %v, want ErrConflict", err)
	}
	if h, err := a.Head(ctx, "acme"); err != nil || h.Seq != 0 {
		t.Fatalf("audit head after a refused final: %+v %v", h, err)
	}
	if err := w.Put(ctx, confirmed, &rec); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Range(ctx, "acme", 1, 10)
	if err != nil || len(recs) != 1 || recs[0].Decision != "confirmed" || recs[0].Kind != audit.KindWriteback {
		t.Fatalf("audit after the final: %+v %v", recs, err)
	}
	if got, _, _ := w.Get(ctx, "acme", act.Key); got.State != erp.StateConfirmed || got.Ref != "PRM-1" || !got.LeaseUntil.IsZero() {
		t.Errorf("after confirm: %+v", got)
	}

	// Listed by state (GSI1 is eventually consistent).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var keys []string
		for st, err := range w.List(ctx, "acme", erp.StateConfirmed) {
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, st.Action.Key)
		}
		if len(keys) == 1 && keys[0] == act.Key {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmed list %v", keys)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for st, err := range w.List(ctx, "acme", erp.StateSent) {
		t.Errorf("sent list holds %+v %v after the confirm", st.Action.Key, err)
	}
}
