package engagement_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// erpQueue stands in for the write-back's Submitter: it validates and
// keeps what is queued, once per key.
type erpQueue struct {
	mu   sync.Mutex
	got  map[string]erp.Action
	subs int
	err  error
}

func (q *erpQueue) Submit(_ context.Context, acts []erp.Action) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.subs++
	if q.err != nil {
		return 0, q.err
	}
	for _, a := range acts {
		if err := a.Validate(); err != nil {
			return 0, err
		}
		q.got[a.Key] = a
	}
	return len(acts), nil
}

func TestEventsWriteToTheERP(t *testing.T) {
	at := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	usd := money.MustCurrency("USD")
	ev := func(id string, ch events.Channel, p events.Payload) lambdaevents.KinesisEventRecord {
		e := events.Event{ID: id, Tenant: benchTenant, Customer: "A", Channel: ch, OccurredAt: at, Source: "test", Payload: p}
		if ch == events.ChannelEmail {
			e.ContactPoint = "pat@example.com"
		}
		return eventRecord(t, e)
	}
	type want struct {
		kind                    erp.Kind
		transaction, date, text string
		amount                  int64
	}
	tests := []struct {
		name string
		rec  lambdaevents.KinesisEventRecord
		want []want
	}{
		{"a promise on one invoice is the ERP's promise", ev("p1", events.ChannelVoice, events.PromiseMade{Amount: money.New(120000, usd),
			PromisedDate: ledger.Date(2026, 11, 13), Invoices: []string{"INV-1"}}),
			[]want{{kind: erp.KindPromise, transaction: "INV-1", date: "2026-11-13", amount: 120000, text: "by voice"}}},
		{"a promise on the balance is a note", ev("p2", events.ChannelEmail, events.PromiseMade{Amount: money.New(5000, usd),
			PromisedDate: ledger.Date(2026, 11, 13)}),
			[]want{{kind: erp.KindNote, text: "covering the open balance"}}},
		{"a written dispute is a task to verify it", ev("d1", events.ChannelLetter, events.DisputeRaised{Invoice: "INV-2", Written: true, Reason: "goods returned"}),
			[]want{{kind: erp.KindTask, date: "2026-11-08", text: "1692g(b)"}}},
		{"hardship is a task to review", ev("h1", events.ChannelVoice, events.HardshipStated{}),
			[]want{{kind: erp.KindTask, date: "2026-11-05", text: "cannot pay"}}},
		{"a cease request is a note", ev("c1", events.ChannelLetter, events.CeaseRequested{Written: true}),
			[]want{{kind: erp.KindNote, text: "1006.6(c)"}}},
		{"an open writes nothing", ev("o1", events.ChannelEmail, events.EmailOpened{}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newUnitRig(nil)
			q := &erpQueue{got: map[string]erp.Action{}}
			r.c.ERP = q
			for range 2 { // the second delivery is a duplicate and queues nothing new
				if resp, _ := r.c.HandleBatch(context.Background(), batch(tc.rec)); len(resp.BatchItemFailures) > 0 {
					t.Fatalf("failed: %v (dead letters %v)", failed(resp), r.dlq)
				}
			}
			if want := min(1, len(tc.want)); q.subs != want {
				t.Errorf("%d submissions for two deliveries, want %d", q.subs, want)
			}
			var got []want
			for _, a := range q.got {
				w := want{kind: a.Kind, transaction: a.Target.Transaction, date: a.Date}
				if a.Amount != nil {
					w.amount = a.Amount.Minor
				}
				for _, x := range tc.want {
					if strings.Contains(a.Text, x.text) {
						w.text = x.text
					}
				}
				got = append(got, w)
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); d != "" {
				t.Errorf("ERP actions (-want +got):\n%s", d)
			}
		})
	}
}

// An ERP queue that fails fails the record, so Lambda retries it; nothing
// is committed before the actions are queued.
func TestEventWaitsForTheERPQueue(t *testing.T) {
	r := newUnitRig(nil)
	q := &erpQueue{got: map[string]erp.Action{}, err: errors.New("throttled")}
	r.c.ERP = q
	rec := eventRecord(t, events.Event{ID: "c9", Tenant: benchTenant, Customer: "A", Channel: events.ChannelLetter,
		OccurredAt: time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC), Source: "test", Payload: events.CeaseRequested{Written: true}})
	resp, _ := r.c.HandleBatch(context.Background(), batch(rec))
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("record not failed while the ERP queue fails: %+v", resp)
	}
	q.err = nil
	resp, res := r.c.HandleBatch(context.Background(), batch(rec))
	if len(resp.BatchItemFailures) > 0 || res.Applied != 1 || len(q.got) != 1 {
		t.Fatalf("retry: %+v %+v, %d queued; want applied and one action", resp, res, len(q.got))
	}
}

// An ERP action the write-back refuses does not refuse the event: it is
// applied, and the refusal is kept in the dead-letter queue.
func TestInvalidERPActionIsKeptAndTheEventApplied(t *testing.T) {
	r := newUnitRig(nil)
	q := &erpQueue{got: map[string]erp.Action{}, err: fmt.Errorf("%w: text: too long", erp.ErrInvalid)}
	r.c.ERP = q
	rec := eventRecord(t, events.Event{ID: "h7", Tenant: benchTenant, Customer: "A", Channel: events.ChannelVoice,
		OccurredAt: time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC), Source: "test", Payload: events.HardshipStated{}})
	resp, res := r.c.HandleBatch(context.Background(), batch(rec))
	if len(resp.BatchItemFailures) > 0 || res.Applied != 1 {
		t.Fatalf("%+v %+v; want the event applied", resp, res)
	}
	r.dlq.mu.Lock()
	defer r.dlq.mu.Unlock()
	if len(r.dlq.ls) != 1 || r.dlq.ls[0].Field != "erp" || !strings.Contains(r.dlq.ls[0].Reason, "too long") {
		t.Fatalf("dead letters %+v; want the ERP refusal kept with its reason", r.dlq.ls)
	}
}
