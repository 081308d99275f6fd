// Command approve is the collectors' approval API behind API Gateway (HTTP
// API, payload 2.0): it lists the approvals waiting in a tenant and applies
// a collector's verdict, resuming the waiting execution. See shared/approval.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	api, err := build(context.Background(), log)
	if err != nil {
		log.Error("start approve API", "err", err)
		os.Exit(1)
	}
	lambda.Start(api.Handle)
}

func build(ctx context.Context, log *slog.Logger) (*approval.API, error) {
	env, err := wire.Load(ctx)
	if err != nil {
		return nil, err
	}
	cfg := env.AWS
	store, err := dynamo.NewApprovals(env.DB, env.Prefix)
	if err != nil {
		return nil, err
	}
	resumer, err := sfn.New(sfn.NewClient(cfg))
	if err != nil {
		return nil, err
	}
	// An edited draft passes the same guardrails as a model's.
	profiles, err := env.Profiles()
	if err != nil {
		return nil, err
	}
	led, err := env.Ledger()
	if err != nil {
		return nil, err
	}
	edits := &cycle.EditChecker{Accounts: led, Profiles: profiles}
	check := func(ctx context.Context, r approval.Request, d approval.Draft) ([]string, error) {
		return edits.Check(ctx, r.Tenant, r.Customer, r.Decision, d.Subject, d.Body)
	}
	svc, err := approval.NewService(store, resumer, check)
	if err != nil {
		return nil, err
	}
	svc.Log, svc.Now = log, env.Now
	api, err := approval.NewAPI(svc)
	if err != nil {
		return nil, err
	}
	api.Log = log
	return api, nil
}
