package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/priority"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/training"
	"github.com/recoup-dev/recoup/shared/worklist"
)

// registryDir is where `recoup model train` keeps artifacts locally:
// RECOUP_MODEL_DIR, or .local/models in the repository.
func registryDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if d := os.Getenv("RECOUP_MODEL_DIR"); d != "" {
		return d, nil
	}
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return "", fmt.Errorf("%w: pass --registry DIR (%v)", errUsage, err)
	}
	return filepath.Join(root, ".local", "models"), nil
}

func runModelTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model train", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	asOf := fs.String("as-of", "", "the date the ledger was exported, YYYY-MM-DD (default: today, UTC)")
	dir := fs.String("registry", "", "model registry directory (default: $RECOUP_MODEL_DIR or .local/models)")
	seed := fs.Uint64("seed", 1, "training seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	end, err := parseAsOf(*asOf)
	if err != nil {
		return err
	}
	d, err := registryDir(*dir)
	if err != nil {
		return err
	}
	store, _, err := openLedger(ctx)
	if err != nil {
		return err
	}
	rep, err := trainModel(ctx, store, registry.Registry{Blobs: registry.Dir(d)}, ledger.TenantID(*tenant), end, *seed)
	if err != nil {
		return err
	}
	printTraining(stdout, rep)
	return nil
}

func trainModel(ctx context.Context, store training.Source, reg registry.Registry, tenant ledger.TenantID, end time.Time, seed uint64) (training.Report, error) {
	return training.Job{Source: store, Registry: reg, Config: ranking.Config{Seed: seed}}.Run(ctx, tenant, end)
}

func printTraining(w io.Writer, rep training.Report) {
	v := rep.Challenger
	fmt.Fprintf(w, "   trained %s on %d invoices (data to %s) in %.1f s\n", rep.Version, rep.Invoices, rep.DataEnd.Format(time.DateOnly), rep.Seconds)
	fmt.Fprintf(w, "   held-out weeks %s to %s, %d open invoices:\n", v.From.Format(time.DateOnly), v.To.Format(time.DateOnly), v.Rows)
	for j, n := range ranking.Horizons {
		c := v.Within[j]
		fmt.Fprintf(w, "     paid within %2d days: AUC %.3f  Brier %.3f  calibration error %.3f  (%.0f%% paid)\n", n, c.AUC, c.Brier, c.ECE, 100*c.Positive)
	}
	fmt.Fprintf(w, "     expected days to pay: mean absolute error %.1f days on %d invoices\n", v.DaysMAE, v.DaysRows)
	fmt.Fprintf(w, "     baseline (customer's on-time share): 30-day AUC %.3f\n", v.Baseline)
	verdict := "kept as challenger"
	if rep.Promoted {
		verdict = "promoted to champion"
	}
	fmt.Fprintf(w, "   %s: %s\n", verdict, rep.Reason)
}

// worklistFlags are the tenant's economics for the worklist.
type worklistFlags struct {
	tenant, at, dir, currency, rates string
	lift                             float64
	top                              int
	json                             bool
}

func runWorklist(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worklist", stderr)
	var f worklistFlags
	fs.StringVar(&f.tenant, "tenant", "", "tenant id (required)")
	fs.StringVar(&f.at, "at", "", "the instant to score at, RFC 3339 (default: now)")
	fs.StringVar(&f.dir, "registry", "", "model registry directory (default: $RECOUP_MODEL_DIR or .local/models)")
	fs.StringVar(&f.currency, "currency", "USD", "reporting currency of the values")
	fs.StringVar(&f.rates, "rates", "", "conversion rates into the reporting currency, e.g. CAD=0.71,EUR=1.08")
	fs.Float64Var(&f.lift, "lift", 0.5, "share of useful responses that bring a payment that would not otherwise come")
	fs.IntVar(&f.top, "top", 20, "lines to print")
	fs.BoolVar(&f.json, "json", false, "print the whole worklist as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	at := time.Now().UTC()
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return fmt.Errorf("%w: --at %q is not an RFC 3339 time", errUsage, f.at)
		}
		at = t.UTC()
	}
	d, err := registryDir(f.dir)
	if err != nil {
		return err
	}
	store, _, err := openLedger(ctx)
	if err != nil {
		return err
	}
	cfg, err := priorityConfig(f)
	if err != nil {
		return err
	}
	wl, version, err := buildWorklist(ctx, store, registry.Registry{Blobs: registry.Dir(d)}, ledger.TenantID(f.tenant), at, cfg)
	if err != nil {
		return err
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(wl)
	}
	printWorklist(stdout, wl, version, at, f.top)
	return nil
}

