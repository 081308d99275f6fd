// Command wake starts a customer's collection cycle or wakes the one
// waiting (the daily run's Map item, or an engagement event's re-plan).
// RECOUP_CYCLE_STATE_MACHINE names the cycle's state machine ARN. See
// shared/cycle (Waker).
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
	w := &cycle.Waker{
		Runs:       wire.Must(env.Runs()),
		Executions: wire.Must(env.Executions()),
		Machine:    wire.Must(env.Required("RECOUP_CYCLE_STATE_MACHINE", "the collection cycle's state machine ARN")),
		Now:        env.Now,
	}
	lambda.Start(w.Wake)
}
