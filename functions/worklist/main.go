// Command worklist is the daily run's Worklist step: it scores a tenant's
// open receivables and lists the customers to wake, most valuable first
// (at most RECOUP_DAILY_LIMIT, default 1000). See shared/cycle (Lister).
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
		Now:        env.Now,
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
		// 1,800 items of about 130 bytes stay under the 256 KB document.
		return 0, fmt.Errorf("RECOUP_DAILY_LIMIT=%q: want a whole number from 1 to 1800", v)
	}
	return n, nil
}
