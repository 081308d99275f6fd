package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// gateThroughput measures the dispatch gate against DynamoDB Local: 8
// dispatchers all on one debt (every commit races for one person's history)
// against 8 dispatchers on 8 people.
func gateThroughput(ctx context.Context) ([]row, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	client := awsconfig.DynamoDB(cfg)
	prefix := fmt.Sprintf("benchgate%d-", time.Now().Unix())
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		return nil, err
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		return nil, err
	}
	gate, err := dynamo.NewGate(client, prefix, engines)
	if err != nil {
		return nil, err
	}
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	gate.Now = func() time.Time { return at }
	const workers, perWorker = 8, 40
	run := func(tenant string, sameDebt bool) (float64, int, error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		conflicts := 0
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWorker {
					cust := fmt.Sprintf("C%d", w)
					if sameDebt {
						cust = "C0"
					}
					o, err := gate.Dispatch(ctx, dispatch.Request{Tenant: ledger.TenantID(tenant), AttemptID: fmt.Sprintf("w%d-%d", w, i),
						Collector: ledger.FirstParty, Customer: cust,
						Consumer: compliance.Consumer{ID: cust, State: "OH", ZIP: "43215",
							Emails: []compliance.EmailAddress{{Address: "pat@example.com"}}},
						Debts: []compliance.Debt{{ID: "A"}},
						Attempt: compliance.Attempt{At: at.Add(time.Duration(i) * time.Second), Channel: compliance.ChannelEmail, Debt: "A",
							To: "pat@example.com", Purpose: compliance.PurposeCollection,
							Disclosures: []compliance.Disclosure{compliance.DisclosureOptOut}}})
					mu.Lock()
					conflicts += o.Conflicts
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return float64(workers*perWorker) / time.Since(start).Seconds(), conflicts, firstErr
	}
	spread, _, err := run("spread", false)
	if err != nil {
		return nil, err
	}
	hot, conflicts, err := run("hot", true)
	if err != nil {
		return nil, err
	}
	return []row{
		{what: "dispatch gate, 8 dispatchers on 8 people (dispatches/s)", value: fmt.Sprintf("%.0f", spread),
			note: "DynamoDB Local: history read, 2 consent reads, decision, 1 transaction, audit append"},
		{what: "dispatch gate, 8 dispatchers on one debt (dispatches/s)", value: fmt.Sprintf("%.0f", hot),
			baseline: fmt.Sprintf("%.0f (8 people)", spread), ratio: fmt.Sprintf("%.2f", hot/spread),
			note: fmt.Sprintf("%d lost races re-decided for %d dispatches", conflicts, workers*perWorker)},
	}, nil
}
