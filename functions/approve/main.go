// Command approve is the collectors' approval API behind API Gateway (HTTP
// API, payload 2.0): it lists the approvals waiting in a tenant and applies
// a collector's verdict, resuming the waiting execution. See shared/approval.
package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/awsconfig"
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
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	store, err := dynamo.NewApprovals(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	resumer, err := sfn.New(sfn.NewClient(cfg))
	if err != nil {
		return nil, err
	}
	svc, err := approval.NewService(store, resumer, interimCheck)
	if err != nil {
		return nil, err
	}
	svc.Log = log
	api, err := approval.NewAPI(svc)
	if err != nil {
		return nil, err
	}
	api.Log = log
	return api, nil
}

// interimCheck stands in for the drafting guardrails until shared/drafting
// lands: replace it with a checker built on drafting.Check (CheckDraft), which
// vets amounts, dates, names, disclosures, banned phrases and links against
// the account's facts.
func interimCheck(_ context.Context, _ approval.Request, d approval.Draft) ([]string, error) {
	var out []string
	if strings.TrimSpace(d.Body) == "" {
		out = append(out, "empty: nothing to send")
	}
	if strings.Contains(strings.ToLower(d.Subject+" "+d.Body), "http") {
		out = append(out, "link: only the system adds the payment link")
	}
	return out, nil
}
