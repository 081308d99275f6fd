package cycletest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
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
	ctx := context.Background()
	const id = "C-PILOT-1"
	usd := money.MustCurrency("USD")
	today := ledger.Date(time.Now().UTC().Date())
	if _, err := s.ledger.Upsert(ctx, []ledger.Record{
		ledger.Customer{Tenant: s.tenant, ID: id, Name: "Pat " + id, Kind: ledger.Consumer, Country: "US", Currency: usd},
		ledger.ContactPoint{Tenant: s.tenant, Customer: id, ID: "E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "pilot@example.com"}},
		ledger.Invoice{Tenant: s.tenant, ID: id + "-INV-1", Customer: id, InvoiceDate: today.AddDate(0, 0, -20),
			DueDate: today.AddDate(0, 0, 10), Amount: money.New(18_000, usd), Open: money.New(18_000, usd)},
	}); err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(map[string]string{"tenant": string(s.tenant), "customer": id, "mode": cycle.ModeShadow})
	out, err := s.sfn.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(s.machine),
		Name: aws.String(cycle.ExecutionName(s.tenant, id, time.Now())), Input: aws.String(string(input))})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	t.Cleanup(func() {
		_, _ = s.sfn.StopExecution(context.Background(), &awssfn.StopExecutionInput{ExecutionArn: aws.String(arn)})
	})
	s.parked(t, arn, id, "")
	hist := s.history(t, arn)
	if got, want := tasksEntered(hist), []string{"Score", "Plan", "Shadow", "Park"}; !slices.Equal(got, want) {
		t.Fatalf("task states entered %v, want %v", got, want)
	}

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
