package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/clock"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/kpi"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// demoSource marks the ledger records the simulated engagement wrote
// (payments, disputes), as the engagement consumer names their source.
const demoSource = "engagement:demo"

// cycleDemo runs the collection cycle on the local stack: the daily run
// through the real state machines and Lambda binaries at the portfolio's
// date, the day's engagement replayed on the Kinesis stream (which wakes
// the waiting cycles to re-plan), and then the same for every business
// day of the following 30, moving the stack's clock a day at a time.
type cycleDemo struct {
	store    *dynamo.Ledger
	eng      *dynamo.Engagement
	runner   *dailyRunner
	pub      *kinesis.Publisher
	kinesis  *awskinesis.Client
	tenant   ledger.TenantID
	seed     int64
	dir      string
	clock    string // the stack's clock file
	outbox   string // the stack's outbox file
	invoices map[string]ledger.Invoice

	stops map[string]time.Time // number → when it replied STOP (wall time the event was put)
}

// Time of the daily run: 11:00 in New York (the demo tenant's business
// hours), 08:00 on the Pacific coast, before 08:00 in Alaska and Hawaii,
// so the gate's quiet hours show.
const dailyRunHour = 16

func newCycleDemo(ctx context.Context, store *dynamo.Ledger, tenant ledger.TenantID, seed int64, dir string) (*cycleDemo, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	lc := local.DefaultConfig(root)
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	eng, err := dynamo.NewEngagement(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	runner, err := newDailyRunner(ctx)
	if err != nil {
		return nil, err
	}
	kc := awskinesis.NewFromConfig(cfg)
	pub, err := kinesis.NewPublisher(kc, local.EngagementStream)
	if err != nil {
		return nil, err
	}
	if err := pub.EnsureStream(ctx, local.EngagementShards); err != nil {
		return nil, err
	}
	return &cycleDemo{store: store, eng: eng, runner: runner, pub: pub, kinesis: kc, tenant: tenant, seed: seed, dir: dir,
		clock: lc.ClockFile(), outbox: lc.OutboxFile(), stops: map[string]time.Time{}}, nil
}

// day is what one simulated business day did.
type day struct {
	wave      *wave
	contacted []portfolio.Contacted
	events    []events.Event
	replans   int
	replanned []pass
}

// runDay sets the stack's clock to the daily run's time on date, runs the
// daily run, then replays the engagement that follows the day's contacts
// and waits for the cycles it woke to plan again.
func (d *cycleDemo) runDay(ctx context.Context, date time.Time, n int) (*day, error) {
	at := date.Add(dailyRunHour * time.Hour)
	if err := clock.Write(d.clock, at, time.Now()); err != nil {
		return nil, err
	}
	wv, err := d.runner.run(ctx, d.tenant, at, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	out := &day{wave: wv}
	if out.contacted, err = d.contactedBy(ctx, wv); err != nil {
		return nil, err
	}
	if len(out.contacted) == 0 {
		return out, nil
	}
	evs := portfolio.EngagementDay(d.seed+int64(n), out.contacted)
	for i := range evs {
		// Each day's events are new events: their ids say which day.
		evs[i].ID = fmt.Sprintf("d%02d-%s", n, evs[i].ID)
	}
	out.events = evs
	// The clock moves past the day's last event, so the cycles those
	// events wake plan after them, as they would in production.
	last := evs[len(evs)-1].OccurredAt
	for _, ev := range evs {
		if ev.OccurredAt.After(last) {
			last = ev.OccurredAt
		}
	}
	replanFrom := last.Add(time.Minute)
	if err := clock.Write(d.clock, replanFrom, time.Now()); err != nil {
		return nil, err
	}
	if err := d.writeEvents(evs, n); err != nil {
		return nil, err
	}
	wallPut := time.Now()
	if err := d.pub.Put(ctx, evs); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(evs)+1)
	if n == 1 {
		id, err := d.putBadRecords(ctx, evs[len(evs)-1].OccurredAt)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	for _, ev := range evs {
		if in, ok := ev.Payload.(events.SMSInbound); ok {
			if revoked, _ := compliance.Revocation(in.Text); revoked {
				d.stops[ev.ContactPoint] = wallPut
			}
		}
	}
	if err := waitClaimed(ctx, d.eng, d.tenant, ids, 3*time.Minute); err != nil {
		return nil, fmt.Errorf("%w (is the engagement Lambda running? `make status`; its log is in .local/logs/lambdahost.log)", err)
	}
	// The consumer asked the waiting cycles of these customers to plan
	// again; wait until each has.
	reqs, err := d.eng.Replans(ctx, d.tenant, evs[0].OccurredAt.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	customers := map[string]bool{}
	for _, r := range reqs {
		customers[r.Customer] = true
	}
	out.replans = len(customers)
	if out.replanned, err = d.replanned(ctx, customers, replanFrom, wallPut); err != nil {
		return nil, err
	}
	return out, nil
}

// contactedBy lists the e-mails, texts and calls the wave sent, as the
// outbox recorded them.
func (d *cycleDemo) contactedBy(ctx context.Context, wv *wave) ([]portfolio.Contacted, error) {
	sent := map[string]pass{}
	for _, p := range wv.Passes {
		if p.Outcome == passSent && p.Sent != nil {
			sent[p.Sent.AttemptID] = p
		}
	}
	if len(sent) == 0 {
		return nil, nil
	}
	entries, err := outbox.Read(d.outbox)
	if err != nil {
		return nil, err
	}
	if d.invoices == nil {
		invs, err := d.store.Invoices(ctx, d.tenant)
		if err != nil {
			return nil, err
		}
		d.invoices = map[string]ledger.Invoice{}
		for _, inv := range invs {
			d.invoices[inv.ID] = inv
		}
	}
	var out []portfolio.Contacted
	for _, e := range entries {
		p, ok := sent[e.Attempt]
		if !ok || len(e.To) == 0 {
			continue
		}
		ch, ok := map[string]events.Channel{"email": events.ChannelEmail, "sms": events.ChannelSMS,
			"voice": events.ChannelVoice, "voice_ai": events.ChannelVoice}[e.Channel]
		if !ok {
			continue
		}
		debt := p.Decision.Invoices[0]
		out = append(out, portfolio.Contacted{Tenant: d.tenant, AttemptID: e.Attempt, Customer: p.Customer, Channel: ch,
			// The stack's Step Functions keeps the wall clock, so Sent.Entered
			// does not say when on the demo's clock the message went: the
			// daily run's time does, to the minute.
			To: e.To[0], Debt: debt, Open: d.invoices[debt].Open, At: wv.At})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AttemptID < out[j].AttemptID })
	return out, nil
}

// putBadRecords puts two records no producer of ours would write, to show
// where bad input goes: a cut-off record and a STOP from a customer the
// ledger lacks. It returns the id of the second, which the consumer claims.
func (d *cycleDemo) putBadRecords(ctx context.Context, at time.Time) (string, error) {
	stranger := events.Event{ID: "demo-stranger-stop", Tenant: d.tenant, Customer: "C-NOT-IN-LEDGER", Channel: events.ChannelSMS,
		ContactPoint: "+12025550148", OccurredAt: at, Source: "demo", Payload: events.SMSInbound{Text: "STOP"}}
	sb, err := events.Encode(stranger)
	if err != nil {
		return "", err
	}
	if _, err := d.kinesis.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(local.EngagementStream), Records: []kinesistypes.PutRecordsRequestEntry{
		{Data: []byte(`{"schema_version":"1","id":"demo-cut-off","tenant":"` + string(d.tenant) + `","cust`), PartitionKey: aws.String("bad")},
		{Data: sb, PartitionKey: aws.String(stranger.PartitionKey())},
	}}); err != nil {
		return "", err
	}
	return stranger.ID, nil
}

