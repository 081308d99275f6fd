// Command benchmarks measures Recoup's speed targets on this machine and
// writes BENCHMARKS.md: the machine, the date, each figure, and its ratio to
// a baseline measured in the same run. `make bench` runs it; it starts a
// stack of its own on spare ports and stops it at the end.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/imports"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// row is one line of the results table.
type row struct {
	what, value, baseline, ratio, note string
}

func main() {
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	only := flag.Bool("engagement-only", false, "measure only the engagement figures, the latency against the stack "+
		"AWS_ENDPOINT_URL_* point at (one started with `make up` on spare ports), to work on them")
	models := flag.Bool("models-only", false, "rewrite only the models section (make eval)")
	scale := flag.Bool("ranking-only", false, "measure only the ranking model at a million invoices, print the rows")
	orch := flag.Bool("orchestration-only", false, "measure only the strategy engine and the drafting guardrails, print the rows")
	cyc := flag.Bool("cycle-only", false, "measure only the full local cycle on the stack AWS_ENDPOINT_URL_* point at (one started with `make up`), print the rows")
	dep := flag.Bool("deploy-only", false, "measure only make lambdas (arm64), the Lambda packages and make synth cold and warm, print the rows")
	wb := flag.Bool("writeback-only", false, "measure only the ERP write-back against the stack's DynamoDB AWS_ENDPOINT_URL_* point at, print the rows")
	flag.Parse()
	ctx := context.Background()
	do := run
	if *only {
		do = runEngagementOnly
	}
	if *models {
		do = runModelsOnly
	}
	if *orch {
		do = runOrchestrationOnly
	}
	if *cyc {
		do = func(ctx context.Context, _ string) error {
			root, err := local.FindRepoRoot(".")
			if err != nil {
				return err
			}
			rows, err := cycleRows(ctx, root)
			for _, r := range rows {
				fmt.Printf("| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
			}
			return err
		}
	}
	if *dep {
		do = func(ctx context.Context, _ string) error {
			root, err := local.FindRepoRoot(".")
			if err != nil {
				return err
			}
			rows, err := deployRows(ctx, root)
			for _, r := range rows {
				fmt.Printf("| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
			}
			return err
		}
	}
	if *wb {
		do = func(ctx context.Context, _ string) error {
			rows, err := writebackRows(ctx)
			for _, r := range rows {
				fmt.Printf("| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
			}
			return err
		}
	}
	if *scale {
		do = func(context.Context, string) error {
			rows, err := rankingAtScale()
			for _, r := range rows {
				fmt.Printf("| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
			}
			return err
		}
	}
	if err := do(ctx, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchmarks:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string) error {
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return err
	}
	var rows []row
	// The deployment's build first: it leaves arm64 bootstraps in dist/
	// until it rebuilds them for this machine, so no local stack may run
	// meanwhile, and its cold synthesis would load the machine.
	depRows, err := deployRows(ctx, root)
	if err != nil {
		return err
	}
	goRows, err := goBenchmarks(ctx, root)
	if err != nil {
		return err
	}
	rows = append(rows, goRows...)

	handler, err := handlerBenchmark(ctx, root)
	if err != nil {
		return err
	}
	rows = append(rows, handler)
	orchRows, err := orchestrationRows(ctx, root)
	if err != nil {
		return err
	}
	rows = append(rows, orchRows...)

	// The ranking model at a million invoices, before the local stack
	// starts: its emulators would take CPU from the measurement.
	scaleRows, err := rankingAtScale()
	if err != nil {
		return err
	}
	rows = append(rows, scaleRows...)
	runtime.GC()
	// The models beside scikit-learn and XGBoost, also before the stack
	// starts. They used to run after the engagement phases, while the
	// Lambda host still drained their backlog, which slowed the peers'
	// two-thread training several times over and so skewed the comparison
	// of training times.
	section, err := modelsSection(ctx, root)
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "recoup-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := prepareEngagementHost(ctx, root, tmp, filepath.Join(tmp, "state")); err != nil {
		return err
	}
	stackRows, cfg, err := stackTimes(ctx, root, tmp)
	// Stop the stack before its state folder goes (defers run last first).
	defer func() { _ = local.Down(context.Background(), cfg, os.Stderr) }()
	if err != nil {
		return err
	}
	rows = append(rows, stackRows...)
	for _, kv := range local.Env(cfg) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	ingestRows, err := ingestThroughput(ctx, root)
	if err != nil {
		return err
	}
	rows = append(rows, ingestRows...)
	gateRows, err := gateThroughput(ctx)
	if err != nil {
		return err
	}
	rows = append(rows, gateRows...)
	wbRows, err := writebackRows(ctx)
	if err != nil {
		return err
	}
	rows = append(rows, wbRows...)
	// The full cycle runs before the engagement latency phases: the
	// 1,000 events/s phase leaves tens of thousands of events for the
	// Lambda host to drain, and that load would be measured as the cycle's.
	cycRows, err := cycleRows(ctx, root)
	if err != nil {
		return err
	}
	latRows, err := engagementLatency(ctx, cfg.StateDir)
	if err != nil {
		return err
	}
	rows = append(rows, latRows...)
	rows = append(rows, cycRows...)
	rows = append(rows, depRows...)
	if err := writeReport(out, rows); err != nil {
		return err
	}
	return replaceModels(out, section)
}

func runModelsOnly(ctx context.Context, out string) error {
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return err
	}
	section, err := modelsSection(ctx, root)
	if err != nil {
		return err
	}
	return replaceModels(out, section)
}

func runEngagementOnly(ctx context.Context, out string) error {
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return err
	}
	handler, err := handlerBenchmark(ctx, root)
	if err != nil {
		return err
	}
	rows, err := engagementLatency(ctx, os.Getenv(local.EnvStateDir))
	if err != nil {
		return err
	}
	return writeReport(out, append([]row{handler}, rows...))
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+.*?([\d.]+) rows/s`)

// goBenchmarks runs the in-process Go benchmarks and pairs each with its
// baseline benchmark (named ...Baseline...).
func goBenchmarks(ctx context.Context, root string) ([]row, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "RowsPerSecond", "-benchtime", "3x", "./shared/ingest/")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, buf.String())
	}
	os.Stderr.Write(buf.Bytes())
	got := map[string]float64{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			got[m[1]] = v
		}
	}
	val, base := got["BenchmarkValidateRowsPerSecond"], got["BenchmarkBaselineCSVReadRowsPerSecond"]
	if val == 0 || base == 0 {
		return nil, fmt.Errorf("benchmark output lacks the validation or baseline figure:\n%s", buf.String())
	}
	dec, err := decideBenchmark(ctx, root)
	if err != nil {
		return nil, err
	}
	return []row{dec, {
		what:     "validation, canonical invoices CSV, in process (rows/s)",
		value:    fmt.Sprintf("%.0f", val),
		baseline: fmt.Sprintf("%.0f (encoding/csv read only)", base),
		ratio:    fmt.Sprintf("%.2f", val/base),
		note:     "parse + every validation rule vs. reading the same bytes as CSV and nothing else",
	}}, nil
}

var decideLine = regexp.MustCompile(`([\d.]+) decisions/s\s+([\d.]+) p99-µs`)

// decideBenchmark runs the compliance engine's benchmark: decisions per
// second on one goroutine and the p99 latency, against the design's 20 µs.
func decideBenchmark(ctx context.Context, root string) (row, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkDecide$", "-benchtime", "3s", "./shared/compliance/")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return row{}, fmt.Errorf("compliance benchmark: %w\n%s", err, out)
	}
	os.Stderr.Write(out)
	m := decideLine.FindSubmatch(out)
	if m == nil {
		return row{}, fmt.Errorf("compliance benchmark output lacks decisions/s and p99:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	p99, _ := strconv.ParseFloat(string(m[2]), 64)
	return row{what: "compliance decision, in process (decisions/s; p99)", value: fmt.Sprintf("%.0f; p99 %.1f µs", rate, p99),
		baseline: "20 µs p99 (design target)", ratio: fmt.Sprintf("%.1f", 20/p99),
		note: "one goroutine, the benchmark's mixed scenarios; ratio is headroom under the target"}, nil
}

var healthyLine = regexp.MustCompile(`^(\S+):\s+started, healthy at \S+ \(pid \d+, ([^)]+)\)`)

// stackTimes measures a cold npm install into an empty folder and a cold
// start of every service in a fresh state folder.
func stackTimes(ctx context.Context, root, tmp string) ([]row, local.Config, error) {
	for _, f := range []string{"package.json", "package-lock.json", ".npmrc"} {
		b, err := os.ReadFile(filepath.Join(root, "infra", "local", f))
		if err != nil {
			return nil, local.Config{}, err
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return nil, local.Config{}, err
		}
	}
	start := time.Now()
	npm := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	npm.Dir, npm.Stdout, npm.Stderr = tmp, os.Stderr, os.Stderr
	if err := npm.Run(); err != nil {
		return nil, local.Config{}, fmt.Errorf("npm ci in %s: %w", tmp, err)
	}
	install := time.Since(start)

	// Ports of no other stack: dev (8100, 4567, 9001, 9324), make test
	// (8200, 4667, 9101, 9424) and the others developers run side by side.
	env := map[string]string{
		local.EnvStateDir: filepath.Join(tmp, "state"), local.EnvDynamoDBPort: "8400",
		local.EnvKinesisPort: "4777", local.EnvLambdaPort: "9201", local.EnvSQSPort: "9224",
		local.EnvSFNPort: "8483", local.EnvOutboxPort: "8485", local.EnvBedrockPort: "8487",
	}
	cfg, err := local.LoadConfig(root, func(k string) string { return env[k] })
	if err != nil {
		return nil, cfg, err
	}
	var log bytes.Buffer
	start = time.Now()
	if err := local.Up(ctx, cfg, &log); err != nil {
		return nil, cfg, fmt.Errorf("start the bench stack: %w\n%s", err, log.String())
	}
	up := time.Since(start)
	os.Stderr.Write(log.Bytes())
	rows := []row{
		{what: "stack cold install (npm ci, empty node_modules)", value: install.Round(100 * time.Millisecond).String(),
			note: fmt.Sprintf("npm's cache as this machine has it; %d MB of node_modules", dirSize(filepath.Join(tmp, "node_modules"))>>20)},
		{what: "stack cold start, all services healthy", value: up.Round(10 * time.Millisecond).String(),
			note: "fresh state folder; includes building the Lambda host"},
	}
	sc := bufio.NewScanner(&log)
	for sc.Scan() {
		if m := healthyLine.FindStringSubmatch(sc.Text()); m != nil {
			rows = append(rows, row{what: "  " + m[1] + " start to healthy", value: m[2]})
		}
	}
	return rows, cfg, nil
}

// ingestThroughput imports the full sample portfolio into DynamoDB Local
// through the batched, hash-compared upsert, then the same again (nothing
// changes), against a baseline of one PutItem per record.
func ingestThroughput(ctx context.Context, root string) ([]row, error) {
	dir, err := os.MkdirTemp("", "recoup-bench-portfolio-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pcfg := portfolio.Default()
	if _, err := portfolio.Generate(dir, pcfg); err != nil {
		return nil, err
	}
	var sources []imports.Source
	for _, f := range []string{"customers.csv", "contacts.csv", "invoices.csv", "payments.csv"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		sources = append(sources, imports.Source{Name: f, Data: b})
	}
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	client := awsconfig.DynamoDB(awsCfg)
	prefix := fmt.Sprintf("bench%d-", time.Now().Unix())
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		return nil, err
	}
	store, err := dynamo.NewLedger(client, prefix)
	if err != nil {
		return nil, err
	}
	opts := ingest.Options{Tenant: "bench", Format: ingest.FormatCanonical, DefaultCurrency: money.MustCurrency("USD"), DefaultRegion: "US"}
	first, err := imports.Run(ctx, store, opts, sources, nil)
	if err != nil {
		return nil, err
	}
	again, err := imports.Run(ctx, store, opts, sources, nil)
	if err != nil {
		return nil, err
	}

	// Baseline: the obvious loop, one PutItem per record, on a slice of the same records.
	recs := imports.Records(first.Batch)
	n := min(2000, len(recs))
	start := time.Now()
	for _, r := range recs[:n] {
		ref := r.Ref()
		item, err := attributevalue.MarshalMap(map[string]any{
			"PK": "T#base#C#" + ref.Customer, "SK": string(ref.Kind) + "#" + ref.ID, "rec": r,
		})
		if err != nil {
			return nil, err
		}
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(prefix + dynamo.LedgerTable), Item: item}); err != nil {
			return nil, err
		}
	}
	base := float64(n) / time.Since(start).Seconds()
	rate := float64(first.Records) / first.Duration.Seconds()
	rerate := float64(again.Records) / again.Duration.Seconds()
	return []row{
		{what: fmt.Sprintf("ingest into DynamoDB Local, %d records, batched (rec/s)", first.Records),
			value: fmt.Sprintf("%.0f", rate), baseline: fmt.Sprintf("%.0f (one PutItem per record)", base),
			ratio: fmt.Sprintf("%.1f", rate/base), note: "parse, validate, BatchGet hashes, BatchWrite 25, 4 workers"},
		{what: "re-import of the same files, nothing changes (rec/s)", value: fmt.Sprintf("%.0f", rerate),
			baseline: fmt.Sprintf("%.0f (one PutItem per record)", base), ratio: fmt.Sprintf("%.1f", rerate/base),
			note: fmt.Sprintf("inserted %d, updated %d, unchanged %d", again.Counts.Inserted, again.Counts.Updated, again.Counts.Unchanged)},
	}, nil
}

func writeReport(path string, rows []row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (cmd/benchmarks) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s memory, %s %s/%s.\n\n", cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	b.WriteString("Each ratio divides the figure by a baseline measured in the same run. Timings vary by a few\nper cent between runs on a shared machine; the ratios are the steadier number.\n\n")
	b.WriteString("| what | figure | baseline | ratio | how |\n| --- | ---: | --- | ---: | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%.0f GiB", float64(kb)/1024/1024)
		}
	}
	return "unknown"
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
