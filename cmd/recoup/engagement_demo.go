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
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// engagementDay is the demo's step 6: the contacts the gate allowed get
// follow-ups planned for the next days, a seeded day of engagement events
// is put on the Kinesis stream, the engagement Lambda (the real bootstrap,
// run by the local Lambda host) applies them, and the demo prints what
// changed: consent, planned actions, ledger, re-plan requests, dead
// letters, and what the gate now says.
func engagementDay(ctx context.Context, w io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, plan []strategy.Planned,
	outs []dispatch.Outcome, dir string, seed int64) error {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	client, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	eng, err := dynamo.NewEngagement(client, prefix)
	if err != nil {
		return err
	}
	invoices, err := store.Invoices(ctx, tenant)
	if err != nil {
		return err
	}
	open := map[string]ledger.Invoice{}
	for _, inv := range invoices {
		open[inv.ID] = inv
	}

	// The contacts the gate allowed, and their planned follow-ups.
	var contacted []portfolio.Contacted
	var actions []engagement.Action
	for i, p := range plan {
		a := p.Request.Attempt
		ch, ok := map[compliance.Channel]events.Channel{compliance.ChannelEmail: events.ChannelEmail,
			compliance.ChannelSMS: events.ChannelSMS, compliance.ChannelCall: events.ChannelVoice}[a.Channel]
		if !ok || outs[i].Result.Decision != compliance.Allow || a.To == "" {
			continue
		}
		contacted = append(contacted, portfolio.Contacted{Tenant: tenant, AttemptID: p.Request.AttemptID, Customer: p.Request.Customer,
			Channel: ch, To: a.To, Debt: a.Debt, Open: open[a.Debt].Open, At: a.At})
		to, err := consent.NormaliseAddress(a.To)
		if err != nil {
			return err
		}
		follow := engagement.Action{Tenant: tenant, Customer: p.Request.Customer, ID: "fu-" + p.Request.AttemptID,
			Channel: consentChannel(ch), To: to, Invoices: []string{a.Debt}, At: a.At.Add(24 * time.Hour)}
		actions = append(actions, follow)
		if ch == events.ChannelSMS {
			ai := follow
			ai.ID, ai.Channel, ai.At = "ai-"+p.Request.AttemptID, consent.VoiceAI, a.At.Add(48*time.Hour)
			actions = append(actions, ai)
		}
	}
	added, err := eng.PutActions(ctx, actions)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %d contacts were allowed; %d follow-ups planned for the next two days (%d new)\n", len(contacted), len(actions), added)

	evs := portfolio.EngagementDay(seed, contacted)
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := events.Encode(ev)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	file := filepath.Join(dir, "engagement-day.jsonl")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return err
	}
	kc := awskinesis.NewFromConfig(cfg)
	pub, err := kinesis.NewPublisher(kc, local.EngagementStream)
	if err != nil {
		return err
	}
	if err := pub.EnsureStream(ctx, local.EngagementShards); err != nil {
		return err
	}
	start := time.Now()
	if err := pub.Put(ctx, evs); err != nil {
		return err
	}
	// Two records no producer of ours would write, to show where bad input
	// goes: a cut-off record and a STOP from a customer the ledger lacks.
	stranger := events.Event{ID: "demo-stranger-stop", Tenant: tenant, Customer: "C-NOT-IN-LEDGER", Channel: events.ChannelSMS,
		ContactPoint: "+12025550148", OccurredAt: evs[len(evs)-1].OccurredAt, Source: "demo", Payload: events.SMSInbound{Text: "STOP"}}
	sb, err := events.Encode(stranger)
	if err != nil {
		return err
	}
	if _, err := kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(local.EngagementStream), Records: []kinesistypes.PutRecordsRequestEntry{
		{Data: []byte(`{"schema_version":"1","id":"demo-cut-off","tenant":"` + string(tenant) + `","cust`), PartitionKey: aws.String("bad")},
		{Data: sb, PartitionKey: aws.String(stranger.PartitionKey())},
	}}); err != nil {
		return err
	}
	fmt.Fprintf(w, "   put %d engagement events on stream %s (written to %s), and 2 deliberately bad records\n", len(evs), local.EngagementStream, file)

	ids := make([]string, 0, len(evs)+1)
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	ids = append(ids, stranger.ID)
	if err := waitClaimed(ctx, eng, tenant, ids, 3*time.Minute); err != nil {
		return fmt.Errorf("%w (is the engagement Lambda running? `make status`; its log is in .local/logs/lambdahost.log)", err)
	}
	fmt.Fprintf(w, "   the engagement Lambda applied them in %s (the local host polls each shard once a second, as AWS does)\n\n",
		time.Since(start).Round(100*time.Millisecond))

	if err := printEventTypes(w, evs); err != nil {
		return err
	}
	if err := printActionChanges(ctx, w, eng, tenant, contacted); err != nil {
		return err
	}
	if err := printEngagementLedger(ctx, w, store, eng, tenant, evs); err != nil {
		return err
	}
	if err := printDeadLetters(ctx, w, cfg); err != nil {
		return err
	}
	return gateAfterStops(ctx, w, client, prefix, tenant, plan, evs)
}

