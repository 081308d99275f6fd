package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// runDaily starts the tenant's daily run on the local stack (or the
// machine RECOUP_DAILY_STATE_MACHINE names), waits until every cycle it
// started or woke has settled, and says what each did.
func runDaily(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("daily", stderr)
	tenant := fs.String("tenant", "", "tenant id (required)")
	asOf := fs.String("as-of", "", "the run's date and time (RFC 3339); default: the stack's clock")
	wait := fs.Duration("wait", 15*time.Minute, "how long to wait for the run and its cycles to settle")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	d, err := newDailyRunner(ctx)
	if err != nil {
		return err
	}
	at := d.now()
	if *asOf != "" {
		if at, err = time.Parse(time.RFC3339, *asOf); err != nil {
			return fmt.Errorf("%w: --as-of %q: want RFC 3339 such as 2026-11-02T16:00:00Z", errUsage, *asOf)
		}
	}
	w, err := d.run(ctx, ledger.TenantID(*tenant), at, *wait)
	if err != nil {
		return err
	}
	return printWave(stdout, w)
}

// dailyRunner drives the daily and cycle state machines and reads what
// they did.
type dailyRunner struct {
	sfn       *awssfn.Client
	runs      *dynamo.Runs
	approvals *dynamo.Approvals
	machine   string // the daily run's state machine ARN
	now       func() time.Time
	progress  io.Writer // nil: quiet
}

func newDailyRunner(ctx context.Context) (*dailyRunner, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	db, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	runs, err := dynamo.NewRuns(db, prefix)
	if err != nil {
		return nil, err
	}
	approvals, err := dynamo.NewApprovals(db, prefix)
	if err != nil {
		return nil, err
	}
	machine := os.Getenv("RECOUP_DAILY_STATE_MACHINE")
	if machine == "" {
		machine = local.StateMachineARN("daily")
	}
	// The clock the stack's Lambdas act at (shared/clock).
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	now := clock.NewFile(local.DefaultConfig(root).ClockFile(), time.Now, nil).Now
	// Reads only, and all of them idempotent: the SDK's standard retries,
	// a few more of them.
	client := awssfn.NewFromConfig(cfg, func(o *awssfn.Options) { o.RetryMaxAttempts = 5 })
	return &dailyRunner{sfn: client, runs: runs, approvals: approvals, machine: machine, now: now}, nil
}

// wave is one daily run and what the cycles it reached did.
type wave struct {
	Execution string
	At        time.Time
	List      cycle.DailyList
	Woken     map[string]int // start/wake action → customers
	Passes    []pass
	Took      time.Duration // the daily run itself
	Settled   time.Duration // until every cycle it reached had settled
}

// pass is what one customer's cycle did after the daily run reached it.
type pass struct {
	Customer  string
	Execution string
	Woken     string
	Outcome   string // sent, blocked, not_sent, approval, shadow, waiting, closed, failed, busy
	Decision  *cycle.Plan
	Draft     *cycle.Message
	Sent      *cycle.Sent
	Error     string
}

// stallLimit is how long settle waits without any cycle settling.
const stallLimit = 4 * time.Minute

// Outcomes of a pass.
const (
	passSent     = "sent"
	passBlocked  = "blocked"
	passNotSent  = "not_sent" // the sender failed or is in doubt
	passApproval = "approval"
	passShadow   = "shadow"
	passWaiting  = "waiting" // nothing due now; parked until the plan's time
	passClosed   = "closed"
	passFailed   = "failed"
	passBusy     = "busy" // still running when the daily run reached it
)

