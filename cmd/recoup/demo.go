package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/recoup-dev/recoup/shared/kpi"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	def := portfolio.Default()
	out := fs.String("out", "out/portfolio", "folder to write the CSV files and manifest.json into")
	fs.Int64Var(&def.Seed, "seed", def.Seed, "random seed; the same seed writes the same files")
	fs.IntVar(&def.Customers, "customers", def.Customers, "number of customers")
	fs.IntVar(&def.Invoices, "invoices", def.Invoices, "number of invoices")
	fs.BoolVar(&def.BadRows, "bad-rows", def.BadRows, "inject deliberately bad rows (listed in manifest.json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := portfolio.Generate(*out, def)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the sample portfolio (seed %d) to %s: %d bad rows injected\n", def.Seed, *out, len(m.BadRows))
	return nil
}

// runDemo is the main job end to end on the sample portfolio; `make demo`
// starts the local stack first.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	dir := fs.String("dir", "out/demo", "working folder for the generated files and the rejects file")
	tenant := fs.String("tenant", "demo", "tenant id to import into")
	cfg := portfolio.Default()
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "portfolio seed")
	fs.IntVar(&cfg.Customers, "customers", cfg.Customers, "number of customers")
	fs.IntVar(&cfg.Invoices, "invoices", cfg.Invoices, "number of invoices")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Tenant = *tenant

	fmt.Fprintf(stdout, "== 1. Sample portfolio: %d customers, %d invoices (seed %d)\n", cfg.Customers, cfg.Invoices, cfg.Seed)
	start := time.Now()
	m, err := portfolio.Generate(*dir, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   written to %s in %s, with %d deliberately bad rows\n", *dir, time.Since(start).Round(time.Millisecond), len(m.BadRows))

	store, endpoint, err := openLedger(ctx)
	if err != nil {
		return err
	}
	if *tenant == "demo" {
		// The cycle's functions read the creditor's name, disclosure texts
		// and strategy from the tenant's profile.
		if err := runTenant(ctx, []string{"put", "--demo"}, io.Discard, stderr); err != nil {
			return err
		}
	}
	var files []string
	for _, name := range []string{"customers.csv", "contacts.csv", "invoices.csv", "payments.csv"} {
		files = append(files, filepath.Join(*dir, name))
	}
	f := ingestFlags{tenant: *tenant, format: "canonical", currency: "USD", region: "US", rejects: filepath.Join(*dir, "rejects.csv")}

	fmt.Fprintf(stdout, "\n== 2. Import into the ledger (DynamoDB at %s)\n", endpoint)
	res, err := ingestFiles(ctx, store, f, files, stderr)
	if err != nil {
		return err
	}
	if err := printIngest(stdout, res, f.rejects); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "\n== 3. Import the same files again: nothing may change")
	again, err := ingestFiles(ctx, store, f, files, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   inserted %d, updated %d, unchanged %d\n", again.Counts.Inserted, again.Counts.Updated, again.Counts.Unchanged)
	if again.Counts.Inserted+again.Counts.Updated != 0 {
		return fmt.Errorf("re-import changed %d records; imports must be idempotent", again.Counts.Inserted+again.Counts.Updated)
	}

	fmt.Fprintln(stdout, "\n== 4. Baseline KPIs (the \"before\" numbers)")
	if err := printKPIs(ctx, stdout, store, ledger.TenantID(*tenant), kpi.Options{AsOf: cfg.AsOf, Window: 30}); err != nil {
		return err
	}

	// 15:00 UTC on the as-of date: mid-morning in the East, before 08:00 on
	// the Pacific coast and in Alaska and Hawaii, so the hours rules show.
	at := cfg.AsOf.Add(15 * time.Hour)
	fmt.Fprintf(stdout, "\n== 5. First plan through the dispatch gate (%s, every decision recorded and audited)\n", at.Format(time.RFC3339))
	plan, outs, err := runFirstPlan(ctx, stdout, stderr, store, ledger.TenantID(*tenant), at)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "\n== 6. A day of engagement on the Kinesis stream, applied by the engagement Lambda")
	if err := engagementDay(ctx, stdout, store, ledger.TenantID(*tenant), plan, outs, *dir, cfg.Seed); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "\n== 7. Train the ranking model on the ledger (challenger against the champion, if any)")
	reg := registry.Registry{Blobs: registry.Dir(filepath.Join(*dir, "models"))}
	rep, err := trainModel(ctx, store, reg, ledger.TenantID(*tenant), cfg.AsOf, 1)
	if err != nil {
		return err
	}
	printTraining(stdout, rep)

	next := at.Add(24 * time.Hour)
	fmt.Fprintf(stdout, "\n== 8. The worklist the next morning (%s): ordered by the value of acting now\n", next.Format(time.RFC3339))
	fmt.Fprintln(stdout, "   (values in USD; CAD and EUR at fixed demo rates 0.71 and 1.08)")
	pc, err := priorityConfig(worklistFlags{currency: "USD", rates: "CAD=0.71,EUR=1.08", lift: 0.5})
	if err != nil {
		return err
	}
	wl, version, err := buildWorklist(ctx, store, reg, ledger.TenantID(*tenant), next, pc)
	if err != nil {
		return err
	}
	printWorklist(stdout, wl, version, next, 10)
	return nil
}