func (d *cycleDemo) writeEvents(evs []events.Event, n int) error {
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := events.Encode(ev)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(d.dir, fmt.Sprintf("engagement-day-%02d.jsonl", n)), buf.Bytes(), 0o644)
}

// replanned waits for the cycles of customers to settle again after the
// events and reads what each decided.
func (d *cycleDemo) replanned(ctx context.Context, customers map[string]bool, simFrom, wallFrom time.Time) ([]pass, error) {
	w := &wave{}
	for c := range customers {
		r, ok, err := d.runner.runs.Get(ctx, d.tenant, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		w.Passes = append(w.Passes, pass{Customer: c, Execution: r.Execution, Woken: "woken"})
	}
	sort.Slice(w.Passes, func(i, j int) bool { return w.Passes[i].Customer < w.Passes[j].Customer })
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := d.runner.settle(ctx, d.tenant, w, simFrom, wallFrom); err != nil {
		return nil, err
	}
	return w.Passes, nil
}

// textsAfterStop counts the texts the outbox holds to a number after it
// replied STOP.
func (d *cycleDemo) textsAfterStop() (int, error) {
	entries, err := outbox.Read(d.outbox)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.Channel != "sms" {
			continue
		}
		for _, to := range e.To {
			if at, ok := d.stops[to]; ok && e.Time.After(at) {
				n++
			}
		}
	}
	return n, nil
}

