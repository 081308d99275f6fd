// Command approvals is the Lambda behind the cycle's Approval state
// (lambda:invoke.waitForTaskToken): it stores the approval request with its
// task token and returns; the execution waits until a collector decides
// through the approve API. See shared/approval.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	svc, err := build(context.Background(), log)
	if err != nil {
		log.Error("start approval registration", "err", err)
		os.Exit(1)
	}
	lambda.Start(approval.RegistrationHandler(svc))
}

func build(ctx context.Context, log *slog.Logger) (*approval.Service, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	store, err := dynamo.NewApprovals(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	// Step Functions only to fail a task whose payload is unusable.
	resumer, err := sfn.New(sfn.NewClient(cfg))
	if err != nil {
		return nil, err
	}
	// No checker: this function only registers; verdicts come through the
	// approve API.
	svc, err := approval.NewService(store, resumer, nil)
	if err != nil {
		return nil, err
	}
	svc.Log, svc.Now = log, clock.FromEnv(os.Getenv, log)
	return svc, nil
}