func consentChannel(c events.Channel) consent.Channel {
	switch c {
	case events.ChannelVoice:
		return consent.Voice
	case events.ChannelSMS:
		return consent.SMS
	}
	return consent.Email
}

// waitClaimed waits until every event id is claimed (applied or refused)
// by the consumer.
func waitClaimed(ctx context.Context, eng *dynamo.Engagement, tenant ledger.TenantID, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	pending := slices.Clone(ids)
	for len(pending) > 0 {
		var (
			mu   sync.Mutex
			left []string
			wg   sync.WaitGroup
			next = make(chan string)
			ferr error
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range next {
					_, ok, err := eng.Claimed(ctx, tenant, id)
					mu.Lock()
					if err != nil && ferr == nil {
						ferr = err
					}
					if !ok {
						left = append(left, id)
					}
					mu.Unlock()
				}
			}()
		}
		for _, id := range pending {
			next <- id
		}
		close(next)
		wg.Wait()
		if ferr != nil {
			return ferr
		}
		pending = left
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d events not applied after %s", len(pending), len(ids), limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}

func printEventTypes(w io.Writer, evs []events.Event) error {
	byType := map[events.Type]int{}
	for _, ev := range evs {
		byType[ev.Type()]++
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   event\tcount\t")
	for _, t := range events.Types() {
		if byType[t] > 0 {
			fmt.Fprintf(tw, "   %s\t%d\t\n", t, byType[t])
		}
	}
	return tw.Flush()
}

func printActionChanges(ctx context.Context, w io.Writer, eng *dynamo.Engagement, tenant ledger.TenantID, contacted []portfolio.Contacted) error {
	customers := map[string]bool{}
	for _, c := range contacted {
		customers[c.Customer] = true
	}
	type key struct {
		status engagement.ActionStatus
		reason string
	}
	count := map[key]int{}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan string)
		ferr error
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				acts, err := eng.Actions(ctx, tenant, c)
				mu.Lock()
				if err != nil && ferr == nil {
					ferr = err
				}
				for _, a := range acts {
					count[key{a.Status, a.Reason}]++
				}
				mu.Unlock()
			}
		}()
	}
	for c := range customers {
		next <- c
	}
	close(next)
	wg.Wait()
	if ferr != nil {
		return ferr
	}
	keys := make([]key, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i].reason < keys[j].reason
	})
	fmt.Fprintln(w, "\n   planned follow-ups after the day")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   status\tbecause\tactions\t")
	for _, k := range keys {
		reason := k.reason
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "   %s\t%s\t%d\t\n", k.status, reason, count[k])
	}
	return tw.Flush()
}