// printReplanned says what the cycles the day's events woke decided.
func printReplanned(w io.Writer, dy *day) {
	count := map[string]int{}
	for _, p := range dy.replanned {
		what := p.Outcome
		switch {
		case p.Outcome == passClosed:
			what = "closed: nothing left to collect"
		case p.Outcome == passWaiting && p.Decision != nil && p.Decision.Action != "":
			what = fmt.Sprintf("waits to %s by %s", strings.ReplaceAll(string(p.Decision.Action), "_", " "), p.Decision.Channel)
		case p.Outcome == passWaiting && p.Decision != nil:
			what = "waits: " + firstClause(p.Decision.Reason)
		case p.Outcome == passApproval:
			what = "waits for a collector"
		case p.Outcome == passSent && p.Decision != nil:
			what = "sent at once: " + string(p.Decision.Channel)
		case p.Outcome == passBlocked && p.Sent != nil:
			what = "blocked by " + strings.Join(p.Sent.Rules, ", ")
		}
		count[what]++
	}
	printCounts(w, fmt.Sprintf("the %d cycles the events woke planned again", len(dy.replanned)), count)
}

// firstClause shortens a decision's reason to its first clause, so like
// reasons count together.
func firstClause(s string) string {
	for _, sep := range []string{";", ": ", " ("} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	return s
}

// importConsent records the consent states the contact points were
// imported with in the consent ledger the gate reads: a grant with its
// date (one of unknown date proves nothing), a revocation always (dated
// just before at when its date is unknown). A phone's consent covers
// calls and artificial voice, and texts when it is a mobile.
func importConsent(ctx context.Context, cs *dynamo.Consent, cps []ledger.ContactPoint, at time.Time) (int, error) {
	n := 0
	for _, cp := range cps {
		if cp.Consent != ledger.ConsentGranted && cp.Consent != ledger.ConsentRevoked {
			continue
		}
		var addr consent.Address
		var chans []consent.Channel
		var err error
		switch {
		case cp.Email != nil:
			addr, err = consent.NormaliseEmail(cp.Email.Address)
			chans = []consent.Channel{consent.Email}
		case cp.Phone != nil:
			addr, err = consent.NormalisePhone(cp.Phone.E164)
			chans = []consent.Channel{consent.Voice, consent.VoiceAI}
			if cp.Phone.Line == ledger.LineMobile {
				chans = append(chans, consent.SMS)
			}
		default:
			continue
		}
		if err != nil {
			return n, fmt.Errorf("contact point %s: %w", cp.ID, err)
		}
		when := cp.ConsentAt
		if when.IsZero() {
			if cp.Consent == ledger.ConsentGranted {
				continue
			}
			when = at.Add(-time.Second)
		}
		for _, ch := range chans {
			id := "import-" + cp.ID + "-" + string(cp.Consent) + "-" + string(ch)
			var ev consent.Event = consent.Grant{ID: id, Tenant: cp.Tenant, Address: addr, Channel: ch, Source: consent.SourceImport, At: when}
			if cp.Consent == ledger.ConsentRevoked {
				ev = consent.Revoke{ID: id, Tenant: cp.Tenant, Address: addr, Channels: []consent.Channel{ch}, Via: consent.ViaAgent, At: when}
			}
			if _, err := cs.Record(ctx, cp.Tenant, cp.Customer, ev); err != nil {
				return n, fmt.Errorf("record imported consent of contact point %s: %w", cp.ID, err)
			}
			n++
		}
	}
	return n, nil
}

