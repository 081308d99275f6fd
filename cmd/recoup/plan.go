package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// runFirstPlan plans one contact per overdue invoice on the customer's
// usual channel and sends each plan through the dispatch gate (which
// records it and its decision), then prints what the gate decided by rule.
func runFirstPlan(ctx context.Context, w, progress io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, at time.Time) ([]strategy.Planned, []dispatch.Outcome, error) {
	customers, err := store.Customers(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	contacts, err := store.ContactPoints(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	invoices, err := store.Invoices(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	disputes, err := store.Disputes(ctx, tenant)
	if err != nil {
		return nil, nil, err
	}
	plan := strategy.FirstContacts(tenant, ledger.FirstParty, at, strategy.Accounts(customers, contacts, invoices, disputes))

	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	client, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	cs, err := dynamo.NewConsent(client, prefix)
	if err != nil {
		return nil, nil, err
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		return nil, nil, err
	}
	gate, err := dynamo.NewGate(client, prefix, engines)
	if err != nil {
		return nil, nil, err
	}
	// The demo plays the plan on its as-of date: the gate's clock is set
	// there, since it refuses attempts dated away from its own time.
	gate.Now = func() time.Time { return at }

	// The consent states imported with the contact points go into the
	// consent ledger first, so the gate reads them like any other consent.
	for _, p := range plan {
		if err := recordImportedConsent(ctx, cs, p); err != nil {
			return nil, nil, err
		}
	}

	bar := newProgressBar(progress, "dispatch")
	bar.unit = "contacts"
	outs := make([]dispatch.Outcome, len(plan))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		done     int
		firstErr error
		next     = make(chan int)
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o, err := gate.Dispatch(ctx, plan[i].Request)
				mu.Lock()
				outs[i] = o
				if err != nil && firstErr == nil {
					firstErr = err
				}
				done++
				bar.update(done, len(plan))
				mu.Unlock()
			}
		}()
	}
	for i := range plan {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return plan, outs, printDecisions(w, plan, outs)
}

// recordImportedConsent writes a contact point's imported consent state
// as a consent-ledger event on the planned channel (idempotent by id).
func recordImportedConsent(ctx context.Context, cs *dynamo.Consent, p strategy.Planned) error {
	cp := p.Contact
	if cp.Consent != ledger.ConsentGranted && cp.Consent != ledger.ConsentRevoked || p.Request.Attempt.To == "" {
		return nil
	}
	var addr consent.Address
	var err error
	if cp.Email != nil {
		addr, err = consent.NormaliseEmail(cp.Email.Address)
	} else {
		addr, err = consent.NormalisePhone(p.Request.Attempt.To)
	}
	if err != nil {
		return fmt.Errorf("contact point %s: %w", cp.ID, err)
	}
	ch := map[compliance.Channel]consent.Channel{compliance.ChannelEmail: consent.Email, compliance.ChannelSMS: consent.SMS,
		compliance.ChannelCall: consent.Voice}[p.Request.Attempt.Channel]
	at := cp.ConsentAt
	if at.IsZero() {
		// No time given: a grant of unknown date proves nothing (it stays
		// unknown, which blocks automated channels); a revocation is in
		// force, dated just before the plan so nothing earlier lifts it.
		if cp.Consent == ledger.ConsentGranted {
			return nil
		}
		at = p.Request.Attempt.At.Add(-time.Second)
	}
	id := "import-" + cp.ID + "-" + string(cp.Consent)
	var ev consent.Event = consent.Grant{ID: id, Tenant: cp.Tenant, Address: addr, Channel: ch, Source: consent.SourceImport, At: at}
	if cp.Consent == ledger.ConsentRevoked {
		ev = consent.Revoke{ID: id, Tenant: cp.Tenant, Address: addr, Channels: []consent.Channel{ch}, Via: consent.ViaAgent, At: at}
	}
	if _, err := cs.Record(ctx, cp.Tenant, cp.Customer, ev); err != nil {
		return fmt.Errorf("record imported consent of contact point %s: %w", cp.ID, err)
	}
	return nil
}

func printDecisions(w io.Writer, plan []strategy.Planned, outs []dispatch.Outcome) error {
	// Each contact counts once per channel, and under every rule that fired
	// on it: a blocked call can break several rules at once.
	type tally struct{ allowed, blocked, routed, earlier int }
	add := func(t *tally, d compliance.Decision) {
		switch d {
		case compliance.Allow:
			t.allowed++
		case compliance.Block:
			t.blocked++
		case compliance.RouteToHuman:
			t.routed++
		default:
			t.earlier++ // decided by an earlier run, outside the history window
		}
	}
	byChannel, byRule := map[string]*tally{}, map[string]*tally{}
	var total tally
	repeat := 0
	for i, o := range outs {
		if o.Duplicate {
			repeat++ // counted with the decision recorded the first time
		}
		d := o.Result.Decision
		add(&total, d)
		ch := string(plan[i].Request.Attempt.Channel)
		if byChannel[ch] == nil {
			byChannel[ch] = &tally{}
		}
		add(byChannel[ch], d)
		for _, r := range o.Result.Rules {
			if byRule[r] == nil {
				byRule[r] = &tally{}
			}
			add(byRule[r], d)
		}
	}
	fmt.Fprintf(w, "\n   %d planned contacts (one per overdue invoice, on the customer's usual channel): %d allowed, %d blocked, %d routed to a person\n",
		len(plan), total.allowed, total.blocked, total.routed)
	if repeat > 0 {
		fmt.Fprintf(w, "   %d were decided by an earlier run (same attempt id): shown with that decision, not recorded again\n", repeat)
	}
	table := func(title string, rows map[string]*tally, order func(a, b string) bool) error {
		names := make([]string, 0, len(rows))
		for n := range rows {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return order(names[i], names[j]) })
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "   %s\tallowed\tblocked\trouted to a person\t\n", title)
		for _, n := range names {
			t := rows[n]
			fmt.Fprintf(tw, "   %s\t%d\t%d\t%d\t\n", n, t.allowed, t.blocked, t.routed)
		}
		return tw.Flush()
	}
	fmt.Fprintln(w)
	if err := table("by channel", byChannel, func(a, b string) bool { return a < b }); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return table("by rule that fired", byRule, func(a, b string) bool {
		ta, tb := byRule[a], byRule[b]
		if x, y := ta.blocked+ta.routed, tb.blocked+tb.routed; x != y {
			return x > y
		}
		return a < b
	})
}
