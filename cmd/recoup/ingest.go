package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/erp/erpconfig"
	"github.com/recoup-dev/recoup/shared/erp/oracleebs"
	"github.com/recoup-dev/recoup/shared/imports"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// ingestFlags are the options ingest and demo share.
type ingestFlags struct {
	tenant, format, kind, currency, region, rejects string
	// fromERP names an ERP connection document (shared/erp/erpconfig):
	// the records are pulled from the ERP instead of read from files.
	fromERP, since string
}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	var f ingestFlags
	fs.StringVar(&f.tenant, "tenant", "", "tenant id (required)")
	fs.StringVar(&f.format, "format", "canonical", "input format: canonical, oracle-ebs, sap-fi, d365, ibm-ar")
	fs.StringVar(&f.kind, "kind", "", "record kind of every CSV file (customers, contacts, invoices, payments); default: from the header")
	fs.StringVar(&f.currency, "currency", "USD", "currency for files without a currency column")
	fs.StringVar(&f.region, "region", "US", "default region for phone numbers without a country code")
	fs.StringVar(&f.rejects, "rejects", "out/rejects.csv", "where to write rejected rows with their reasons (they hold the rows' data)")
	fs.StringVar(&f.fromERP, "from-erp", "", "pull from the ERP this connection document names (JSON, as the writeback function reads; Oracle EBS) instead of FILEs")
	fs.StringVar(&f.since, "since", "", "with --from-erp: only records the ERP changed at or after this time (RFC 3339), for an incremental pull")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case f.tenant == "":
		return fmt.Errorf("%w: --tenant is required", errUsage)
	case f.fromERP == "" && fs.NArg() == 0:
		return fmt.Errorf("%w: at least one FILE, or --from-erp, is required", errUsage)
	case f.fromERP != "" && fs.NArg() > 0:
		return fmt.Errorf("%w: --from-erp pulls from the ERP; give it no FILEs", errUsage)
	case f.fromERP != "" && f.format != "canonical":
		return fmt.Errorf("%w: --from-erp reads the ERP's own records; --format is for files", errUsage)
	case f.since != "" && f.fromERP == "":
		return fmt.Errorf("%w: --since is for --from-erp", errUsage)
	}
	store, _, err := openLedger(ctx)
	if err != nil {
		return err
	}
	res, err := ingestFiles(ctx, store, f, fs.Args(), stderr)
	if err != nil {
		return err
	}
	return printIngest(stdout, res, f.rejects)
}

// openLedger connects to the ledger table and fails early, naming the
// endpoint, when DynamoDB is not there. It returns the endpoint for messages.
func openLedger(ctx context.Context) (*dynamo.Ledger, string, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, "", err
	}
	client := awsconfig.DynamoDB(cfg)
	endpoint := awsconfig.DynamoEndpoint(cfg)
	table := awsconfig.TablePrefix() + dynamo.LedgerTable
	if _, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		return nil, endpoint, fmt.Errorf("DynamoDB at %s: table %s is not usable (is the local stack up? run `make up`): %w",
			endpoint, table, err)
	}
	store, err := dynamo.NewLedger(client, awsconfig.TablePrefix())
	return store, endpoint, err
}