// printDayLine is one line of the 30-day run.
func printDayLine(w io.Writer, date time.Time, dy *day) {
	count := map[string]int{}
	byChannel := map[string]int{}
	for _, p := range dy.wave.Passes {
		count[p.Outcome]++
		if p.Outcome == passSent && p.Decision != nil {
			byChannel[string(p.Decision.Channel)]++
		}
	}
	var chans []string
	for ch, n := range byChannel {
		chans = append(chans, fmt.Sprintf("%s %d", ch, n))
	}
	sort.Strings(chans)
	paid, promises := 0, 0
	for _, ev := range dy.events {
		switch ev.Type() {
		case events.TypePaymentReceived:
			paid++
		case events.TypePromiseMade:
			promises++
		}
	}
	sent := fmt.Sprintf("%d", count[passSent])
	if len(chans) > 0 {
		sent += " (" + strings.Join(chans, ", ") + ")"
	}
	fmt.Fprintf(w, "   %s  reached %4d (waiting %4d)  sent %-40s blocked %3d  to a collector %3d  events %4d  payments %3d  promises %2d  re-planned %3d  %s\n",
		date.Format("Mon 02 Jan"), len(dy.wave.Passes), dy.wave.List.Waiting, sent, count[passBlocked], count[passApproval],
		len(dy.events), paid, promises, len(dy.replanned), dy.wave.Settled.Round(100*time.Millisecond))
}

