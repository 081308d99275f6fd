package engagement_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/engagement"
)

type unitRig struct {
	c       *engagement.Consumer
	store   *memStore
	consent *memConsent
	dlq     *letters
}

// newUnitRig is a consumer over in-memory stores that know customers A and B.
func newUnitRig(sink deadletter.Sink) unitRig {
	r := unitRig{store: newMemStore(), consent: newMemConsent(), dlq: &letters{}}
	if sink == nil {
		sink = r.dlq
	}
	at := time.Date(2026, 4, 14, 16, 0, 0, 0, time.UTC)
	r.c = &engagement.Consumer{Store: r.store, Consent: r.consent, Ledger: newMemLedger(benchTenant, "A", "B"), DLQ: sink,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return at }, MaxConflicts: 3}
	return r
}

// opened is an e-mail open of customer c, the n-th event of the test.
func opened(t *testing.T, c string, n int) lambdaevents.KinesisEventRecord {
	t.Helper()
	return eventRecord(t, events.Event{ID: fmt.Sprintf("open-%s-%d", c, n), Tenant: benchTenant, Customer: c,
		Channel: events.ChannelEmail, ContactPoint: "pat@example.com", OccurredAt: time.Date(2026, 4, 14, 15, 0, n, 0, time.UTC),
		Source: "test", Payload: events.EmailOpened{}})
}

func failed(resp lambdaevents.KinesisEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func seqs(recs ...lambdaevents.KinesisEventRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Kinesis.SequenceNumber)
	}
	return out
}