func ingestFiles(ctx context.Context, store imports.Store, f ingestFlags, paths []string, stderr io.Writer) (imports.Result, error) {
	cur, err := money.ParseCurrency(f.currency)
	if err != nil {
		return imports.Result{}, fmt.Errorf("--currency: %w", err)
	}
	tenant := ledger.TenantID(f.tenant)
	if err := tenant.Validate(); err != nil {
		return imports.Result{}, fmt.Errorf("--tenant: %w", err)
	}
	opts := ingest.Options{Tenant: tenant, Format: ingest.Format(f.format), DefaultCurrency: cur, DefaultRegion: f.region}
	sources := make([]imports.Source, 0, len(paths))
	if f.fromERP != "" {
		src, err := pullERP(ctx, f, stderr)
		if err != nil {
			return imports.Result{}, err
		}
		sources = append(sources, src)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return imports.Result{}, fmt.Errorf("read %s: %w", p, err)
		}
		sources = append(sources, imports.Source{Name: filepath.Base(p), Kind: ingest.Kind(f.kind), Data: data})
	}
	bar := newProgressBar(stderr, "ingest")
	res, err := imports.Run(ctx, store, opts, sources, bar.update)
	// Rejects are written whenever the files were read, even if the ledger
	// write then failed, so an old rejects file never stands for this run.
	if f.rejects != "" && res.Batch != nil {
		if werr := writeRejects(f.rejects, res.Batch.Rejects); werr != nil {
			return res, errors.Join(err, werr)
		}
	}
	return res, err
}

func writeRejects(path string, rejects []ingest.Reject) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("rejects file: %w", err)
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	werr := ingest.WriteRejectsCSV(out, rejects)
	return errors.Join(werr, out.Close())
}

func printIngest(w io.Writer, res imports.Result, rejectsPath string) error {
	fmt.Fprintln(w, "\nData quality")
	if err := ingest.WriteReport(w, res.Batch); err != nil {
		return err
	}
	b := res.Batch
	fmt.Fprintln(w, "\nLedger writes")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "customers\tcontacts\tinvoices\tpayments\tdisputes\trejected\tinserted\tupdated\tunchanged\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", len(b.Customers), len(b.Contacts), len(b.Invoices),
		len(b.Payments), len(b.Disputes), len(b.Rejects), res.Counts.Inserted, res.Counts.Updated, res.Counts.Unchanged)
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	if res.ResumedFrom > 0 {
		notes = append(notes, fmt.Sprintf("resumed after %d records written by an interrupted run", res.ResumedFrom))
	}
	if len(b.Rejects) > 0 && rejectsPath != "" {
		notes = append(notes, fmt.Sprintf("%d rejected rows with their reasons in %s", len(b.Rejects), rejectsPath))
	}
	notes = append(notes, fmt.Sprintf("import %s took %s", res.ImportID, res.Duration.Round(1e6)))
	fmt.Fprintln(w, strings.Join(notes, "; "))
	return nil
}

// pullERP reads the ERP's customers, contact points, open receivables and
// receipts as one canonical JSON import (oracleebs.Snapshot), which the
// import then validates row by row like any file.
func pullERP(ctx context.Context, f ingestFlags, stderr io.Writer) (imports.Source, error) {
	doc, err := os.ReadFile(f.fromERP)
	if err != nil {
		return imports.Source{}, fmt.Errorf("--from-erp: %w", err)
	}
	conn, err := erpconfig.Parse(doc)
	if err != nil {
		return imports.Source{}, fmt.Errorf("--from-erp %s: %w", f.fromERP, err)
	}
	ebs, err := conn.EBS()
	if err != nil {
		return imports.Source{}, fmt.Errorf("--from-erp %s: %w (reading is built for Oracle EBS)", f.fromERP, err)
	}
	var since time.Time
	if f.since != "" {
		if since, err = time.Parse(time.RFC3339, f.since); err != nil {
			return imports.Source{}, fmt.Errorf("%w: --since %q: want an RFC 3339 time, e.g. 2026-11-01T00:00:00Z", errUsage, f.since)
		}
	}
	var buf bytes.Buffer
	counts, err := oracleebs.Snapshot(ctx, ebs, &buf, since)
	if err != nil {
		return imports.Source{}, err
	}
	fmt.Fprintf(stderr, "pulled from Oracle EBS: %d customers, %d contact points, %d invoices, %d payments; next --since %s (less a margin)\n",
		counts.Customers, counts.Contacts, counts.Invoices, counts.Payments, counts.Latest.UTC().Format(time.RFC3339))
	return imports.Source{Name: "oracle-ebs-live.json", Data: buf.Bytes()}, nil
}
