package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/preference"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/strategy"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// orchestrationRows measures the two CPU-bound steps of the collection
// cycle between scoring and sending: the strategy engine's plan for a
// customer and the drafting guardrails' check of a message. Both run in
// process on one goroutine, before the local stack starts, whose
// emulators would take CPU from the measurement.
func orchestrationRows(ctx context.Context, root string) ([]row, error) {
	plan, err := strategyThroughput()
	if err != nil {
		return nil, err
	}
	guard, err := guardrailThroughput(ctx, root)
	if err != nil {
		return nil, err
	}
	return append([]row{plan}, guard...), nil
}

// runOrchestrationOnly measures only the orchestration rows and prints
// them as table lines, like -ranking-only, to work on them without the
// stack or rewriting the report.
func runOrchestrationOnly(ctx context.Context, _ string) error {
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return err
	}
	rows, err := orchestrationRows(ctx, root)
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.what, r.value, r.baseline, r.ratio, r.note)
	}
	return err
}

// planPortfolio is the generated portfolio the plans are made for: the
// demo's size, so the mix of kinds, key accounts, currencies, ages and
// disputes is the one the demo shows.
var planPortfolio = portfolio.Config{Seed: 42, Customers: 5000, Invoices: 20000, AsOf: ledger.Date(2026, 11, 1), Tenant: "bench"}

// strategyThroughput measures strategy.Decide with the default config over
// every customer of the generated portfolio with an open balance, against a
// rule of thumb over the same inputs.
func strategyThroughput() (row, error) {
	ins, err := planInputs()
	if err != nil {
		return row{}, err
	}
	cfg := strategy.DefaultConfig()

	// One pass first: every input must plan (an error path is cheaper and
	// would flatter the figure), and the outcomes say what the mix was.
	outcomes := map[strategy.Outcome]int{}
	for i := range ins {
		d, err := strategy.Decide(cfg, ins[i])
		if err != nil {
			return row{}, fmt.Errorf("plan input %d: %w", i, err)
		}
		outcomes[d.Outcome]++
	}

	// sink keeps what the loops compute alive, so the compiler cannot drop
	// the inlined rule of thumb as unused.
	var sink int
	rate := medianRate(len(ins), func(i int) {
		d, _ := strategy.Decide(cfg, ins[i])
		sink += len(d.Invoices)
	})
	base := medianRate(len(ins), func(i int) {
		sink += len(ruleOfThumb(&ins[i]))
	})
	runtime.KeepAlive(sink)

	var mix []string
	for _, o := range []strategy.Outcome{strategy.OutcomeAct, strategy.OutcomeWait, strategy.OutcomeFollowUp,
		strategy.OutcomeEscalate, strategy.OutcomeReview, strategy.OutcomeNone} {
		if n := outcomes[o]; n > 0 {
			mix = append(mix, fmt.Sprintf("%s %.0f%%", o, 100*float64(n)/float64(len(ins))))
		}
	}
	return row{
		what:     fmt.Sprintf("strategy engine, next best action for %d customers, in process (plans/s)", len(ins)),
		value:    fmt.Sprintf("%.0f", rate),
		baseline: fmt.Sprintf("%.0f (oldest days past due → fixed step table)", base),
		ratio:    ratioString(rate / base),
		note: fmt.Sprintf("one goroutine, median of three 1 s runs; strategy.Decide with the default config on every customer of the generated "+
			"portfolio (%d customers, %d invoices) with an open balance, with synthetic history, scores, preferences, promises "+
			"and flags; outcomes: %s", planPortfolio.Customers, planPortfolio.Invoices, strings.Join(mix, ", ")),
	}, nil
}

// thumbSteps is the rule a team writes without an engine: a fixed action
// from the age of the oldest invoice (the default config's business
// sequence), no segments, history, promises, approvals or hours.
var thumbSteps = []struct {
	dpd    int
	action strategy.Action
}{
	{75, strategy.ActionHandOff}, {45, strategy.ActionFinalNotice}, {30, strategy.ActionCall},
	{15, strategy.ActionFirmReminder}, {3, strategy.ActionFriendlyReminder},
}

// ruleOfThumb is the baseline plan: it reads the same invoices Decide
// reads, so both pay for the same data walk.
func ruleOfThumb(in *strategy.Input) strategy.Action {
	oldest := 0
	for _, inv := range in.Invoices {
		if inv.IsOpen() {
			oldest = max(oldest, inv.DaysPastDue(in.Now))
		}
	}
	for _, s := range thumbSteps {
		if oldest >= s.dpd {
			return s.action
		}
	}
	return ""
}

