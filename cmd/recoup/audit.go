package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// errChainBroken makes `audit verify` exit 1 when it finds a problem.
var errChainBroken = errors.New("the audit chain does not verify")

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: audit export|verify", errUsage)
	}
	switch args[0] {
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown audit action %q (export, verify)", errUsage, args[0])
}

func openAudit(ctx context.Context) (*dynamo.Audit, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return dynamo.NewAudit(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
}

func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit export", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	account := fs.String("account", "", "only this customer account")
	from := fs.String("from", "", "first day, YYYY-MM-DD (UTC, inclusive)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (UTC, inclusive)")
	format := fs.String("format", "jsonl", "jsonl (lossless, verifiable) or csv")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	f, err := audit.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("%w: --format: %v", errUsage, err)
	}
	start, err := optionalDay("--from", *from)
	if err != nil {
		return err
	}
	end, err := optionalDay("--to", *to)
	if err != nil {
		return err
	}
	if !end.IsZero() {
		end = end.AddDate(0, 0, 1) // --to is inclusive; the query's bound is not
	}
	store, err := openAudit(ctx)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer file.Close()
		w = file
	}
	ew, err := audit.NewWriter(w, f)
	if err != nil {
		return err
	}
	for r, err := range store.Query(ctx, ledger.TenantID(*tenant), *account, start, end) {
		if err != nil {
			return fmt.Errorf("read the audit log of %s: %w", *tenant, err)
		}
		if err := ew.Write(r); err != nil {
			return err
		}
	}
	if err := ew.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d audit records of tenant %s\n", ew.Count(), *tenant)
	return nil
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	file := fs.String("file", "", "verify a JSONL export instead of the stored log (a whole-chain export)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	t := ledger.TenantID(*tenant)
	var problems []audit.Problem
	what := ""
	if *file != "" {
		in, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer in.Close()
		v := audit.NewVerifier(t, audit.Options{})
		n := 0
		for r, err := range audit.ReadJSONL(in) {
			if err != nil {
				return fmt.Errorf("%s: %w", *file, err)
			}
			v.Add(r)
			n++
		}
		problems, what = v.Finish(), fmt.Sprintf("%d records in %s", n, *file)
	} else {
		store, err := openAudit(ctx)
		if err != nil {
			return err
		}
		var head audit.Head
		problems, head, err = store.Verify(ctx, t)
		if err != nil {
			return fmt.Errorf("read the audit log of %s: %w", *tenant, err)
		}
		what = fmt.Sprintf("the stored chain of tenant %s up to seq %d", *tenant, head.Seq)
	}
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "ok: %s verify\n", what)
		return nil
	}
	fmt.Fprintf(stdout, "%d problem(s) in %s:\n", len(problems), what)
	for _, p := range problems {
		fmt.Fprintf(stdout, "  seq %d: %s: %s\n", p.Seq, p.Kind, p.Detail)
	}
	return errChainBroken
}

func optionalDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not a YYYY-MM-DD date", errUsage, flag, s)
	}
	return t, nil
}
