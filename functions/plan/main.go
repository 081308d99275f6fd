// Command plan is the collection cycle's Plan step: the strategy engine
// decides the next action and when. See shared/cycle (Planner).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	cs := wire.Must(dynamo.NewConsent(env.DB, env.Prefix))
	profiles := wire.Must(env.Profiles())
	p := &cycle.Planner{
		Accounts: wire.Must(env.Ledger()),
		History:  wire.Must(dynamo.NewContacts(env.DB, env.Prefix, cs)),
		Consent:  cs,
		Config: func(ctx context.Context, t ledger.TenantID) (*strategy.Config, error) {
			prof, err := profiles.Profile(ctx, t)
			if err != nil {
				return nil, err
			}
			return prof.StrategyConfig(), nil
		},
		Now: env.Now,
	}
	lambda.Start(p.Plan)
}
