package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
)

type stack struct {
	pub    *kinesis.Publisher
	ledger *dynamo.Ledger
	cons   *dynamo.Consent
	eng    *dynamo.Engagement
	gate   *dispatch.Gate
	tenant ledger.TenantID
}

func newStack(t *testing.T) stack {
	t.Helper()
	localtest.Require(t, "AWS_ENDPOINT_URL_LAMBDA", "RECOUP_KINESIS_ENDPOINT")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	s := stack{tenant: ledger.TenantID(fmt.Sprintf("e2e%d", time.Now().UnixNano()))}
	if s.pub, err = kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), local.EngagementStream); err != nil {
		t.Fatal(err)
	}
	if s.ledger, err = dynamo.NewLedger(db, prefix); err != nil {
		t.Fatal(err)
	}
	if s.cons, err = dynamo.NewConsent(db, prefix); err != nil {
		t.Fatal(err)
	}
	if s.eng, err = dynamo.NewEngagement(db, prefix); err != nil {
		t.Fatal(err)
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.gate, err = dynamo.NewGate(db, prefix, engines); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s stack) customers(t *testing.T, n int) {
	t.Helper()
	usd, _ := money.ParseCurrency("USD")
	var recs []ledger.Record
	for i := range n {
		id := fmt.Sprintf("C%04d", i)
		recs = append(recs,
			ledger.Customer{Tenant: s.tenant, ID: id, Name: "Customer " + id, Kind: ledger.Consumer, Currency: usd},
			ledger.ContactPoint{Tenant: s.tenant, Customer: id, ID: id + "-P", Kind: ledger.ContactPhone,
				Phone: &ledger.Phone{E164: phone(i), Line: ledger.LineMobile}},
			ledger.Invoice{Tenant: s.tenant, ID: "INV-" + id, Customer: id, InvoiceDate: ledger.Date(2026, 1, 2),
				DueDate: ledger.Date(2026, 2, 1), Amount: money.New(10000, usd), Open: money.New(10000, usd)})
	}
	if _, err := s.ledger.Upsert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func phone(i int) string { return fmt.Sprintf("+1617555%04d", i) }

// TestIntegrationStopBlocksQueuedTextAndAIVoice puts an SMS STOP reply on
// Kinesis; the Lambda host polls the stream and invokes the real bootstrap.
// Once the revocation is visible, the gate blocks the text and the AI-voice
// call that were queued for that number, and both planned actions are
// cancelled.
func TestIntegrationStopBlocksQueuedTextAndAIVoice(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	s.customers(t, 1)
	tel, _ := consent.NormalisePhone(phone(0))
	now := time.Now().UTC()
	for _, ch := range []consent.Channel{consent.SMS, consent.VoiceAI} {
		if _, err := s.cons.Record(ctx, s.tenant, "C0000", consent.Grant{ID: "grant-" + string(ch), Tenant: s.tenant, Address: tel,
			Channel: ch, Source: consent.SourceDirect, At: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.eng.PutActions(ctx, []engagement.Action{
		{Tenant: s.tenant, Customer: "C0000", ID: "queued-sms", Channel: consent.SMS, To: tel, At: now.Add(time.Hour)},
		{Tenant: s.tenant, Customer: "C0000", ID: "queued-ai", Channel: consent.VoiceAI, To: tel, At: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	stop := events.Event{ID: "stop-" + string(s.tenant), Tenant: s.tenant, Customer: "C0000", Channel: events.ChannelSMS,
		ContactPoint: phone(0), OccurredAt: now.Truncate(time.Second), Source: "test", Payload: events.SMSInbound{Text: "STOP"}}
	put := time.Now()
	if err := s.pub.Put(ctx, []events.Event{stop}); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := s.cons.Current(ctx, s.tenant, tel, consent.VoiceAI)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(st.Restrictions, consent.KindRevoke) {
			break
		}
		if time.Since(put) > 60*time.Second {
			t.Fatal("the STOP was not applied within 60 s; see the Lambda host's log")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("STOP visible to the gate %s after PutRecords (make bench measures the distribution)", time.Since(put).Round(time.Millisecond))
	at := time.Now().UTC()
	s.gate.Now = func() time.Time { return at }
	for _, ch := range []compliance.Channel{compliance.ChannelSMS, compliance.ChannelAIVoice} {
		o, err := s.gate.Dispatch(ctx, dispatch.Request{Tenant: s.tenant, AttemptID: "queued-" + string(ch), Collector: ledger.FirstParty,
			Customer: "C0000", Consumer: compliance.Consumer{ID: "C0000", State: "MA", ZIP: "02108",
				Phones: []compliance.Phone{{Number: phone(0), Line: ledger.LineMobile}}},
			Debts: []compliance.Debt{{ID: "INV-C0000"}},
			Attempt: compliance.Attempt{At: at, Channel: ch, Debt: "INV-C0000", To: phone(0), Purpose: compliance.PurposeCollection,
				Disclosures: []compliance.Disclosure{compliance.DisclosureOptOut, compliance.DisclosureMiniMiranda}}})
		if err != nil {
			t.Fatal(err)
		}
		if o.Result.Decision != compliance.Block || !slices.Contains(o.Result.Rules, "TCPA-REVOCATION") {
			t.Errorf("queued %s after STOP: %+v, want blocked by TCPA-REVOCATION", ch, o.Result)
		}
	}
	acts, err := s.eng.Actions(ctx, s.tenant, "C0000")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if a.Status != engagement.ActionCancelled || a.Cause != stop.ID {
			t.Errorf("queued action %s: %s (cause %q), want cancelled by the STOP", a.ID, a.Status, a.Cause)
		}
	}
}

// bootstraps returns the PIDs of running engagement function instances
// started by this stack's Lambda host (its PID file is under
// RECOUP_STATE_DIR), so a developer's other stack is never touched.
func bootstraps(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(os.Getenv("RECOUP_STATE_DIR"), "pids", "lambdahost.pid"))
	if err != nil {
		t.Skipf("no Lambda host PID file (RECOUP_STATE_DIR=%q): %v", os.Getenv("RECOUP_STATE_DIR"), err)
	}
	host := strings.TrimSpace(string(b))
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc: cannot find the function's instances")
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasSuffix(exe, filepath.Join("dist", "engagement", "bootstrap")) {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err == nil && strings.Contains(string(status), "\nPPid:\t"+host+"\n") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestIntegrationKilledConsumerLosesNothing puts 600 events for 40
// customers and kills the function's instances (SIGKILL, as a crash or an
// out-of-memory kill would) while they are being applied. The host
// retries the failed batches on fresh instances; in the end every event is
// applied exactly once: each customer's feature counters equal its events.
func TestIntegrationKilledConsumerLosesNothing(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	const customers, perCustomer = 40, 15
	s.customers(t, customers)
	start := time.Now().UTC().Truncate(time.Second)
	var evs []events.Event
	for j := range perCustomer {
		for i := range customers {
			evs = append(evs, events.Event{ID: fmt.Sprintf("open-%d-%d", i, j), Tenant: s.tenant, Customer: fmt.Sprintf("C%04d", i),
				Channel: events.ChannelEmail, ContactPoint: fmt.Sprintf("c%d@example.com", i), OccurredAt: start.Add(time.Duration(j) * time.Second),
				Source: "test", Payload: events.EmailOpened{}})
		}
	}
	done := make(chan error, 1)
	go func() {
		// In slices, so the consumer is mid-stream when it is killed.
		for k := 0; k < len(evs); k += 50 {
			if err := s.pub.Put(ctx, evs[k:min(k+50, len(evs))]); err != nil {
				done <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		done <- nil
	}()
	killed := 0
	deadline := time.Now().Add(20 * time.Second)
	for killed < 2 && time.Now().Before(deadline) {
		for _, pid := range bootstraps(t) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no engagement instance was running to kill")
	}
	t.Logf("killed %d instances mid-stream", killed)
	wait := time.Now().Add(90 * time.Second)
	for i := range customers {
		for {
			st, err := s.eng.Load(ctx, s.tenant, fmt.Sprintf("C%04d", i))
			if err != nil {
				t.Fatal(err)
			}
			n := st.Features.Counts["email"][engagement.SignalOpened]
			if n > perCustomer {
				t.Fatalf("customer %d: %d opens applied, want %d: an event was applied twice", i, n, perCustomer)
			}
			if n == perCustomer && st.Features.Events == perCustomer {
				break
			}
			if time.Now().After(wait) {
				t.Fatalf("customer %d: %d of %d opens applied after 90 s: events lost", i, n, perCustomer)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