func printEngagementLedger(ctx context.Context, w io.Writer, store *dynamo.Ledger, eng *dynamo.Engagement, tenant ledger.TenantID, evs []events.Event) error {
	fromEvents := func(src ledger.Source) bool { return src.System == "engagement:demo" }
	pays, err := store.Payments(ctx, tenant)
	if err != nil {
		return err
	}
	paid := 0
	sums := map[string]money.Amount{} // by currency: amounts in different currencies never add up
	for _, p := range pays {
		if fromEvents(p.Source) {
			paid++
			code := p.Amount.Currency.Code()
			if s, ok := sums[code]; ok {
				p.Amount.Minor += s.Minor
			}
			sums[code] = p.Amount
		}
	}
	var totals []string
	for _, a := range sums {
		totals = append(totals, a.String())
	}
	sort.Strings(totals)
	ds, err := store.Disputes(ctx, tenant)
	if err != nil {
		return err
	}
	disputes := 0
	for _, d := range ds {
		if fromEvents(d.Source) {
			disputes++
		}
	}
	start := time.Now()
	promises := 0
	for _, ev := range evs {
		if ev.Type() == events.TypePromiseMade {
			promises++
		}
	}
	fmt.Fprintf(w, "\n   ledger: %d payments recorded from events (%s), %d promises to pay, %d dispute(s) opened\n",
		paid, strings.Join(totals, ", "), promises, disputes)
	// The outbox is read from an eventually consistent index: read until two
	// reads agree (at most 2 s).
	var reqs []dynamo.ReplanRequest
	for last := -1; ; last = len(reqs) {
		if reqs, err = eng.Replans(ctx, tenant, evs[0].OccurredAt.Add(-time.Hour)); err != nil {
			return err
		}
		if len(reqs) == last || time.Since(start) > 2*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	byReason := map[string]int{}
	for _, r := range reqs {
		byReason[r.Reason]++
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return byReason[reasons[i]] > byReason[reasons[j]] })
	fmt.Fprintf(w, "   re-plan requests for the orchestration: %d", len(reqs))
	for _, r := range reasons {
		fmt.Fprintf(w, "; %s %d", r, byReason[r])
	}
	fmt.Fprintln(w)
	return nil
}

func printDeadLetters(ctx context.Context, w io.Writer, cfg aws.Config) error {
	api := awssqs.NewFromConfig(cfg)
	out, err := api.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(local.EngagementDLQ)})
	if err != nil {
		return fmt.Errorf("dead-letter queue %s: %w", local.EngagementDLQ, err)
	}
	got, err := sqsq.Receive(ctx, api, aws.ToString(out.QueueUrl), 10, time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   dead-letter queue %s (first %d messages; they stay on the queue):\n", local.EngagementDLQ, len(got))
	for _, m := range got {
		fmt.Fprintf(w, "     %-16s %s\n", m.Letter.Kind, m.Letter.Reason)
	}
	return nil
}

// gateAfterStops asks the gate to text every number that replied STOP
// during the day: each must be blocked.
func gateAfterStops(ctx context.Context, w io.Writer, client *dynamodb.Client, prefix string, tenant ledger.TenantID,
	plan []strategy.Planned, evs []events.Event) error {
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		return err
	}
	gate, err := dynamo.NewGate(client, prefix, engines)
	if err != nil {
		return err
	}
	at := evs[len(evs)-1].OccurredAt.Add(time.Minute)
	gate.Now = func() time.Time { return at }
	byCustomer := map[string]dispatch.Request{}
	for _, p := range plan {
		byCustomer[p.Request.Customer] = p.Request
	}
	tried, blocked := 0, 0
	for _, ev := range evs {
		in, ok := ev.Payload.(events.SMSInbound)
		if !ok {
			continue
		}
		if revoked, _ := compliance.Revocation(in.Text); !revoked {
			continue
		}
		req, ok := byCustomer[ev.Customer]
		if !ok {
			continue
		}
		req.AttemptID = "after-stop-" + ev.ID
		req.Attempt.At, req.Attempt.Channel, req.Attempt.To = at, compliance.ChannelSMS, ev.ContactPoint
		o, err := gate.Dispatch(ctx, req)
		if err != nil {
			return err
		}
		tried++
		if o.Result.Decision == compliance.Block && slices.Contains(o.Result.Rules, "TCPA-REVOCATION") {
			blocked++
		}
	}
	fmt.Fprintf(w, "\n   the gate, asked to text each number that replied STOP: %d of %d blocked by TCPA-REVOCATION\n", blocked, tried)
	if blocked != tried {
		return fmt.Errorf("%d texts to numbers that replied STOP were not blocked", tried-blocked)
	}
	return nil
}
