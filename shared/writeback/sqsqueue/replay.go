package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/writeback"
)

// Statuses is the write-back ledger as a replay reads it
// (dynamo.Writebacks).
type Statuses interface {
	writeback.Store
	List(ctx context.Context, tenant ledger.TenantID, s erp.State) iter.Seq2[erp.Status, error]
}

// DLQAPI is the part of SQS a replay needs on the dead-letter queue.
type DLQAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Replayer re-drives a tenant's failed and dead-lettered actions after a
// fix (recoup writeback replay). The write-back ledger, not the
// dead-letter queue, says what to replay: every action that ended failed
// or dead-lettered has its status there, while the queue only holds the
// messages the redrive policy moved. Each is reopened (pending, the next
// version) and queued again; the messages of replayed actions are then
// deleted from the dead-letter queue so its depth alarm clears.
type Replayer struct {
	Statuses Statuses
	Queue    *Queue
	// DLQ and DLQURL are the write-back queue's dead-letter queue; without
	// them the ledger is replayed and the queue left alone.
	DLQ    DLQAPI
	DLQURL string
	Now    func() time.Time
	// StaleAfter is how long an action may stay pending before a replay of
	// pending actions queues it again (DefaultStaleAfter when zero): one
	// recorded as pending whose queueing then failed for good has no
	// message anywhere.
	StaleAfter time.Duration
}

// DefaultStaleAfter is Replayer.StaleAfter's default: beyond the longest a
// queued action waits before its queue dead-letters it (10 receives of a
// 360 s visibility, an hour, plus the consumer's backoffs), so a replay
// does not race the consumer.
const DefaultStaleAfter = 90 * time.Minute

// ReplayReport says what a replay did.
type ReplayReport struct {
	// Replayed are the actions reopened and queued again.
	Replayed []erp.Status
	// Removed counts the dead-letter messages deleted because their action
	// was replayed or had settled since; Kept those left (other keys, other
	// tenants, or not actions).
	Removed, Kept int
}

// Replay reopens and requeues the tenant's actions in the given states
// (failed, dead-lettered), only those in keys when keys is not empty. A
// pending action older than StaleAfter is queued again as it is.
func (r *Replayer) Replay(ctx context.Context, tenant ledger.TenantID, states []erp.State, keys []string) (ReplayReport, error) {
	var rep ReplayReport
	if r.Queue == nil || r.Statuses == nil {
		return rep, errors.New("sqsqueue: replay needs the write-back ledger and queue")
	}
	for _, s := range states {
		if s != erp.StateFailed && s != erp.StateDeadLettered && s != erp.StatePending {
			return rep, fmt.Errorf("sqsqueue: replay: %s actions are not replayed, only failed, dead-lettered and stale pending ones", s)
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	stale := r.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	var todo []erp.Status
	seen := map[erp.State]bool{}
	for _, s := range states {
		if seen[s] {
			continue
		}
		seen[s] = true
		for st, err := range r.Statuses.List(ctx, tenant, s) {
			if err != nil {
				return rep, err
			}
			if s == erp.StatePending && now().Sub(st.Updated) < stale {
				continue
			}
			if len(keys) == 0 || slices.Contains(keys, st.Action.Key) {
				todo = append(todo, st)
			}
		}
	}
	// One action that cannot be replayed (another replay reopened it
	// first, the queue refused it) does not stop the others.
	var errs []error
	for _, st := range todo {
		round := "#p" + strconv.Itoa(st.Version)
		if st.State != erp.StatePending {
			var err error
			if st, err = writeback.Reopen(ctx, r.Statuses, st, now()); err != nil {
				errs = append(errs, err)
				continue
			}
			round = "#r" + strconv.Itoa(st.Version)
		}
		// A new deduplication id: the first one may still be inside
		// SQS's five-minute window, and SQS would drop the copy silently.
		if err := r.Queue.send(ctx, []erp.Action{st.Action}, round); err != nil {
			errs = append(errs, fmt.Errorf("sqsqueue: replay %s: reopened but not queued (replay --state pending finds it once stale): %w", st.Action.Key, err))
			continue
		}
		rep.Replayed = append(rep.Replayed, st)
	}
	if r.DLQ != nil && r.DLQURL != "" {
		removed, kept, err := r.clean(ctx, tenant)
		rep.Removed, rep.Kept = removed, kept
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// clean deletes the tenant's dead-letter messages whose action is no
// longer failed or dead-lettered. It receives every message it can reach
// once, keeping those it leaves hidden until the scan ends — released one
// by one, a FIFO queue would hand the same ones back first and the scan
// would never see past them — and then makes them visible again. A message
// behind a kept one of its own group cannot be reached: FIFO order holds
// in the dead-letter queue too, as it does for SQS's own redrive.
func (r *Replayer) clean(ctx context.Context, tenant ledger.TenantID) (removed, kept int, err error) {
	var hold []*string
	defer func() {
		// Not ctx: the kept messages must become visible again even when
		// the scan was cut short.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, h := range hold {
			if _, rerr := r.DLQ.ChangeMessageVisibility(rctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(r.DLQURL),
				ReceiptHandle: h, VisibilityTimeout: 0}); rerr != nil && err == nil {
				err = fmt.Errorf("sqsqueue: release a kept dead letter: %w", rerr)
			}
		}
	}()
	for {
		// Hidden long enough for the scan: a queue of thousands of dead
		// letters is read in well under this.
		out, err := r.DLQ.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.DLQURL), MaxNumberOfMessages: 10,
			VisibilityTimeout: 300, WaitTimeSeconds: 1})
		if err != nil {
			return removed, kept, fmt.Errorf("sqsqueue: read the dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			return removed, kept, nil
		}
		var del []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			settled, err := r.settled(ctx, tenant, aws.ToString(m.Body))
			if err != nil {
				hold = append(hold, m.ReceiptHandle)
				return removed, kept, err
			}
			if settled {
				del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				continue
			}
			kept++
			hold = append(hold, m.ReceiptHandle)
		}
		if len(del) > 0 {
			res, err := r.DLQ.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.DLQURL), Entries: del})
			if err != nil {
				return removed, kept, fmt.Errorf("sqsqueue: delete replayed dead letters: %w", err)
			}
			removed += len(del) - len(res.Failed)
			if len(res.Failed) > 0 {
				return removed, kept, fmt.Errorf("sqsqueue: %d replayed dead letters not deleted: %s", len(res.Failed), aws.ToString(res.Failed[0].Message))
			}
		}
	}
}

// settled reports whether a dead letter is the tenant's action and its
// status has moved on (replayed, or settled by another copy).
func (r *Replayer) settled(ctx context.Context, tenant ledger.TenantID, body string) (bool, error) {
	a, err := decode(body)
	if err != nil || a.Tenant != tenant {
		return false, nil
	}
	st, found, err := r.Statuses.Get(ctx, a.Tenant, a.Key)
	if err != nil {
		return false, fmt.Errorf("sqsqueue: status of dead letter %s: %w", a.Key, err)
	}
	return found && st.State != erp.StateFailed && st.State != erp.StateDeadLettered, nil
}
