// Command score is the collection cycle's Score step: it scores one
// customer with the tenant's champion model and picks the channel. See
// shared/cycle (Scorer).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/cycle"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	led := wire.Must(env.Ledger())
	eng := wire.Must(env.Engagement())
	s := &cycle.Scorer{Accounts: led, Engagement: eng, Models: wire.Must(env.Models()),
		Profiles: wire.Must(env.Profiles()), Now: env.Now}
	lambda.Start(s.Score)
}
