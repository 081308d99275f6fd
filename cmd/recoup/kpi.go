package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/recoup-dev/recoup/shared/kpi"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

func runKPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("kpi", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	asOf := fs.String("as-of", "", "date the KPIs are measured at, YYYY-MM-DD (default: today, UTC)")
	window := fs.Int("window", 30, "days in the CEI window")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	at, err := parseAsOf(*asOf)
	if err != nil {
		return err
	}
	store, _, err := openLedger(ctx)
	if err != nil {
		return err
	}
	return printKPIs(ctx, stdout, store, ledger.TenantID(*tenant), kpi.Options{AsOf: at, Window: *window})
}

func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		y, m, d := time.Now().UTC().Date()
		return ledger.Date(y, m, d), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --as-of %q is not a YYYY-MM-DD date", errUsage, s)
	}
	return t, nil
}

func printKPIs(ctx context.Context, w io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, opts kpi.Options) error {
	invoices, err := store.Invoices(ctx, tenant)
	if err != nil {
		return err
	}
	payments, err := store.Payments(ctx, tenant)
	if err != nil {
		return err
	}
	if len(invoices) == 0 {
		return fmt.Errorf("tenant %s has no invoices in the ledger; import some first", tenant)
	}
	reports, err := kpi.Compute(invoices, payments, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBaseline KPIs for tenant %s as of %s (%d invoices, %d payments)\n", tenant, opts.AsOf.Format("2006-01-02"), len(invoices), len(payments))
	return kpi.WriteTable(w, reports)
}