func priorityConfig(f worklistFlags) (priority.Config, error) {
	cur, err := money.ParseCurrency(f.currency)
	if err != nil {
		return priority.Config{}, fmt.Errorf("%w: --currency: %v", errUsage, err)
	}
	cfg := priority.Config{Currency: cur, Lift: f.lift, Rates: map[string]string{}}
	for _, kv := range strings.Split(f.rates, ",") {
		if kv == "" {
			continue
		}
		code, rate, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("%w: --rates: %q is not CODE=RATE", errUsage, kv)
		}
		cfg.Rates[strings.TrimSpace(code)] = strings.TrimSpace(rate)
	}
	return cfg, nil
}

// buildWorklist loads the champion and everything it scores from.
func buildWorklist(ctx context.Context, store *dynamo.Ledger, reg registry.Registry, tenant ledger.TenantID, at time.Time, cfg priority.Config) (worklist.Worklist, string, error) {
	champ, err := reg.Champion(ctx, tenant, training.Model)
	if errors.Is(err, registry.ErrNotFound) {
		return worklist.Worklist{}, "", fmt.Errorf("tenant %s has no champion model yet: run `recoup model train --tenant %s` first", tenant, tenant)
	}
	if err != nil {
		return worklist.Worklist{}, "", err
	}
	b, err := reg.Artifact(ctx, tenant, training.Model, champ.Version)
	if err != nil {
		return worklist.Worklist{}, "", err
	}
	var m ranking.Model
	if err := m.UnmarshalBinary(b); err != nil {
		return worklist.Worklist{}, "", fmt.Errorf("champion %s: %w (retrain: `recoup model train --tenant %s`)", champ.Version, err, tenant)
	}
	snap, err := training.Snapshot(ctx, store, tenant)
	if err != nil {
		return worklist.Worklist{}, "", err
	}
	contacts, err := store.ContactPoints(ctx, tenant)
	if err != nil {
		return worklist.Worklist{}, "", err
	}
	eng, err := engagementOf(ctx, tenant, snap.Customers)
	if err != nil {
		return worklist.Worklist{}, "", err
	}
	wl, err := worklist.Build(worklist.Inputs{Tenant: tenant, At: at, Model: &m, Snapshot: snap, Contacts: contacts,
		Engagement: eng, Priority: cfg, Choice: preference.DefaultOptions()})
	return wl, champ.Version, err
}

func engagementOf(ctx context.Context, tenant ledger.TenantID, customers []ledger.Customer) (map[string]engagement.Features, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	eng, err := dynamo.NewEngagement(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(customers))
	for i, c := range customers {
		ids[i] = c.ID
	}
	return eng.Features(ctx, tenant, ids)
}

func printWorklist(w io.Writer, wl worklist.Worklist, version string, at time.Time, top int) {
	fmt.Fprintf(w, "   %d customers with open balances scored at %s by model %s; %d have no usable contact point\n",
		len(wl.Entries)+len(wl.Unreachable), at.Format(time.RFC3339), version, len(wl.Unreachable))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   #\tcustomer\topen\tinvoices\toldest\tpaid ≤7/14/30 days\texp. days\tchannel\tvalue of acting")
	for _, e := range wl.Entries[:min(top, len(wl.Entries))] {
		s := e.Score
		ch := e.Channel.Channel
		if e.Channel.Explored {
			ch += " (explore)"
		}
		fmt.Fprintf(tw, "   %d\t%s\t%s\t%d\t%s\t%s\t%.0f\t%s\t%s\n", e.Rank, s.Customer, s.Open, s.Invoices, dpd(s.OldestDaysPastDue),
			pct3(s.PayWithin), s.ExpectedDays, ch, e.Value.Value)
	}
	tw.Flush()
	fmt.Fprintln(w, "   why, for the top 3:")
	for _, e := range wl.Entries[:min(3, len(wl.Entries))] {
		var rs []string
		for _, r := range e.Score.Reasons {
			rs = append(rs, r.Text())
		}
		fmt.Fprintf(w, "   %d. %s: %s\n", e.Rank, e.Score.Customer, strings.Join(rs, "; "))
		fmt.Fprintf(w, "      channel %s: %s\n", e.Channel.Channel, e.Channel.Reason)
		fmt.Fprintf(w, "      value: %s\n", e.Value.Why)
	}
	d := wl.Drift
	fmt.Fprintf(w, "   drift of today's %d invoices from the model's reference: %s", d.Rows, d.Level)
	var moved []string
	for _, c := range d.Columns {
		if c.Level != drift.OK {
			moved = append(moved, c.Summary)
		}
	}
	if len(moved) > 0 {
		fmt.Fprintf(w, "; %s", strings.Join(moved[:min(3, len(moved))], "; "))
	}
	fmt.Fprintf(w, "; scores: %s\n", d.Score.Summary)
}

func dpd(n int) string {
	if n <= 0 {
		return "current"
	}
	return strconv.Itoa(n) + " dpd"
}

func pct3(p [3]float64) string {
	return fmt.Sprintf("%2.0f%% / %2.0f%% / %2.0f%%", 100*p[0], 100*p[1], 100*p[2])
}