// A store failing for one customer holds back that customer's later
// records (their order must survive the retry) and no one else's.
func TestHandleBatchDefersOnlyTheFailingCustomer(t *testing.T) {
	r := newUnitRig(nil)
	r.store.fail["A"] = errors.New("throttled")
	a1, b1, a2, b2, a3 := opened(t, "A", 1), opened(t, "B", 2), opened(t, "A", 3), opened(t, "B", 4), opened(t, "A", 5)
	resp, res := r.c.HandleBatch(context.Background(), batch(a1, b1, a2, b2, a3))
	if diff := cmp.Diff(seqs(a1, a2, a3), failed(resp)); diff != "" {
		t.Errorf("records returned for retry (-want +got):\n%s", diff)
	}
	if want := (engagement.Result{Applied: 2, Failed: 1, Deferred: 2}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if n := r.store.features(benchTenant, "B").Events; n != 2 {
		t.Errorf("customer B: %d events applied, want 2", n)
	}
	if n := r.store.features(benchTenant, "A").Events; n != 0 {
		t.Errorf("customer A: %d events applied while its store failed, want 0", n)
	}

	// Lambda re-delivers from the first failure; once the store is back,
	// A's events apply in order and B's are recognised by their claims.
	delete(r.store.fail, "A")
	resp, res = r.c.HandleBatch(context.Background(), batch(a1, b1, a2, b2, a3))
	if len(resp.BatchItemFailures) > 0 || res != (engagement.Result{Applied: 3, Duplicates: 2}) {
		t.Errorf("re-delivery: %+v, failures %v; want 3 applied and 2 duplicates", res, failed(resp))
	}
	if f := r.store.features(benchTenant, "A"); f.Events != 3 || !f.LastEventAt.Equal(time.Date(2026, 4, 14, 15, 0, 5, 0, time.UTC)) {
		t.Errorf("customer A after re-delivery: %d events, last at %s; want 3, the last at 15:00:05", f.Events, f.LastEventAt)
	}
}

// A record that fails after the customer's earlier ones were applied
// defers only what follows it.
func TestHandleBatchDefersAfterAMidBatchFailure(t *testing.T) {
	r := newUnitRig(nil)
	a1, a2, b1, a3 := opened(t, "A", 1), opened(t, "A", 2), opened(t, "B", 3), opened(t, "A", 4)
	r.store.failEvent["open-A-2"] = errors.New("transaction aborted")
	resp, res := r.c.HandleBatch(context.Background(), batch(a1, a2, b1, a3))
	if diff := cmp.Diff(seqs(a2, a3), failed(resp)); diff != "" {
		t.Errorf("records returned for retry (-want +got):\n%s", diff)
	}
	if want := (engagement.Result{Applied: 2, Failed: 1, Deferred: 1}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if n := r.store.features(benchTenant, "A").Events; n != 1 {
		t.Errorf("customer A: %d events applied, want only the one before the failure", n)
	}
}

// Lost races are re-decided on a fresh read; past MaxConflicts the record
// fails (and is retried by Lambda) rather than being dropped.
func TestHandleBatchConflicts(t *testing.T) {
	r := newUnitRig(nil)
	a1, a2 := opened(t, "A", 1), opened(t, "A", 2)
	r.store.conflicts["A"] = 3 // MaxConflicts: the fourth try wins
	if resp, res := r.c.HandleBatch(context.Background(), batch(a1)); len(resp.BatchItemFailures) > 0 || res.Applied != 1 {
		t.Fatalf("after 3 lost races: %+v, failures %v; want applied", res, failed(resp))
	}
	r.store.conflicts["A"] = 4
	resp, res := r.c.HandleBatch(context.Background(), batch(a2))
	if diff := cmp.Diff(seqs(a2), failed(resp)); diff != "" || res.Failed != 1 {
		t.Errorf("after 4 lost races: %+v (-want +got failures):\n%s", res, diff)
	}
	if n := r.store.features(benchTenant, "A").Events; n != 1 {
		t.Errorf("customer A: %d events applied, want 1", n)
	}
}

// A poison record whose dead letter cannot be written is failed, never
// dropped: it stays on the stream until the queue takes it. Its
// customer's later records wait behind it; other customers' do not.
func TestHandleBatchDeadLetterFailureFailsTheRecord(t *testing.T) {
	sink := &failingSink{}
	r := newUnitRig(sink)
	a1, b1 := opened(t, "A", 1), opened(t, "B", 2)
	garbage := record(a1.Kinesis.PartitionKey, []byte(`{"schema_version":"1","type":"email.opened"`))
	stranger := eventRecord(t, events.Event{ID: "stop-Z", Tenant: benchTenant, Customer: "Z", Channel: events.ChannelSMS,
		ContactPoint: "+16175550100", OccurredAt: time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC), Source: "test",
		Payload: events.SMSInbound{Text: "STOP"}})
	resp, res := r.c.HandleBatch(context.Background(), batch(garbage, a1, stranger, b1))
	if diff := cmp.Diff(seqs(garbage, a1, stranger), failed(resp)); diff != "" {
		t.Errorf("records returned for retry (-want +got):\n%s", diff)
	}
	if want := (engagement.Result{Applied: 1, Failed: 2, Deferred: 1}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if sink.calls != 2 {
		t.Errorf("%d dead-letter attempts, want 2 (the malformed record and the unknown customer's)", sink.calls)
	}
	// The unknown customer's STOP is still recorded on the number at once,
	// but its claim is not written, so the retry sends the letter.
	if !r.consent.revoked(benchTenant, "stop-Z") {
		t.Error("the unknown customer's STOP was not recorded on the address")
	}
	if _, ok, _ := r.store.Claimed(context.Background(), benchTenant, "stop-Z"); ok {
		t.Error("the unknown customer's event was claimed although its dead letter was not written")
	}

	// With the queue back, the re-delivery letters both and applies A's.
	r.c.DLQ = r.dlq
	resp, res = r.c.HandleBatch(context.Background(), batch(garbage, a1, stranger, b1))
	if len(resp.BatchItemFailures) > 0 || res != (engagement.Result{Applied: 1, Duplicates: 1, DeadLettered: 2}) {
		t.Errorf("re-delivery: %+v, failures %v", res, failed(resp))
	}
	if got, want := r.dlq.kinds(), []string{deadletter.KindInvalid, deadletter.KindUnknownCustomer}; !slices.Equal(got, want) {
		t.Errorf("dead letters %v, want %v", got, want)
	}
}

// Without a dead-letter queue a poison record fails too.
func TestHandleBatchNoDeadLetterQueueFailsTheRecord(t *testing.T) {
	r := newUnitRig(nil)
	r.c.DLQ = nil
	garbage := record("A", []byte("not json"))
	resp, res := r.c.HandleBatch(context.Background(), batch(garbage))
	if diff := cmp.Diff(seqs(garbage), failed(resp)); diff != "" || res.Failed != 1 {
		t.Errorf("%+v (-want +got failures):\n%s", res, diff)
	}
}

// Customers are applied side by side, each customer's events in stream
// order, whatever the concurrency.
func TestHandleBatchKeepsEachCustomersOrder(t *testing.T) {
	const customers, perCustomer = 40, 5
	var ids []string
	for i := range customers {
		ids = append(ids, fmt.Sprintf("K%02d", i))
	}
	for _, conc := range []int{1, 3, 64} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			r := newUnitRig(nil)
			r.c.Ledger = newMemLedger(benchTenant, ids...)
			r.c.Concurrency = conc
			var recs []lambdaevents.KinesisEventRecord
			want := map[string][]string{}
			for n := range perCustomer {
				for _, c := range ids {
					recs = append(recs, opened(t, c, n))
					want[c] = append(want[c], fmt.Sprintf("open-%s-%d", c, n))
				}
			}
			resp, res := r.c.HandleBatch(context.Background(), batch(recs...))
			if len(resp.BatchItemFailures) > 0 || res.Applied != customers*perCustomer {
				t.Fatalf("%+v, failures %v; want all %d applied", res, failed(resp), customers*perCustomer)
			}
			got := map[string][]string{}
			for _, id := range r.store.order {
				c := id[len("open-") : len("open-")+3]
				got[c] = append(got[c], id)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("commit order per customer (-want +got):\n%s", diff)
			}
		})
	}
}

