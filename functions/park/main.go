// Command park is the collection cycle's Park step (a callback task): it
// records the token that wakes the waiting execution, and wakes it at
// once when an event asked for a re-plan since the plan. See shared/cycle
// (Parker).
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
	p := &cycle.Parker{
		Runs:       wire.Must(env.Runs()),
		Executions: wire.Must(env.Executions()),
		Replans:    wire.Must(env.Engagement()),
		Now:        env.Now,
	}
	lambda.Start(p.Park)
}
