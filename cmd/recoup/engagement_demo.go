package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	sqsq "github.com/recoup-dev/recoup/shared/stream/sqs"
)

// waitClaimed waits until every event id is claimed (applied or refused)
// by the consumer.
func waitClaimed(ctx context.Context, eng *dynamo.Engagement, tenant ledger.TenantID, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	pending := slices.Clone(ids)
	for {
		idx := make([]int, len(pending))
		for i := range idx {
			idx[i] = i
		}
		claimed, err := parallel(ctx, idx, func(ctx context.Context, i int) (bool, error) {
			_, ok, err := eng.Claimed(ctx, tenant, pending[i])
			return ok, err
		})
		if err != nil {
			return err
		}
		done := map[int]bool{}
		for _, i := range claimed {
			done[i] = true
		}
		var left []string
		for i, id := range pending {
			if !done[i] {
				left = append(left, id)
			}
		}
		if pending = left; len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d events not applied after %s", len(pending), len(ids), limit)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
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

// printDeadLetters lists the dead letters SQS took after sentAfter (the
// wall clock) that were written from since to until on the stack's clock.
func printDeadLetters(ctx context.Context, w io.Writer, cfg aws.Config, sentAfter, since, until time.Time) error {
	api := awssqs.NewFromConfig(cfg)
	out, err := api.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(local.EngagementDLQ)})
	if err != nil {
		return fmt.Errorf("dead-letter queue %s: %w", local.EngagementDLQ, err)
	}
	// Received letters stay on the queue (they come back after the
	// visibility timeout); those of earlier runs are counted, not shown.
	var mine []sqsq.Received
	older := 0
	for range 100 {
		got, err := sqsq.Receive(ctx, api, aws.ToString(out.QueueUrl), 10, time.Second)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			break
		}
		for _, m := range got {
			if m.SentAt.Before(sentAfter) || m.Letter.At.Before(since) || !m.Letter.At.Before(until) {
				older++
				continue
			}
			mine = append(mine, m)
		}
	}
	fmt.Fprintf(w, "   dead-letter queue %s: %d letters from day 1 (they stay on the queue", local.EngagementDLQ, len(mine))
	if older > 0 {
		fmt.Fprintf(w, ", beside %d others", older)
	}
	fmt.Fprintln(w, "):")
	for _, m := range mine {
		fmt.Fprintf(w, "     %-16s %s\n", m.Letter.Kind, m.Letter.Reason)
	}
	return nil
}