// planInputs builds one strategy input per portfolio customer with an open
// invoice. The ledger part (customer, invoices, payments, disputes,
// reachable channels) is the portfolio's own; what the portfolio has no
// file for is drawn from a fixed seed so every run plans the same inputs:
// a contact history that follows the ages of the invoices, a ranking score
// for most customers, a channel preference for many, and a few promises
// and compliance flags.
func planInputs() ([]strategy.Input, error) {
	b, err := portfolio.Load(planPortfolio)
	if err != nil {
		return nil, err
	}
	payments := map[string][]ledger.Payment{}
	for _, p := range b.Payments {
		payments[p.Customer] = append(payments[p.Customer], p)
	}
	// Monday 2 November 2026, 10:00 in New York: a working day of the
	// default config's business hours, the day after the export.
	now := planPortfolio.AsOf.AddDate(0, 0, 1).Add(15 * time.Hour)
	r := rand.New(rand.NewPCG(uint64(planPortfolio.Seed), 7))
	var ins []strategy.Input
	for _, a := range strategy.Accounts(b.Customers, b.Contacts, b.Invoices, b.Disputes) {
		var open []ledger.Invoice
		for _, inv := range a.Invoices {
			if inv.IsOpen() {
				open = append(open, inv)
			}
		}
		if len(open) == 0 {
			continue
		}
		in := strategy.Input{Tenant: a.Customer.Tenant, Customer: a.Customer, Invoices: a.Invoices,
			Payments: payments[a.Customer.ID], Disputes: a.Disputes, Reachable: cycle.Reachable(a.Contacts, nil), Now: now}
		oldest := slices.MinFunc(open, func(x, y ledger.Invoice) int { return x.DueDate.Compare(y.DueDate) })
		dpd := oldest.DaysPastDue(now)

		if r.Float64() < 0.85 {
			in.Score = benchScore(r, a.Customer.ID, open, max(dpd, 0))
		}
		if len(in.Reachable) > 0 && r.Float64() < 0.7 {
			ch := in.Reachable[r.IntN(len(in.Reachable))]
			name := string(ch)
			if ch == consent.VoiceAI {
				name = preference.AIVoice // the model's spelling
			}
			in.Preferred = preference.Choice{Channel: name, P: 0.05 + 0.4*r.Float64()}
		}
		in.Contacts = benchHistory(r, in.Reachable, dpd, now)
		if dpd > 10 && r.Float64() < 0.05 {
			// A promise on the oldest invoice, due from a week ago to a
			// week ahead: kept, pending and broken promises all occur.
			in.Promises = []ledger.PromiseToPay{{Tenant: in.Tenant, ID: "P-" + a.Customer.ID, Customer: a.Customer.ID,
				Invoices: []string{oldest.ID}, Amount: oldest.Open, MadeAt: now.AddDate(0, 0, -10),
				Due: ledger.Date(now.Year(), now.Month(), now.Day()).AddDate(0, 0, r.IntN(15)-7), Status: ledger.PromiseOpen}}
		}
		if r.Float64() < 0.01 {
			in.Flags = []compliance.Flag{compliance.FlagHardship}
		}
		ins = append(ins, in)
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("the generated portfolio has no open invoice at %s", now)
	}
	return ins, nil
}

// benchScore is a ranking rollup with a pay probability that falls with
// age, as the model's does, plus noise.
func benchScore(r *rand.Rand, customer string, open []ledger.Invoice, dpd int) *ranking.CustomerScore {
	total := money.New(0, open[0].Open.Currency)
	for _, inv := range open {
		if t, err := total.Add(inv.Open); err == nil {
			total = t
		}
	}
	p30 := min(0.95, max(0.02, 0.8-float64(dpd)/120+0.3*(r.Float64()-0.5)))
	return &ranking.CustomerScore{Customer: customer, Open: total, Invoices: len(open), OldestDaysPastDue: dpd,
		PayWithin: [3]float64{p30 * 0.35, p30 * 0.65, p30}, ExpectedDays: 5 + 90*(1-p30)}
}

// historySteps are the contacts a customer of a given age has had: the
// step ids and actions of the default config's business sequence, each
// taken at the age it names. Other segments map them by action.
var historySteps = []struct {
	dpd    int
	step   string
	action strategy.Action
}{
	{3, "reminder", strategy.ActionFriendlyReminder}, {15, "firm", strategy.ActionFirmReminder},
	{30, "call", strategy.ActionCall}, {35, "call", strategy.ActionCall},
}