// run starts the daily run for tenant at at and waits up to limit for it
// and every cycle it reached to settle.
func (d *dailyRunner) run(ctx context.Context, tenant ledger.TenantID, at time.Time, limit time.Duration) (*wave, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	began := time.Now()
	simBegan := d.now()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	input, _ := json.Marshal(cycle.DailyInput{Tenant: tenant, AsOf: at.UTC()})
	out, err := d.sfn.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(d.machine),
		Name:  aws.String(fmt.Sprintf("%s-daily-%s-%s", tenant, at.UTC().Format("20060102T1504"), hex.EncodeToString(suffix))),
		Input: aws.String(string(input))})
	if err != nil {
		return nil, fmt.Errorf("start the daily run on %s: %w", d.machine, err)
	}
	w := &wave{Execution: aws.ToString(out.ExecutionArn), At: at, Woken: map[string]int{}}
	var desc *awssfn.DescribeExecutionOutput
	for {
		if desc, err = d.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
			return nil, fmt.Errorf("daily run %s: %w", w.Execution, err)
		}
		if desc.Status != sfntypes.ExecutionStatusRunning {
			break
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return nil, fmt.Errorf("daily run %s did not finish within %s", w.Execution, limit)
		}
	}
	w.Took = time.Since(began)
	if desc.Status != sfntypes.ExecutionStatusSucceeded {
		return nil, fmt.Errorf("daily run %s ended %s: %s: %s", w.Execution, desc.Status, aws.ToString(desc.Error), aws.ToString(desc.Cause))
	}
	// Each worklist item was replaced by what Wake did for that customer.
	var res struct {
		Worklist struct {
			cycle.DailyList
			Items []struct {
				cycle.Woken
				Error json.RawMessage `json:"error"`
			} `json:"items"`
		} `json:"worklist"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(desc.Output)), &res); err != nil {
		return nil, fmt.Errorf("daily run %s: output: %w", w.Execution, err)
	}
	w.List = res.Worklist.DailyList
	for _, c := range res.Worklist.Items {
		p := pass{Customer: c.Customer, Woken: c.Action, Execution: c.Execution}
		if c.Action == "error" {
			p.Outcome, p.Error = passFailed, string(c.Error)
		}
		w.Woken[p.Woken]++
		w.Passes = append(w.Passes, p)
	}
	if err := d.settle(ctx, tenant, w, simBegan, began); err != nil {
		return nil, err
	}
	w.Settled = time.Since(began)
	return w, nil
}

// settle waits until every cycle the run reached waits (in Park, with a
// token recorded since the run began, or in Approval) or has ended, then
// reads from each execution's history what it did since.
func (d *dailyRunner) settle(ctx context.Context, tenant ledger.TenantID, w *wave, simBegan, began time.Time) error {
	pending := map[int]bool{}
	for i, p := range w.Passes {
		if p.Execution != "" && (p.Woken == "woken" || p.Woken == "started") {
			pending[i] = true
		} else if p.Woken == "running" {
			w.Passes[i].Outcome = passBusy
		} else if p.Woken == "none" {
			w.Passes[i].Outcome = passClosed // today's cycle ran and closed
		} else if p.Outcome == "" {
			w.Passes[i].Outcome = passWaiting
		}
	}
	total := len(pending)
	lastProgress, lastLeft := time.Now(), len(pending)
	for len(pending) > 0 {
		waiting, err := d.awaitingApproval(ctx, tenant)
		if err != nil {
			return err
		}
		idx := make([]int, 0, len(pending))
		for i := range pending {
			idx = append(idx, i)
		}
		settled, err := parallel(ctx, idx, func(ctx context.Context, i int) (bool, error) {
			p := w.Passes[i]
			if waiting[p.Execution] {
				return true, nil
			}
			r, ok, err := d.runs.Get(ctx, tenant, p.Customer)
			if err != nil {
				return false, err
			}
			if ok && r.Execution == p.Execution && r.Token != "" && !r.At.Before(simBegan) {
				return true, nil
			}
			desc, err := d.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(p.Execution)})
			if err != nil {
				return false, err
			}
			return desc.Status != sfntypes.ExecutionStatusRunning, nil
		})
		if err != nil {
			return err
		}
		for _, i := range settled {
			delete(pending, i)
		}
		if d.progress != nil {
			fmt.Fprintf(d.progress, "\r   cycles settled: %d of %d", total-len(pending), total)
		}
		if len(pending) == 0 {
			break
		}
		if len(pending) < lastLeft {
			lastProgress, lastLeft = time.Now(), len(pending)
		}
		// A Lambda invocation lost on the way fails after the local Step
		// Functions' invoke timeout (the longest function timeout) and is
		// retried; nothing moving for longer than that is a fault to show.
		if time.Since(lastProgress) > stallLimit {
			var stuck []string
			for i := range pending {
				stuck = append(stuck, w.Passes[i].Execution)
			}
			sort.Strings(stuck)
			return fmt.Errorf("%d of %d cycles made no progress for %s: %s (see .local/logs/sfn.log and lambdahost.log)",
				len(pending), total, stallLimit, strings.Join(stuck[:min(len(stuck), 5)], ", "))
		}
		if err := sleep(ctx, 300*time.Millisecond); err != nil {
			return fmt.Errorf("%d of %d cycles had not settled when the wait ran out (see .local/logs/sfn.log and lambdahost.log)", len(pending), total)
		}
	}
	if d.progress != nil && total > 0 {
		fmt.Fprintln(d.progress)
	}
	idx := make([]int, 0, len(w.Passes))
	for i, p := range w.Passes {
		if p.Execution != "" && (p.Woken == "woken" || p.Woken == "started") {
			idx = append(idx, i)
		}
	}
	_, err := parallel(ctx, idx, func(ctx context.Context, i int) (bool, error) {
		// A history read cut off mid-body (the local server closing a
		// kept-alive connection) is read again.
		var err error
		for try := 0; try < 3; try++ {
			if err = d.readPass(ctx, &w.Passes[i], began); err == nil {
				return true, nil
			}
		}
		return false, err
	})
	return err
}

// awaitingApproval is the set of executions waiting for a collector.
func (d *dailyRunner) awaitingApproval(ctx context.Context, tenant ledger.TenantID) (map[string]bool, error) {
	out := map[string]bool{}
	after := ""
	for {
		page, err := d.approvals.Pending(ctx, tenant, after, approval.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			out[r.Execution] = true
		}
		if len(page) < approval.MaxPageSize {
			return out, nil
		}
		after = page[len(page)-1].Cursor()
	}
}

// readPass reads from the execution's history what it did since the
// daily run began: the last decision, draft and send, and where it stopped.
func (d *dailyRunner) readPass(ctx context.Context, p *pass, since time.Time) error {
	var events []sfntypes.HistoryEvent
	pages := awssfn.NewGetExecutionHistoryPaginator(d.sfn, &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(p.Execution), MaxResults: 1000})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("history of %s: %w", p.Execution, err)
		}
		events = append(events, page.Events...)
	}
	var last string // the last state entered
	exited := map[string]bool{}
	for _, ev := range events {
		if ev.Timestamp != nil && ev.Timestamp.Before(since.Add(-time.Second)) {
			continue
		}
		switch {
		case ev.StateEnteredEventDetails != nil:
			last = aws.ToString(ev.StateEnteredEventDetails.Name)
			exited[last] = false
		case ev.StateExitedEventDetails != nil:
			name := aws.ToString(ev.StateExitedEventDetails.Name)
			exited[name] = true
			var out struct {
				Decision *cycle.Plan    `json:"decision"`
				Draft    *cycle.Message `json:"draft"`
				Dispatch *cycle.Sent    `json:"dispatch"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(ev.StateExitedEventDetails.Output)), &out); err != nil {
				continue
			}
			switch name {
			case "Plan":
				p.Decision, p.Draft, p.Sent = out.Decision, nil, nil
			case "Draft":
				p.Draft = out.Draft
			case "Send":
				p.Sent = out.Dispatch
			}
		case ev.ExecutionFailedEventDetails != nil:
			p.Outcome, p.Error = passFailed, aws.ToString(ev.ExecutionFailedEventDetails.Cause)
			return nil
		case ev.Type == sfntypes.HistoryEventTypeExecutionSucceeded:
			p.Outcome = passClosed
			return nil
		}
	}
	switch {
	case p.Sent != nil && p.Sent.Status == sender.StatusSent:
		p.Outcome = passSent
	case p.Sent != nil && p.Sent.Status == sender.StatusBlocked:
		p.Outcome = passBlocked
	case p.Sent != nil:
		p.Outcome = passNotSent
	case last == "Approval" && !exited["Approval"]:
		p.Outcome = passApproval
	case exited["Shadow"]:
		p.Outcome = passShadow
	default:
		p.Outcome = passWaiting
	}
	return nil
}

