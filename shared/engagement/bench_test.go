package engagement_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

const (
	benchTenant    = ledger.TenantID("bench")
	benchCustomers = 20
	benchBatch     = 100 // the local and the CDK event source mapping's batch size
)

func benchCustomer(i int) string { return fmt.Sprintf("C%04d", i) }
func benchPhone(i int) string    { return fmt.Sprintf("+1617555%04d", i) }

// benchEvents is one Lambda batch as a busy day brings it: mostly e-mail
// and text deliveries and opens, some replies (a tenth are STOPs), call
// outcomes and payments, for 20 customers in interleaved order (one shard
// holds many partition keys).
func benchEvents() []events.Event {
	usd := money.MustCurrency("USD")
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	evs := make([]events.Event, 0, benchBatch)
	for i := range benchBatch {
		c := i % benchCustomers
		ev := events.Event{ID: fmt.Sprintf("bench-%03d", i), Tenant: benchTenant, Customer: benchCustomer(c),
			Debt: "INV-" + benchCustomer(c), OccurredAt: at.Add(time.Duration(i) * time.Second), Source: "bench"}
		email, phone := fmt.Sprintf("c%d@example.com", c), benchPhone(c)
		attempt := fmt.Sprintf("att-%03d", i)
		switch k := i % 20; {
		case k < 6:
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelEmail, email, events.EmailDelivered{AttemptID: attempt}
		case k < 11:
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelEmail, email, events.EmailOpened{AttemptID: attempt}
		case k < 12:
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelEmail, email,
				events.EmailClicked{Link: "https://pay.example.com/i/" + benchCustomer(c), AttemptID: attempt}
		case k < 14:
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelSMS, phone, events.SMSDelivered{AttemptID: attempt}
		case k < 16:
			text := "STOP"
			if k == 15 {
				text = "ok will pay friday"
			}
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelSMS, phone, events.SMSInbound{Text: text}
		case k < 19:
			ev.Channel, ev.ContactPoint, ev.Payload = events.ChannelVoice, phone,
				events.CallOutcome{Outcome: events.OutcomeVoicemail, DurationSeconds: 31, AttemptID: attempt}
		default:
			ev.Channel, ev.Payload = events.ChannelPayment, events.PaymentReceived{Amount: money.New(12345, usd),
				Invoices: []string{ev.Debt}, Reference: "pi_" + attempt}
		}
		evs = append(evs, ev)
	}
	return evs
}

// benchRecords encodes the batch as the Lambda runtime hands it over.
func benchRecords(tb testing.TB) lambdaevents.KinesisEvent {
	tb.Helper()
	var in lambdaevents.KinesisEvent
	for i, ev := range benchEvents() {
		data, err := events.Encode(ev)
		if err != nil {
			tb.Fatal(err)
		}
		s := fmt.Sprintf("4959%026d", i+1)
		in.Records = append(in.Records, lambdaevents.KinesisEventRecord{
			EventID: "shardId-000000000000:" + s, EventName: "aws:kinesis:record", EventSource: "aws:kinesis",
			EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/recoup-engagement",
			Kinesis: lambdaevents.KinesisRecord{Data: data, PartitionKey: ev.PartitionKey(), SequenceNumber: s,
				KinesisSchemaVersion: "1.0", ApproximateArrivalTimestamp: lambdaevents.SecondsEpochTime{Time: ev.OccurredAt}},
		})
	}
	return in
}

type benchRig struct {
	c       *engagement.Consumer
	store   *memStore
	consent *memConsent
	ledger  *memLedger
}

func newBenchRig() *benchRig {
	ids := make([]string, benchCustomers)
	for i := range ids {
		ids[i] = benchCustomer(i)
	}
	r := &benchRig{store: newMemStore(), consent: newMemConsent(), ledger: newMemLedger(benchTenant, ids...)}
	at := time.Date(2026, 4, 14, 16, 0, 0, 0, time.UTC)
	// The Lambda logs JSON to stderr; writing the same records to io.Discard
	// keeps the cost of formatting them in the figure.
	r.c = &engagement.Consumer{Store: r.store, Consent: r.consent, Ledger: r.ledger, DLQ: &letters{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return at }}
	r.reset()
	return r
}

// reset empties the stores and plans each customer a text, an AI-voice call
// and an e-mail, so STOPs and payments have actions to change.
func (r *benchRig) reset() {
	r.store.reset()
	clear(r.consent.entries)
	clear(r.ledger.records)
	at := time.Date(2026, 4, 15, 15, 0, 0, 0, time.UTC)
	for i := range benchCustomers {
		c := benchCustomer(i)
		tel, _ := consent.NormalisePhone(benchPhone(i))
		mail, _ := consent.NormaliseEmail(fmt.Sprintf("c%d@example.com", i))
		r.store.putActions(
			engagement.Action{Tenant: benchTenant, Customer: c, ID: c + "-sms", Channel: consent.SMS, To: tel, Invoices: []string{"INV-" + c}, At: at},
			engagement.Action{Tenant: benchTenant, Customer: c, ID: c + "-ai", Channel: consent.VoiceAI, To: tel, Invoices: []string{"INV-" + c}, At: at},
			engagement.Action{Tenant: benchTenant, Customer: c, ID: c + "-mail", Channel: consent.Email, To: mail, At: at},
		)
	}
}

// BenchmarkHandleBatch is the consumer's own cost per event: decode, hash,
// claim check, customer check, load, effects, consent and ledger writes,
// commit and logs, against in-memory stores. `make bench` runs it with
// -cpu 1 against the 50,000 events/s on one core.
func BenchmarkHandleBatch(b *testing.B) {
	in := benchRecords(b)
	r := newBenchRig()
	ctx := context.Background()
	// Check once that the batch does what it should, outside the timing.
	if resp, res := r.c.HandleBatch(ctx, in); len(resp.BatchItemFailures) > 0 || res.Applied != benchBatch {
		b.Fatalf("batch: %+v, %d failures; want %d applied", res, len(resp.BatchItemFailures), benchBatch)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r.reset()
		b.StartTimer()
		r.c.HandleBatch(ctx, in)
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkHandleBatchDuplicates is a re-delivered batch: every record's
// claim is found, so nothing is applied again.
func BenchmarkHandleBatchDuplicates(b *testing.B) {
	in := benchRecords(b)
	r := newBenchRig()
	ctx := context.Background()
	r.c.HandleBatch(ctx, in)
	b.ReportAllocs()
	for b.Loop() {
		if _, res := r.c.HandleBatch(ctx, in); res.Duplicates != benchBatch {
			b.Fatalf("re-delivery: %+v, want %d duplicates", res, benchBatch)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkHandleBatchBaselineDecode decodes the same records with
// events.DecodeKinesisRecord and nothing else: the floor any consumer of
// this contract pays, and the baseline `make bench` divides by.
func BenchmarkHandleBatchBaselineDecode(b *testing.B) {
	in := benchRecords(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, rec := range in.Records {
			if _, err := events.DecodeKinesisRecord(rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
}
