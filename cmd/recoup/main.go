// Command recoup is the Recoup CLI: the local stack, table setup, imports,
// KPIs, the sample portfolio and the end-to-end demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: its usage line and what it runs.
type command struct {
	usage string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"local":      {"local up|down|status|env|smoke|install   manage the local AWS stack", runLocal},
	"tables":     {"tables create                      create the DynamoDB tables (idempotent)", runTables},
	"generate":   {"generate --out DIR                 write the seeded sample portfolio", runGenerate},
	"ingest":     {"ingest --tenant T [--format F] FILE... | --from-erp CONN [--since T]   import AR data from files or the ERP", runIngest},
	"kpi":        {"kpi --tenant T [--as-of DATE]      baseline KPIs from the ledger", runKPI},
	"demo":       {"demo                               generate, import and report on the sample portfolio", runDemo},
	"compliance": {"compliance check [--verify] FILE...  decide compliance scenarios, one JSON line each", runCompliance},
	"events":     {"events replay [--stream S] FILE...  put recorded engagement events (JSON Lines) on Kinesis", runEvents},
	"audit":      {"audit export|verify --tenant T     export the audit log, or check its hash chain", runAudit},
	"model":      {"model train --tenant T [--as-of DATE] | eval --format ibm-ar|uci-default [--data F | --train F --test F] [--peers]   train or measure the models", runModel},
	"worklist":   {"worklist --tenant T [--at TIME] [--rates CODE=RATE,...] [--top N]   the collectors' worklist by value of acting", runWorklist},
	"shadow":     {"shadow import --tenant T FILE.csv | report --tenant T [--since DATE] [--format text|json]   pilot mode: the team's actions beside the recommendations", runShadow},
	"tenant":     {"tenant put (--file F | --demo) | show --tenant T   store or show a tenant's profile (name, disclosures, strategy, pilot segments)", runTenant},
	"daily":      {"daily --tenant T [--as-of TIME] [--wait D]   run the daily collection run on the local stack and say what each cycle did", runDaily},
	"outbox":     {"outbox [--channel email|sms|voice,...] [--customer C] [--tenant T] [--since TIME] [--format text|json] [--limit N] [--file F]   what the local stack's fake senders sent", runOutbox},
	"writeback":  {"writeback list|replay --tenant T [--state S] [--key K,...]   the ERP write-back's actions; replay re-drives failed, dead-lettered or stale pending ones after a fix", runWriteback},
}

// errUsage marks errors that should print usage and exit 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "recoup: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "recoup %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "usage: recoup %s\n", cmd.usage)
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: recoup COMMAND [flags]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  recoup %s\n", commands[n].usage)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("recoup "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, marking a bad flag as a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
