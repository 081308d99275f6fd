package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/writeback/sqsqueue"
)

func runWriteback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: writeback list|replay", errUsage)
	}
	switch args[0] {
	case "list":
		return writebackList(ctx, args[1:], stdout, stderr)
	case "replay":
		return writebackReplay(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown writeback action %q (list, replay)", errUsage, args[0])
}

func openWritebacks(ctx context.Context) (*dynamo.Writebacks, aws.Config, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, cfg, err
	}
	db := awsconfig.DynamoDB(cfg)
	a, err := dynamo.NewAudit(db, awsconfig.TablePrefix())
	if err != nil {
		return nil, cfg, err
	}
	w, err := dynamo.NewWritebacks(db, a, awsconfig.TablePrefix())
	return w, cfg, err
}

// parseStates reads a comma-separated list of delivery states.
func parseStates(s string) ([]erp.State, error) {
	var out []erp.State
	for _, f := range strings.Split(s, ",") {
		st := erp.State(strings.TrimSpace(f))
		switch st {
		case erp.StatePending, erp.StateSent, erp.StateConfirmed, erp.StateFailed, erp.StateDeadLettered:
			out = append(out, st)
		default:
			return nil, fmt.Errorf("%w: --state %q: want pending, sent, confirmed, failed or dead_lettered", errUsage, f)
		}
	}
	return out, nil
}

func writebackList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("writeback list", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	state := fs.String("state", "failed,dead_lettered", "states to list, comma-separated: pending, sent, confirmed, failed, dead_lettered")
	format := fs.String("format", "text", "text or json (one status per line)")
	limit := fs.Int("limit", 100, "at most this many (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want text or json", errUsage, *format)
	}
	states, err := parseStates(*state)
	if err != nil {
		return err
	}
	w, _, err := openWritebacks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if *format == "text" {
		fmt.Fprintln(tw, "KEY\tKIND\tCUSTOMER\tSTATE\tATTEMPTS\tUPDATED\tERP REF / ERROR")
	}
	enc := json.NewEncoder(stdout)
	n := 0
	for _, s := range states {
		for st, err := range w.List(ctx, ledger.TenantID(*tenant), s) {
			if err != nil {
				return err
			}
			if *limit > 0 && n == *limit {
				break
			}
			n++
			if *format == "json" {
				if err := enc.Encode(st); err != nil {
					return err
				}
				continue
			}
			detail := st.Ref
			if st.Error != nil {
				detail = st.Error.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", st.Action.Key, st.Action.Kind, st.Action.Target.Customer, st.State,
				st.Attempts, st.Updated.Format("2006-01-02 15:04:05"), clipText(detail, 100))
		}
	}
	if *format == "text" {
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d actions\n", n)
	}
	return nil
}

func writebackReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("writeback replay", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	state := fs.String("state", "dead_lettered", "which to replay, comma-separated: dead_lettered, failed, pending (only those pending longer than --stale-after)")
	staleAfter := fs.Duration("stale-after", sqsqueue.DefaultStaleAfter, "with --state pending: how long an action must have been pending")
	keys := fs.String("key", "", "only these action keys, comma-separated (default: all in --state)")
	queue := fs.String("queue", local.WritebackQueue, "the write-back queue, by URL or name")
	dlq := fs.String("dlq", local.WritebackDLQ, "its dead-letter queue, by URL or name (\"\": leave it alone)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	states, err := parseStates(*state)
	if err != nil {
		return err
	}
	if *staleAfter < time.Minute {
		return fmt.Errorf("%w: --stale-after %s: at least 1m, or a replay races the consumer", errUsage, *staleAfter)
	}
	for _, st := range states {
		if st != erp.StateDeadLettered && st != erp.StateFailed && st != erp.StatePending {
			return fmt.Errorf("%w: --state %q: only dead_lettered, failed and pending actions are replayed", errUsage, st)
		}
	}
	var only []string
	if *keys != "" {
		for _, k := range strings.Split(*keys, ",") {
			only = append(only, strings.TrimSpace(k))
		}
	}
	w, cfg, err := openWritebacks(ctx)
	if err != nil {
		return err
	}
	api := sqs.NewFromConfig(cfg)
	url, err := lookupQueue(ctx, api, *queue)
	if err != nil {
		return err
	}
	q, err := sqsqueue.NewQueue(api, url)
	if err != nil {
		return err
	}
	r := &sqsqueue.Replayer{Statuses: w, Queue: q, StaleAfter: *staleAfter}
	if *dlq != "" {
		if r.DLQURL, err = lookupQueue(ctx, api, *dlq); err != nil {
			return err
		}
		r.DLQ = api
	}
	rep, err := r.Replay(ctx, ledger.TenantID(*tenant), states, only)
	for _, st := range rep.Replayed {
		fmt.Fprintf(stdout, "replayed %s %s for %s (version %d)\n", st.Action.Key, st.Action.Kind, st.Action.Target.Customer, st.Version)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d actions queued again; dead-letter queue: %d messages removed, %d left\n", len(rep.Replayed), rep.Removed, rep.Kept)
	return nil
}

// lookupQueue takes a URL as it is and looks a name up.
func lookupQueue(ctx context.Context, api *sqs.Client, q string) (string, error) {
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		return q, nil
	}
	out, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
	if err != nil {
		return "", fmt.Errorf("queue %q (is the local stack up? run `make up`): %w", q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
