package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
)

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: one of up, down, status, env, smoke", errUsage)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	cfg := local.DefaultConfig(root)
	switch args[0] {
	case "up":
		if err := local.Up(ctx, cfg, stdout); err != nil {
			return err
		}
		for _, kv := range local.Env(cfg) {
			k, v, _ := strings.Cut(kv, "=")
			if os.Getenv(k) == "" {
				os.Setenv(k, v)
			}
		}
		if err := createTables(ctx, stdout); err != nil {
			return err
		}
		return createStreams(ctx, stdout)
	case "down":
		return local.Down(ctx, cfg, stdout)
	case "status":
		return local.Status(ctx, cfg, stdout)
	case "env":
		for _, kv := range local.Env(cfg) {
			fmt.Fprintf(stdout, "export %s\n", kv)
		}
		return nil
	case "smoke":
		return local.SmokeStepFunctions(ctx, cfg, stdout)
	}
	return fmt.Errorf("%w: unknown action %q", errUsage, args[0])
}

// repoRoot finds the repository (RECOUP_ROOT, or the nearest folder up from
// here holding infra/local), where the stack's files and state live.
func repoRoot() (string, error) {
	if r := os.Getenv("RECOUP_ROOT"); r != "" {
		return r, nil
	}
	return local.FindRepoRoot(".")
}

func runTables(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "create" {
		return fmt.Errorf("%w: tables create", errUsage)
	}
	return createTables(ctx, stdout)
}

func createTables(ctx context.Context, w io.Writer) error {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	res, err := dynamo.EnsureTables(ctx, awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return fmt.Errorf("DynamoDB at %s: %w", awsconfig.DynamoEndpoint(cfg), err)
	}
	for _, r := range res {
		state := "exists"
		if r.Created {
			state = "created"
		}
		fmt.Fprintf(w, "table %-24s %s\n", r.Table, state)
	}
	return nil
}

// Local names of the engagement stream and its dead-letter queue; the
// Lambda host's configuration (infra/local/lambdahost.json) uses the same.
const (
	engagementStream = "recoup-engagement"
	engagementDLQ    = "recoup-engagement-dlq"
	engagementShards = 4
)

// createStreams creates the engagement stream and dead-letter queue on the
// local stack (CDK creates them in AWS).
func createStreams(ctx context.Context, w io.Writer) error {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	pub, err := kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), engagementStream)
	if err != nil {
		return err
	}
	if err := pub.EnsureStream(ctx, engagementShards); err != nil {
		return fmt.Errorf("kinesis: %w", err)
	}
	fmt.Fprintf(w, "stream %-23s active\n", engagementStream)
	url, err := sqsq.EnsureQueue(ctx, awssqs.NewFromConfig(cfg), engagementDLQ, map[string]string{"MessageRetentionPeriod": "1209600"})
	if err != nil {
		return fmt.Errorf("sqs: %w", err)
	}
	fmt.Fprintf(w, "queue  %-23s %s\n", engagementDLQ, url)
	return nil
}
