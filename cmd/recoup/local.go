package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: one of up, down, status, env, smoke, install", errUsage)
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
		cfg, err := awsconfig.Load(ctx)
		if err != nil {
			return err
		}
		return local.CreateStreams(ctx, cfg, stdout)
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
	case "install":
		// The pinned npm packages (Node 22 among them, which the CDK app's
		// jsii runtime runs under) without starting anything.
		return local.Install(ctx, cfg, stdout)
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
