// Command dispatch is the dispatch-gate Lambda every sender calls before
// sending: it returns the decision, already recorded. See shared/dispatch.
package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	gate, err := build(context.Background())
	if err != nil {
		log.Error("start dispatch gate", "err", err)
		os.Exit(1)
	}
	lambda.Start(gate.Dispatch)
}

func build(ctx context.Context) (*dispatch.Gate, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	// RECOUP_POLICY_DIR holds the tenants' policy overrides, <tenant>.json.
	var overrides fs.FS
	if dir := os.Getenv("RECOUP_POLICY_DIR"); dir != "" {
		overrides = os.DirFS(dir)
	}
	engines, err := compliance.LoadEngines(overrides, ".")
	if err != nil {
		return nil, err
	}
	gate, err := dynamo.NewGate(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix(), engines)
	if err != nil {
		return nil, err
	}
	gate.Now = clock.FromEnv(os.Getenv, nil)
	return gate, nil
}
