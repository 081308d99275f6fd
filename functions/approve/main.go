// Command approve is the collectors' approval API behind an API Gateway REST
// API (Lambda proxy integration): it lists the approvals waiting in a tenant
// and applies a collector's verdict, resuming the waiting execution. See
// shared/approval.
//
// Besides the variables functions/internal/wire reads, it takes:
//
//	RECOUP_API_AUTH  "cognito" behind the Cognito user pool authorizer: the
//	                 tenant is the ID token's custom:tenant claim and a
//	                 request naming another is refused (403). Unset on the
//	                 local stack, where no authorizer runs: the tenant is the
//	                 one the request names. Any other value fails the cold
//	                 start, so a typo cannot fall back to trusting the client.
//	                 With cognito, a verdict is also recorded under the
//	                 token's email (a body "by" naming someone else is refused).
//	RECOUP_TENANT    with cognito, the one tenant the API serves (a token of
//	                 any other is refused, 403); unset, any tenant. The
//	                 local stack ignores it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/functions/internal/wire"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
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
	// Before any AWS call, so a misconfigured deployment fails at once.
	tenantOf, err := tenantFunc(os.Getenv)
	if err != nil {
		return nil, err
	}
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
	api.Log, api.TenantOf = log, tenantOf
	if os.Getenv("RECOUP_API_AUTH") == "cognito" {
		api.ActorOf = approval.ActorFromClaims(actorClaim, actorClaim+"_verified")
	}
	return api, nil
}

// tenantClaim is the ID token claim the deployment's user pool keeps the
// collector's tenant in.
const tenantClaim = "custom:tenant"

// actorClaim is the ID token claim naming the collector who signed in.
const actorClaim = "email"

// tenantFunc chooses how a request's tenant is found, from RECOUP_API_AUTH
// and RECOUP_TENANT (see the package comment). Empty counts as unset, as
// wire reads variables.
func tenantFunc(getenv func(string) string) (approval.TenantFunc, error) {
	switch auth := getenv("RECOUP_API_AUTH"); auth {
	case "":
		return approval.TenantFromRequest, nil
	case "cognito":
		only := ledger.TenantID(getenv("RECOUP_TENANT"))
		if only == "" {
			return approval.TenantFromClaims(tenantClaim), nil
		}
		if err := only.Validate(); err != nil {
			return nil, fmt.Errorf("RECOUP_TENANT must be a tenant id: %w", err)
		}
		return approval.TenantFromClaims(tenantClaim, only), nil
	default:
		return nil, fmt.Errorf("RECOUP_API_AUTH is %q: want \"cognito\" (behind the Cognito authorizer) or unset (the local stack)", auth)
	}
}
