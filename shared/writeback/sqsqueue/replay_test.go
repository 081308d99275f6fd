package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/sqslocal/sqslocaltest"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// memStatuses is the write-back ledger in memory, keeping the store's
// version contract.
type memStatuses struct {
	mu sync.Mutex
	m  map[string]erp.Status
}

func (s *memStatuses) Get(_ context.Context, t ledger.TenantID, key string) (erp.Status, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[string(t)+"#"+key]
	return st, ok, nil
}

func (s *memStatuses) Put(_ context.Context, st erp.Status, _ *audit.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(st.Action.Tenant) + "#" + st.Action.Key
	if cur, ok := s.m[k]; ok && cur.Version != st.Version-1 || !ok && st.Version != 1 {
		return writeback.ErrConflict
	}
	s.m[k] = st
	return nil
}

func (s *memStatuses) List(_ context.Context, t ledger.TenantID, state erp.State) iter.Seq2[erp.Status, error] {
	s.mu.Lock()
	var out []erp.Status
	for _, st := range s.m {
		if st.Action.Tenant == t && st.State == state {
			out = append(out, st)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Action.Key < out[j].Action.Key })
	return func(yield func(erp.Status, error) bool) {
		for _, st := range out {
			if !yield(st, nil) {
				return
			}
		}
	}
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	note := func(tenant ledger.TenantID, cause string) erp.Action {
		a := erp.New(tenant, erp.KindNote, cause, erp.Target{Customer: "C-1"}, at)
		a.Text = "called"
		return a
	}
	dead, failed, done, other, untouched := note("acme", "event:1"), note("acme", "event:2"), note("acme", "event:3"), note("globex", "event:4"), note("acme", "event:5")
	stale, fresh := note("acme", "event:6"), note("acme", "event:7")
	tests := []struct {
		name        string
		states      []erp.State // default failed and dead-lettered
		keys        []string
		wantQueued  []string // keys, sorted
		wantRemoved int
		wantKept    int
	}{
		// The DLQ holds dead, done, other, untouched's twin and junk;
		// dead is replayed and done settled: both go; the rest stays.
		{name: "every failed and dead-lettered action", wantQueued: sortedKeys(dead, failed, untouched), wantRemoved: 3, wantKept: 14},
		{name: "one key", keys: []string{dead.Key}, wantQueued: []string{dead.Key}, wantRemoved: 2, wantKept: 15},
		{name: "a state named twice is replayed once", states: []erp.State{erp.StateFailed, erp.StateFailed}, wantQueued: []string{failed.Key}, wantRemoved: 1, wantKept: 16},
		// A pending action whose message was lost is queued again once
		// stale; a recent one is left to the consumer.
		{name: "stale pending", states: []erp.State{erp.StatePending}, wantQueued: []string{stale.Key}, wantRemoved: 1, wantKept: 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := sqslocaltest.Client(t)
			mk := func(name string) string {
				out, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"FifoQueue": "true"}})
				if err != nil {
					t.Fatal(err)
				}
				return aws.ToString(out.QueueUrl)
			}
			mainURL, dlqURL := mk("wb.fifo"), mk("wb-dlq.fifo")
			queue, err := NewQueue(api, mainURL)
			if err != nil {
				t.Fatal(err)
			}
			// dead was queued moments ago and consumed: a replay with the
			// same deduplication id would be dropped by SQS.
			if err := queue.Send(ctx, []erp.Action{dead}); err != nil {
				t.Fatal(err)
			}
			drain(t, api, mainURL)
			dlq, err := NewQueue(api, dlqURL)
			if err != nil {
				t.Fatal(err)
			}
			// More than a receive's worth of another tenant's dead letters
			// first: the scan must get past them.
			var foreign []erp.Action
			for i := range 12 {
				a := note("globex", fmt.Sprintf("event:f%d", i))
				a.Target.Customer = fmt.Sprintf("G-%d", i)
				a.Key = erp.KeyOf(a.Tenant, a.Kind, a.Cause, a.Target)
				foreign = append(foreign, a)
			}
			if err := dlq.Send(ctx, foreign); err != nil {
				t.Fatal(err)
			}
			if err := dlq.Send(ctx, []erp.Action{dead, done, other, untouched}); err != nil {
				t.Fatal(err)
			}
			if _, err := api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String("junk"),
				MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("junk")}); err != nil {
				t.Fatal(err)
			}
			s := &memStatuses{m: map[string]erp.Status{}}
			for a, state := range map[*erp.Action]erp.State{&dead: erp.StateDeadLettered, &failed: erp.StateFailed,
				&done: erp.StateConfirmed, &other: erp.StateDeadLettered, &untouched: erp.StateDeadLettered,
				&stale: erp.StatePending, &fresh: erp.StatePending} {
				s.m[string(a.Tenant)+"#"+a.Key] = erp.Status{Action: *a, State: state, Version: 3, Attempts: 1, Updated: at}
			}
			s.m["acme#"+fresh.Key] = erp.Status{Action: fresh, State: erp.StatePending, Version: 1, Updated: at.Add(55 * time.Minute)}
			states := tc.states
			if states == nil {
				states = []erp.State{erp.StateDeadLettered, erp.StateFailed}
			}
			r := &Replayer{Statuses: s, Queue: queue, DLQ: api, DLQURL: dlqURL, Now: func() time.Time { return at.Add(time.Hour) },
				StaleAfter: 30 * time.Minute}
			rep, err := r.Replay(ctx, "acme", states, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			var replayed []string
			for _, st := range rep.Replayed {
				replayed = append(replayed, st.Action.Key)
				want := 4 // reopened
				if st.Action.Key == stale.Key {
					want = 3 // queued as it was
				}
				if got, _, _ := s.Get(ctx, st.Action.Tenant, st.Action.Key); got.State != erp.StatePending || got.Version != want {
					t.Errorf("%s after replay: %s v%d, want pending v%d", st.Action.Key, got.State, got.Version, want)
				}
			}
			sort.Strings(replayed)
			if d := cmp.Diff(tc.wantQueued, replayed); d != "" {
				t.Errorf("replayed (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantQueued, drain(t, api, mainURL)); d != "" {
				t.Errorf("queued again (-want +got):\n%s", d)
			}
			if rep.Removed != tc.wantRemoved || rep.Kept != tc.wantKept {
				t.Errorf("dead-letter queue: removed %d kept %d, want %d and %d", rep.Removed, rep.Kept, tc.wantRemoved, tc.wantKept)
			}
			if left := len(drain(t, api, dlqURL)); left != tc.wantKept {
				t.Errorf("%d messages left on the dead-letter queue, want %d", left, tc.wantKept)
			}
			if _, err := r.Replay(ctx, "acme", []erp.State{erp.StateConfirmed}, nil); err == nil {
				t.Error("a replay of confirmed actions was accepted")
			}
		})
	}
}

func sortedKeys(as ...erp.Action) []string {
	var k []string
	for _, a := range as {
		k = append(k, a.Key)
	}
	sort.Strings(k)
	return k
}

// drain receives and deletes every message, returning the action keys
// (or the raw body of a message that is no action), sorted.
func drain(t *testing.T, api *sqs.Client, url string) []string {
	t.Helper()
	var got []string
	for {
		out, err := api.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var a erp.Action
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &a) == nil && a.Key != "" {
				got = append(got, a.Key)
			} else {
				got = append(got, aws.ToString(m.Body))
			}
			if _, err := api.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(got)
	return got
}
