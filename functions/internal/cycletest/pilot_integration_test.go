package cycletest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// TestIntegrationCyclePilotRecordsWaits runs a pilot (shadow) cycle for a
// customer with nothing overdue yet: the plan is to wait, and the pilot
// records that recommendation too, before the cycle parks. The agreement
// report needs it: a team that chased this customer today disagreed.
func TestIntegrationCyclePilotRecordsWaits(t *testing.T) {
	s := setup(t)
	t.Parallel()
	const id = "C-PILOT-1"
	s.putCustomer(t, ledger.Customer{Tenant: s.tenant, ID: id, Name: "Pat " + id, Kind: ledger.Consumer, Country: "US"},
		person{id: id, email: "pilot@example.com"}, 18_000, 10)
	arn := s.startIn(t, id, cycle.ModeShadow)
	s.parked(t, arn, id, "")
	hist := s.history(t, arn)
	if got, want := tasksEntered(hist), []string{"Score", "Plan", "Shadow", "Park"}; !slices.Equal(got, want) {
		t.Fatalf("task states entered %v, want %v", got, want)
	}

	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store, err := dynamo.NewShadow(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Recommendations(ctx, s.tenant, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, r := range recs {
		if r.Customer == id {
			mine = append(mine, string(r.Outcome)+"/"+r.Route)
		}
	}
	if want := []string{string(strategy.OutcomeNone) + "/" + cycle.RoutePark}; !slices.Equal(mine, want) {
		t.Errorf("recommendations recorded for %s: %v, want %v", id, mine, want)
	}
}