// printKPIComparison sets the KPIs before the 30 days beside those after,
// with and without the payments the cycle's contacts brought in.
func printKPIComparison(ctx context.Context, w io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, before, after time.Time) error {
	invoices, err := store.Invoices(ctx, tenant)
	if err != nil {
		return err
	}
	payments, err := store.Payments(ctx, tenant)
	if err != nil {
		return err
	}
	var without []ledger.Payment
	for _, p := range payments {
		if p.Source.System != demoSource {
			without = append(without, p)
		}
	}
	opts := kpi.Options{AsOf: before, Window: 30}
	b, err := kpi.Compute(invoices, without, opts)
	if err != nil {
		return err
	}
	opts.AsOf = after
	none, err := kpi.Compute(invoices, without, opts)
	if err != nil {
		return err
	}
	with, err := kpi.Compute(erpView(invoices, payments), payments, opts)
	if err != nil {
		return err
	}
	byCur := func(rs []kpi.Report) map[string]kpi.Report {
		m := map[string]kpi.Report{}
		for _, r := range rs {
			m[r.Currency.Code()] = r
		}
		return m
	}
	bm, nm, wm := byCur(b), byCur(none), byCur(with)
	codes := make([]string, 0, len(wm))
	for c := range wm {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprintf(w, "   before: %s; after: %s, without and with what the cycle's contacts collected\n", before.Format("2006-01-02"), after.Format("2006-01-02"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range codes {
		bb, nn, ww := bm[c], nm[c], wm[c]
		fmt.Fprintf(tw, "   %s\tbefore\tafter, no cycle\tafter, with the cycle\t\n", c)
		amt := func(a money.Amount) string { return a.Decimal() }
		fmt.Fprintf(tw, "   open AR\t%s\t%s\t%s\t\n", amt(bb.OpenAR), amt(nn.OpenAR), amt(ww.OpenAR))
		fmt.Fprintf(tw, "   past-due AR\t%s\t%s\t%s\t\n", amt(bb.PastDueAR), amt(nn.PastDueAR), amt(ww.PastDueAR))
		fmt.Fprintf(tw, "   DSO (countback, days)\t%.1f\t%.1f\t%.1f\t\n", bb.DSOCountback, nn.DSOCountback, ww.DSOCountback)
		fmt.Fprintf(tw, "   CEI (30 days)\t%.1f%%\t%.1f%%\t%.1f%%\t\n", bb.CEI, nn.CEI, ww.CEI)
		fmt.Fprintln(tw, "\t\t\t\t")
	}
	return tw.Flush()
}

// seedConsent records the imported consent states of the tenant's
// contact points (see importConsent).
func seedConsent(ctx context.Context, w io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, at time.Time) error {
	cps, err := store.ContactPoints(ctx, tenant)
	if err != nil {
		return err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	cs, err := dynamo.NewConsent(awsconfig.DynamoDB(cfg), awsconfig.TablePrefix())
	if err != nil {
		return err
	}
	n, err := importConsent(ctx, cs, cps, at)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %d consent events recorded from %d contact points (a grant of unknown date proves nothing and is left out)\n", n, len(cps))
	return nil
}

// printSamples shows one message of each channel the wave sent, as the
// outbox received it.
func printSamples(w io.Writer, path string, wv *wave) error {
	sent := map[string]bool{}
	for _, p := range wv.Passes {
		if p.Outcome == passSent && p.Sent != nil {
			sent[p.Sent.AttemptID] = true
		}
	}
	entries, err := outbox.Read(path)
	if err != nil {
		return err
	}
	shown := map[string]bool{}
	for _, e := range entries {
		if !sent[e.Attempt] || shown[e.Channel] {
			continue
		}
		shown[e.Channel] = true
		body := e.Text
		if body == "" {
			body = e.Script
		}
		fmt.Fprintf(w, "\n   a %s from the outbox (customer %s, attempt %s):\n", e.Channel, e.Customer, e.Attempt)
		if e.Subject != "" {
			fmt.Fprintf(w, "     Subject: %s\n", e.Subject)
		}
		lines := strings.Split(strings.TrimSpace(body), "\n")
		for i, l := range lines {
			if i == 8 {
				fmt.Fprintf(w, "     ... (%d more lines)\n", len(lines)-8)
				break
			}
			fmt.Fprintf(w, "     %s\n", l)
		}
	}
	return nil
}

// printPending says how many cycles wait for a collector, and why.
func printPending(ctx context.Context, w io.Writer, d *dailyRunner, tenant ledger.TenantID) error {
	reasons := map[string]int{}
	n := 0
	after := ""
	for {
		page, err := d.approvals.Pending(ctx, tenant, after, approval.MaxPageSize)
		if err != nil {
			return err
		}
		for _, r := range page {
			n++
			for _, reason := range r.Reasons {
				reasons[reason.Code]++
			}
		}
		if len(page) < approval.MaxPageSize {
			break
		}
		after = page[len(page)-1].Cursor()
	}
	printCounts(w, fmt.Sprintf("%d cycles wait for a collector (the approve API resumes each); because", n), reasons)
	return nil
}

// erpView is the invoices as the ERP's next export would show them once the
// payments the simulation recorded against them are applied: each open
// balance reduced by them, closed on the day it reaches zero. The ledger
// keeps an invoice's open balance as last exported, so without this the
// KPIs would not see the cycle's collections until the ERP is imported
// again.
func erpView(invoices []ledger.Invoice, payments []ledger.Payment) []ledger.Invoice {
	out := slices.Clone(invoices)
	at := map[string]int{}
	for i, inv := range out {
		at[inv.ID] = i
	}
	pays := slices.Clone(payments)
	sort.Slice(pays, func(i, j int) bool { return pays[i].ReceivedAt.Before(pays[j].ReceivedAt) })
	for _, p := range pays {
		i, ok := at[p.Invoice]
		if p.Source.System != demoSource || p.Invoice == "" || !ok {
			continue
		}
		inv := &out[i]
		if !inv.ClosedDate.IsZero() || inv.Amount.Currency != p.Amount.Currency {
			continue
		}
		inv.Open.Minor = max(inv.Open.Minor-p.Amount.Minor, 0)
		if inv.Open.Minor == 0 {
			inv.ClosedDate = p.ReceivedAt
		}
	}
	return out
}