// benchHistory is the contact history of a customer whose oldest invoice
// is dpd days past due: each step it has reached, mostly taken (some were
// skipped or predate the lookback), with a typical result.
func benchHistory(r *rand.Rand, reachable []consent.Channel, dpd int, now time.Time) []strategy.Contact {
	if len(reachable) == 0 {
		return nil
	}
	results := []engagement.Signal{engagement.SignalDelivered, engagement.SignalDelivered, engagement.SignalOpened,
		engagement.SignalClicked, engagement.SignalReplied, engagement.SignalBounced}
	var out []strategy.Contact
	for _, s := range historySteps {
		if dpd-2 < s.dpd || r.Float64() < 0.2 {
			continue
		}
		c := strategy.Contact{At: now.AddDate(0, 0, s.dpd-dpd), Channel: reachable[r.IntN(len(reachable))],
			Action: s.action, Step: s.step, Result: results[r.IntN(len(results))]}
		if s.action == strategy.ActionCall {
			c.Channel, c.Result = consent.Voice, engagement.SignalUnanswered
			if r.Float64() < 0.3 {
				c.Result = engagement.SignalAnswered
			}
		}
		out = append(out, c)
	}
	return out
}

// medianRate runs one(i) over all n inputs in whole passes for a second,
// three times, and returns the median calls per second: whole passes so
// every input weighs the same, the median so one slow second (another
// process, a collection) does not decide the figure.
func medianRate(n int, one func(i int)) float64 {
	var rates []float64
	for range 3 {
		calls := 0
		start := time.Now()
		for time.Since(start) < time.Second {
			for i := range n {
				one(i)
			}
			calls += n
		}
		rates = append(rates, float64(calls)/time.Since(start).Seconds())
	}
	slices.Sort(rates)
	return rates[1]
}

// ratioString keeps two significant digits of a small ratio, which %.2f
// would round to 0.01 or 0.00.
func ratioString(v float64) string {
	if v < 0.1 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return fmt.Sprintf("%.2f", v)
}

// guardrailThroughput runs the drafting package's BenchmarkCheckDraft and
// its baseline, a plain substring scan for the banned phrases, in `go
// test`: the benchmarks build their drafts with the package's own test
// accounts and read the unexported phrase list, so nothing is copied here
// to drift from the guardrails.
func guardrailThroughput(ctx context.Context, root string) ([]row, error) {
	// Three runs of each, the median kept, as for the plans: on a shared
	// machine one run can lose half its speed to a neighbour.
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^Benchmark(CheckDraft|BaselinePhraseScan)$",
		"-benchtime", "1s", "-count", "3", "./shared/drafting/")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("drafting benchmarks: %w\n%s", err, out)
	}
	os.Stderr.Write(out)
	// runs[benchmark/channel][unit] lists a metric's value per run, from
	// lines such as
	// "BenchmarkCheckDraft/email-2  19860  60660 ns/op  16485 checks/s  72.00 drafts ...".
	runs := map[string]map[string][]float64{}
	for l := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		if runs[name] == nil {
			runs[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				runs[name][f[i+1]] = append(runs[name][f[i+1]], v)
			}
		}
	}
	median := func(name, unit string) float64 {
		vs := slices.Sorted(slices.Values(runs[name][unit]))
		if len(vs) == 0 {
			return 0
		}
		return vs[len(vs)/2]
	}
	var rows []row
	for _, ch := range []string{"email", "sms"} {
		label := map[string]string{"email": "e-mail", "sms": "SMS"}[ch]
		check, scan := "BenchmarkCheckDraft/"+ch, "BenchmarkBaselinePhraseScan/"+ch
		rate, base := median(check, "checks/s"), median(scan, "scans/s")
		if rate == 0 || base == 0 {
			return nil, fmt.Errorf("drafting benchmark output lacks the %s check or baseline rate:\n%s", ch, out)
		}
		rows = append(rows, row{
			what:  fmt.Sprintf("drafting guardrails, CheckDraft on good %s drafts, in process (checks/s)", label),
			value: fmt.Sprintf("%.0f; %.0f allocs/check", rate, median(check, "allocs/op")),
			baseline: fmt.Sprintf("%.0f (lower-case, then strings.Contains for each of the %.0f banned phrases)",
				base, median(scan, "phrases")),
			ratio: ratioString(rate / base),
			note: fmt.Sprintf("one goroutine, median of three 1 s runs of `go test -bench CheckDraft ./shared/drafting`; %.0f template drafts (the package's test "+
				"accounts at every dunning level), all passing, so every rule runs to the end: amounts, dates, invoice numbers, "+
				"phones, names, disclosures, banned phrases on word boundaries, links, markup, length", median(check, "drafts")),
		})
	}
	return rows, nil
}
