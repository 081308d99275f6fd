package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/kpi"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/tenant"
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
	every := fs.Int("every", 3, "run the daily run every N business days of the simulation (1: every business day, about 35 s each)")
	days := fs.Int("days", 30, "simulated days after the portfolio's date")
	timings := fs.String("timings", "", "also write how long each stage took to this file, as JSON (make bench reads it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *every < 1 {
		return fmt.Errorf("%w: --every %d: want 1 or more", errUsage, *every)
	}
	if *days < 1 || *days > 366 {
		return fmt.Errorf("%w: --days %d: want 1 to 366", errUsage, *days)
	}
	watch := newStopwatch()
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
	// The cycle's functions read the creditor's name, disclosure texts and
	// strategy from the tenant's profile: the sample one, under this tenant.
	if err := putDemoProfile(ctx, ledger.TenantID(*tenant)); err != nil {
		return err
	}
	var files []string
	for _, name := range []string{"customers.csv", "contacts.csv", "invoices.csv", "payments.csv"} {
		files = append(files, filepath.Join(*dir, name))
	}
	f := ingestFlags{tenant: *tenant, format: "canonical", currency: "USD", region: "US", rejects: filepath.Join(*dir, "rejects.csv")}

	watch.lap("generate")
	fmt.Fprintf(stdout, "\n== 2. Import into the ledger (DynamoDB at %s)\n", endpoint)
	res, err := ingestFiles(ctx, store, f, files, stderr)
	if err != nil {
		return err
	}
	if err := printIngest(stdout, res, f.rejects); err != nil {
		return err
	}

	watch.lap("import")
	fmt.Fprintln(stdout, "\n== 3. Import the same files again: nothing may change")
	again, err := ingestFiles(ctx, store, f, files, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   inserted %d, updated %d, unchanged %d\n", again.Counts.Inserted, again.Counts.Updated, again.Counts.Unchanged)
	if again.Counts.Inserted+again.Counts.Updated != 0 {
		return fmt.Errorf("re-import changed %d records; imports must be idempotent", again.Counts.Inserted+again.Counts.Updated)
	}

	watch.lap("reimport")
	fmt.Fprintln(stdout, "\n== 4. Baseline KPIs (the \"before\" numbers)")
	if err := printKPIs(ctx, stdout, store, ledger.TenantID(*tenant), kpi.Options{AsOf: cfg.AsOf, Window: 30}); err != nil {
		return err
	}

	root, err := repoRoot()
	if err != nil {
		return err
	}
	lc := local.DefaultConfig(root)
	fmt.Fprintln(stdout, "\n== 5. Train the ranking model on the ledger; the champion is what the cycle's Lambdas score with")
	reg := registry.Registry{Blobs: registry.Dir(filepath.Join(lc.StateDir, "models"))}
	watch.lap("kpis")
	rep, err := trainModel(ctx, store, reg, ledger.TenantID(*tenant), cfg.AsOf, 1)
	if err != nil {
		return err
	}
	watch.lap("train")
	printTraining(stdout, rep)
	first := cfg.AsOf.AddDate(0, 0, 1)
	for first.Weekday() == time.Saturday || first.Weekday() == time.Sunday {
		first = first.AddDate(0, 0, 1)
	}
	// The worklist the daily run orders its cycles by, as a collector
	// would read it: the demo tenant's currency and rates, as the run uses.
	morning := first.Add(dailyRunHour * time.Hour)
	if err := printDemoWorklist(ctx, stdout, store, reg, ledger.TenantID(*tenant), morning, 10, "most valuable first"); err != nil {
		return err
	}

	demo, err := newCycleDemo(ctx, store, ledger.TenantID(*tenant), cfg.Seed, *dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\n== 6. The contact points' consent, as imported, into the consent ledger the dispatch gate reads")
	if err := seedConsent(ctx, stdout, store, ledger.TenantID(*tenant), first); err != nil {
		return err
	}
	erpSide, err := newERPDemo(ctx, lc, ledger.TenantID(*tenant), demo.runner.approvals)
	if err != nil {
		return err
	}
	if err := erpSide.seed(ctx, stdout, store); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\n== 7. Day 1, %s: the daily run on Step Functions (recoup-daily, then one recoup-cycle execution per customer)\n", first.Format("Mon 2 Jan 2006"))
	fmt.Fprintf(stdout, "   the stack's clock is set to %s; every Lambda reads it (%s)\n", first.Add(dailyRunHour*time.Hour).Format(time.RFC3339), lc.ClockFile())
	demo.runner.progress = stdout
	// The dead-letter queue outlives the stack's other state; letters
	// SQS took before this point are another run's.
	watch.lap("consent")
	day1Began := time.Now().Truncate(time.Millisecond) // SQS stamps milliseconds
	day1, err := demo.runDay(ctx, first, 1)
	demo.runner.progress = nil
	if err != nil {
		return err
	}
	if err := printWave(stdout, day1.wave); err != nil {
		return err
	}
	if err := printSamples(stdout, demo.outbox, day1.wave); err != nil {
		return err
	}
	held, err := erpSide.approveHolds(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   a collector approves the %d credit holds waiting (the approve API): their cycles resume, and Send queues each hold for the ERP\n", held)

	fmt.Fprintln(stdout, "\n== 8. The day's engagement on the Kinesis stream: the engagement Lambda applies it and wakes the waiting cycles")
	fmt.Fprintf(stdout, "   %d events for the %d e-mails, texts and calls sent (written to %s/engagement-day-01.jsonl)\n", len(day1.events), len(day1.contacted), *dir)
	if err := printEventTypes(stdout, day1.events); err != nil {
		return err
	}
	printReplanned(stdout, day1)
	cfgAWS, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	if err := printDeadLetters(ctx, stdout, cfgAWS, day1Began, first.Add(dailyRunHour*time.Hour), first.AddDate(0, 0, 2)); err != nil {
		return err
	}

	watch.day(day1)
	end := cfg.AsOf.AddDate(0, 0, *days)
	fmt.Fprintf(stdout, "\n== 9. To %s, every %d business days: the daily run (it wakes every cycle whose time has come), then the day's engagement\n",
		end.Format("Mon 2 Jan 2006"), *every)
	printDayLine(stdout, first, day1)
	n, business := 1, 0
	for date := first.AddDate(0, 0, 1); !date.After(end); date = date.AddDate(0, 0, 1) {
		if date.Weekday() == time.Saturday || date.Weekday() == time.Sunday {
			continue
		}
		if business++; business%*every != 0 {
			continue
		}
		n++
		dy, err := demo.runDay(ctx, date, n)
		if err != nil {
			return fmt.Errorf("day %d (%s): %w", n, date.Format("2006-01-02"), err)
		}
		printDayLine(stdout, date, dy)
		watch.day(dy)
		if _, err := erpSide.approveHolds(ctx); err != nil {
			return err
		}
	}
	after, err := demo.textsAfterStop()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   %d numbers replied STOP; texts sent to them afterwards: %d\n", len(demo.stops), after)
	if after != 0 {
		return fmt.Errorf("%d texts went to numbers after they replied STOP", after)
	}
	if err := printPending(ctx, stdout, demo.runner, ledger.TenantID(*tenant)); err != nil {
		return err
	}
	// A month of replies, payments, promises and letters sent has moved
	// the channel model: the channels now come from each customer's own
	// responses, not the population's alone.
	evening := end.Add(dailyRunHour * time.Hour)
	if err := printDemoWorklist(ctx, stdout, store, reg, ledger.TenantID(*tenant), evening, 5, "after the month's engagement"); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "\n== 10. The ERP write-back: the cycle's credit holds, dunning letters and collector notes in Oracle EBS (the simulator), each applied once")
	if err := erpSide.settle(ctx, 3*time.Minute); err != nil {
		return err
	}
	if err := erpSide.print(ctx, stdout); err != nil {
		return err
	}
	watch.lap("writeback")

	fmt.Fprintf(stdout, "\n== 11. KPIs before and after the %d days\n", *days)
	if err := printKPIComparison(ctx, stdout, store, ledger.TenantID(*tenant), cfg.AsOf, end); err != nil {
		return err
	}
	if *timings != "" {
		if err := watch.write(*timings); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "   Payments in the simulation come only from customers answering the cycle's contacts (the portfolio's")
	fmt.Fprintln(stdout, "   response model); what they would have paid unprompted is not simulated, so \"no cycle\" is the ledger")
	fmt.Fprintln(stdout, "   left to age. `recoup outbox` lists every message; the stack's clock stays at the demo's last day.")
	return nil
}

// putDemoProfile stores the sample portfolio's tenant profile as tenant t.
func putDemoProfile(ctx context.Context, t ledger.TenantID) error {
	var doc map[string]any
	if err := json.Unmarshal(tenant.DemoJSON(), &doc); err != nil {
		return err
	}
	doc["tenant"] = string(t)
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	store, err := dynamo.NewTenants(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return err
	}
	_, err = store.Put(ctx, data, time.Now())
	return err
}

// printDemoWorklist prints the top of the tenant's worklist at at, scored
// by the champion with the demo profile's economics, reasons and
// channels included.
func printDemoWorklist(ctx context.Context, w io.Writer, store *dynamo.Ledger, reg registry.Registry, t ledger.TenantID, at time.Time, top int, what string) error {
	pc := tenant.Demo().Priority()
	fmt.Fprintf(w, "   the worklist for %s, %s (values in %s):\n", at.Format("Mon 2 Jan 15:04 MST"), what, pc.Currency.Code())
	wl, version, err := buildWorklist(ctx, store, reg, t, at, pc)
	if err != nil {
		return fmt.Errorf("worklist: %w", err)
	}
	printWorklist(w, wl, version, at, top)
	return nil
}
