package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/shadow"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func runShadow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: shadow import|report", errUsage)
	}
	switch args[0] {
	case "import":
		return shadowImport(ctx, args[1:], stdout, stderr)
	case "report":
		return shadowReport(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown shadow action %q (import, report)", errUsage, args[0])
}

// openShadow connects to the pilot store in the contacts table and fails
// early, naming the endpoint, when DynamoDB is not there.
func openShadow(ctx context.Context) (*dynamo.Shadow, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	client := awsconfig.DynamoDB(cfg)
	table := awsconfig.TablePrefix() + dynamo.ContactsTable
	if _, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		return nil, fmt.Errorf("DynamoDB at %s: table %s is not usable (is the local stack up? run `make up`): %w",
			awsconfig.DynamoEndpoint(cfg), table, err)
	}
	return dynamo.NewShadow(client, awsconfig.TablePrefix())
}

func shadowImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("shadow import", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: --tenant and one FILE.csv are required", errUsage)
	}
	t := ledger.TenantID(*tenant)
	if err := t.Validate(); err != nil {
		return fmt.Errorf("%w: --tenant: %v", errUsage, err)
	}
	store, err := openShadow(ctx)
	if err != nil {
		return err
	}
	return importTeamActions(ctx, store, t, fs.Arg(0), time.Now().UTC(), stdout)
}

// importTeamActions reads a team-actions file, writes its rejects beside
// it and stores what it accepted. Storing is idempotent, so after a
// failure the same file can be imported again.
func importTeamActions(ctx context.Context, store shadow.Log, tenant ledger.TenantID, path string, now time.Time, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	actions, rejects, err := shadow.ReadTeamCSV(f, shadow.ReadOptions{Tenant: tenant, Source: filepath.Base(path), Now: now})
	if err != nil {
		return err
	}
	// Written on every run, even with nothing rejected, so an old rejects
	// file never stands for this one.
	rejectsPath := rejectsFile(path)
	if err := writeTeamRejects(rejectsPath, rejects); err != nil {
		return err
	}
	created := 0
	for i, a := range actions {
		a.RecordedAt = now
		isNew, err := store.PutTeamAction(ctx, a)
		if err != nil {
			return fmt.Errorf("stored %d of %d team actions, then: %w (importing the file again is safe)", i, len(actions), err)
		}
		if isNew {
			created++
		}
	}
	fmt.Fprintf(w, "%s: %d rows, %d accepted (%d new, %d already stored), %d rejected",
		filepath.Base(path), len(actions)+len(rejects), len(actions), created, len(actions)-created, len(rejects))
	if len(rejects) > 0 {
		fmt.Fprintf(w, ": rows and reasons in %s", rejectsPath)
	}
	fmt.Fprintln(w)
	return nil
}

// rejectsFile is FILE.rejects.csv for FILE.csv (FILE.x.rejects.csv for any
// other name), beside the input.
func rejectsFile(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return strings.TrimSuffix(path, filepath.Ext(path)) + ".rejects.csv"
	}
	return path + ".rejects.csv"
}

func writeTeamRejects(path string, rejects []shadow.Reject) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	werr := shadow.WriteRejectsCSV(out, rejects)
	return errors.Join(werr, out.Close())
}

func shadowReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("shadow report", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	since := fs.String("since", "", "first day, YYYY-MM-DD (UTC, inclusive; default: the whole pilot)")
	format := fs.String("format", "text", "text or json")
	window := fs.Duration("window", shadow.DefaultWindow, "longest a recommendation waits for the team's action")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: --tenant is required and no FILE is taken", errUsage)
	}
	t := ledger.TenantID(*tenant)
	if err := t.Validate(); err != nil {
		return fmt.Errorf("%w: --tenant: %v", errUsage, err)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want text or json", errUsage, *format)
	}
	if *window <= 0 {
		return fmt.Errorf("%w: --window %s: want a positive duration", errUsage, *window)
	}
	from, err := optionalDay("--since", *since)
	if err != nil {
		return err
	}
	store, err := openShadow(ctx)
	if err != nil {
		return err
	}
	return writeShadowReport(ctx, store, shadow.Options{Tenant: t, From: from, To: time.Now().UTC(), Window: *window}, *format, stdout)
}

// writeShadowReport compares what was recorded in [From, To).
func writeShadowReport(ctx context.Context, store shadow.Log, opts shadow.Options, format string, w io.Writer) error {
	recs, err := store.Recommendations(ctx, opts.Tenant, opts.From, opts.To)
	if err != nil {
		return err
	}
	team, err := store.TeamActions(ctx, opts.Tenant, opts.From, opts.To)
	if err != nil {
		return err
	}
	rep := shadow.Compare(recs, team, opts)
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(w)
}
