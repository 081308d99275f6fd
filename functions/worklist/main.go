// Command worklist is the daily run's Worklist step: it scores a tenant's
// open receivables and lists the customers to wake, most valuable first
// (at most RECOUP_DAILY_LIMIT, default 1000, and as many as fit the
// execution's 256 KB: RECOUP_CYCLE_STATE_MACHINE, the cycle's ARN, sizes
// them exactly). See shared/cycle (Lister).
package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/cycle"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx))
	l := &cycle.Lister{
		Ledger:     wire.Must(env.Ledger()),
		Engagement: wire.Must(env.Engagement()),
		Models:     wire.Must(env.Models()),
		Profiles:   wire.Must(env.Profiles()),
		Runs:       wire.Must(env.Runs()),
		Limit:      wire.Must(limit(env)),
		Machine:    env.Getenv("RECOUP_CYCLE_STATE_MACHINE"),
		Now:        env.Now,
		Log:        env.Log,
	}
	lambda.Start(l.List)
}

func limit(env *wire.Env) (int, error) {
	v := env.Getenv("RECOUP_DAILY_LIMIT")
	if v == "" {
		return cycle.DefaultDailyLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1800 {
		// 1,800 items of about 140 bytes fill the 256 KB document; the
		// Lister's byte budget (cycle.DailyBudget) cuts longer ids sooner.
		return 0, fmt.Errorf("RECOUP_DAILY_LIMIT=%q: want a whole number from 1 to 1800", v)
	}
	return n, nil
}