// parallel runs f over items, eight at a time, and returns the items for
// which it reported true.
func parallel(ctx context.Context, items []int, f func(context.Context, int) (bool, error)) ([]int, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  []int
		errs []error
		next = make(chan int)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ok, err := f(ctx, i)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if ok {
					out = append(out, i)
				}
				mu.Unlock()
			}
		}()
	}
	for _, i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d of %d failed, the first: %w", len(errs), len(items), errs[0])
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// printWave says what a daily run did: how many customers it reached,
// what was sent and on which channel, what the gate blocked and by which
// rule, what waits for a collector, and what failed.
func printWave(w io.Writer, wv *wave) error {
	count := map[string]int{}
	channels := map[string]map[string]int{} // outcome → channel → n
	rules := map[string]int{}
	reasons := map[string]int{} // approval reasons
	var failed []pass
	for _, p := range wv.Passes {
		count[p.Outcome]++
		ch := "-"
		if p.Decision != nil && p.Decision.Channel != "" {
			ch = string(p.Decision.Channel)
		}
		if channels[p.Outcome] == nil {
			channels[p.Outcome] = map[string]int{}
		}
		channels[p.Outcome][ch]++
		if p.Outcome == passBlocked && p.Sent != nil {
			for _, r := range p.Sent.Rules {
				rules[r]++
			}
		}
		if p.Outcome == passApproval && p.Decision != nil {
			for _, r := range p.Decision.Approval {
				reasons[r.Code]++
			}
		}
		if p.Outcome == passFailed {
			failed = append(failed, p)
		}
	}
	modes := make([]string, 0, len(wv.List.Modes))
	for m, n := range wv.List.Modes {
		modes = append(modes, fmt.Sprintf("%d %s", n, m))
	}
	sort.Strings(modes)
	fmt.Fprintf(w, "   daily run at %s: worklist of %d customers (%s; %d left for tomorrow), model %s\n",
		wv.At.UTC().Format(time.RFC3339), wv.List.Count, strings.Join(modes, ", "), wv.List.Left, wv.List.Model)
	fmt.Fprintf(w, "   the run took %s; every cycle it reached had settled after %s\n",
		wv.Took.Round(100*time.Millisecond), wv.Settled.Round(100*time.Millisecond))
	woken := make([]string, 0, len(wv.Woken))
	for a, n := range wv.Woken {
		woken = append(woken, fmt.Sprintf("%s %d", a, n))
	}
	sort.Strings(woken)
	fmt.Fprintf(w, "   cycles: %s\n\n", strings.Join(woken, ", "))

	order := []struct{ key, label string }{
		{passSent, "sent"}, {passBlocked, "blocked by the gate"}, {passNotSent, "not sent (sender failed)"},
		{passApproval, "waiting for a collector"}, {passShadow, "pilot: recorded, not sent"},
		{passWaiting, "nothing due yet (parked)"}, {passBusy, "busy"}, {passClosed, "closed"}, {passFailed, "failed"},
	}
	var chans []string
	for _, m := range channels {
		for ch := range m {
			if !slices.Contains(chans, ch) {
				chans = append(chans, ch)
			}
		}
	}
	sort.Strings(chans)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "   outcome\t")
	for _, ch := range chans {
		fmt.Fprintf(tw, "%s\t", ch)
	}
	fmt.Fprint(tw, "total\t\n")
	for _, o := range order {
		if count[o.key] == 0 {
			continue
		}
		fmt.Fprintf(tw, "   %s\t", o.label)
		for _, ch := range chans {
			fmt.Fprintf(tw, "%d\t", channels[o.key][ch])
		}
		fmt.Fprintf(tw, "%d\t\n", count[o.key])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printCounts(w, "blocked, by the rule that fired", rules)
	printCounts(w, "waiting for a collector, because", reasons)
	for i, p := range failed {
		if i == 5 {
			fmt.Fprintf(w, "   ... and %d more failures\n", len(failed)-5)
			break
		}
		fmt.Fprintf(w, "   failed %s: %s\n", p.Customer, p.Error)
	}
	return nil
}

func printCounts(w io.Writer, title string, counts map[string]int) {
	if len(counts) == 0 {
		return
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	fmt.Fprintf(w, "   %s: %s\n", title, strings.Join(parts, ", "))
}