// An event id used twice in one batch is applied once: an identical copy
// is a duplicate, a copy with other content is refused, whether or not the
// two share a partition key (and so run concurrently).
func TestHandleBatchReusedIDInOneBatch(t *testing.T) {
	stop := func(customer, text string) lambdaevents.KinesisEventRecord {
		return eventRecord(t, events.Event{ID: "reused", Tenant: benchTenant, Customer: customer, Channel: events.ChannelSMS,
			ContactPoint: "+16175550142", OccurredAt: time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC), Source: "test",
			Payload: events.SMSInbound{Text: text}})
	}
	for _, tc := range []struct {
		name       string
		first, dup lambdaevents.KinesisEventRecord
		want       engagement.Result
		letters    []string
	}{
		{"identical, same key", stop("A", "STOP"), stop("A", "STOP"), engagement.Result{Applied: 1, Duplicates: 1}, nil},
		{"other content, same key", stop("A", "STOP"), stop("A", "thanks"), engagement.Result{Applied: 1, DeadLettered: 1},
			[]string{deadletter.KindRejected}},
		{"other content, other key", stop("A", "thanks"), stop("B", "hello"), engagement.Result{Applied: 1, DeadLettered: 1},
			[]string{deadletter.KindRejected}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newUnitRig(nil)
			resp, res := r.c.HandleBatch(context.Background(), batch(tc.first, tc.dup))
			if len(resp.BatchItemFailures) > 0 || res != tc.want {
				t.Errorf("%+v, failures %v; want %+v", res, failed(resp), tc.want)
			}
			if diff := cmp.Diff(tc.letters, r.dlq.kinds()); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if r.store.commits != 1 {
				t.Errorf("%d commits, want 1", r.store.commits)
			}
		})
	}
}

// The deployment's opt-out alarm counts opt_outs on each applied event's
// log line (infra/cdk observability.go): a STOP counts, an open does not.
func TestAppliedLogCountsOptOuts(t *testing.T) {
	r := newUnitRig(nil)
	var logged bytes.Buffer
	r.c.Log = slog.New(slog.NewJSONHandler(&logged, nil))
	stop := eventRecord(t, events.Event{ID: "stop-A", Tenant: benchTenant, Customer: "A", Channel: events.ChannelSMS,
		ContactPoint: "+16175550142", OccurredAt: time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC), Source: "test",
		Payload: events.SMSInbound{Text: "STOP"}})
	resp, _ := r.c.HandleBatch(context.Background(), lambdaevents.KinesisEvent{Records: []lambdaevents.KinesisEventRecord{opened(t, "B", 1), stop}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failed(resp))
	}
	got := map[string]float64{}
	for _, line := range bytes.Split(bytes.TrimSpace(logged.Bytes()), []byte("\n")) {
		var l struct {
			Msg     string   `json:"msg"`
			Event   string   `json:"event"`
			OptOuts *float64 `json:"opt_outs"`
		}
		if json.Unmarshal(line, &l) == nil && l.Msg == "engagement event applied" && l.OptOuts != nil {
			got[l.Event] = *l.OptOuts
		}
	}
	if diff := cmp.Diff(map[string]float64{"open-B-1": 0, "stop-A": 1}, got); diff != "" {
		t.Errorf("opt_outs per applied event (-want +got):\n%s\n%s", diff, logged.String())
	}
}
