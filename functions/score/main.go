// Command score is the collection cycle's Score step: it scores one
// customer with the tenant's champion model and picks the channel. See
// shared/cycle (Scorer).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	led := wire.Must(env.Ledger())
	eng := wire.Must(env.Engagement())
	// The contact history gives the letters sent: trials for the channel
	// model, which no receipt reports.
	hist := wire.Must(dynamo.NewContacts(env.DB, env.Prefix, wire.Must(dynamo.NewConsent(env.DB, env.Prefix))))
	s := &cycle.Scorer{Accounts: led, Engagement: eng, Models: wire.Must(env.Models()),
		Profiles: wire.Must(env.Profiles()), History: hist, Now: env.Now}
	lambda.Start(s.Score)
}
