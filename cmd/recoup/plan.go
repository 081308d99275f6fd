package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
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
func runFirstPlan(ctx context.Context, w, progress io.Writer, store *dynamo.Ledger, tenant ledger.TenantID, at time.Time) error {
	customers, err := store.Customers(ctx, tenant)
	if err != nil {
		return err
	}
	contacts, err := store.ContactPoints(ctx, tenant)
	if err != nil {
		return err
	}
	invoices, err := store.Invoices(ctx, tenant)
	if err != nil {
		return err
	}
	disputes, err := store.Disputes(ctx, tenant)
	if err != nil {
		return err
	}
	plan := strategy.FirstContacts(tenant, ledger.FirstParty, at, strategy.Accounts(customers, contacts, invoices, disputes))

	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	client, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	cs, err := dynamo.NewConsent(client, prefix)
	if err != nil {
		return err
	}
	hist, err := dynamo.NewContacts(client, prefix, cs)
	if err != nil {
		return err
	}
	log, err := dynamo.NewAudit(client, prefix)
	if err != nil {
		return err
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		return err
	}
	gate, err := dispatch.New(engines, hist, cs, log)
	if err != nil {
		return err
	}

	// The consent states imported with the contact points go into the
	// consent ledger first, so the gate reads them like any other consent.
	for _, p := range plan {
		if err := recordImportedConsent(ctx, cs, p); err != nil {
			return err
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
		return firstErr
	}
	return printDecisions(w, plan, outs)
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
		at = p.Request.Attempt.At.Add(-24 * time.Hour)
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
	type key struct{ decision, rule string }
	count := map[key]int{}
	byChannel := map[string][3]int{}
	repeat := 0
	for i, o := range outs {
		if o.Duplicate {
			repeat++ // counted with the decision recorded the first time
		}
		rule := "-"
		if len(o.Result.Rules) > 0 {
			rule = o.Result.Rules[0]
		}
		count[key{string(o.Result.Decision), rule}]++
		c := byChannel[string(plan[i].Request.Attempt.Channel)]
		switch o.Result.Decision {
		case compliance.Allow:
			c[0]++
		case compliance.Block:
			c[1]++
		default:
			c[2]++
		}
		byChannel[string(plan[i].Request.Attempt.Channel)] = c
	}
	fmt.Fprintf(w, "\n   %d planned contacts (one per overdue invoice, on the customer's usual channel)\n", len(plan))
	if repeat > 0 {
		fmt.Fprintf(w, "   %d were decided by an earlier run (same attempt id): shown with that decision, not recorded again\n", repeat)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   channel\tallowed\tblocked\trouted to a person\t")
	chans := make([]string, 0, len(byChannel))
	for ch := range byChannel {
		chans = append(chans, ch)
	}
	sort.Strings(chans)
	for _, ch := range chans {
		c := byChannel[ch]
		fmt.Fprintf(tw, "   %s\t%d\t%d\t%d\t\n", ch, c[0], c[1], c[2])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	keys := make([]key, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].decision != keys[j].decision {
			return keys[i].decision < keys[j].decision
		}
		return count[keys[i]] > count[keys[j]]
	})
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   decision\tdeciding rule\tcontacts\t")
	for _, k := range keys {
		fmt.Fprintf(tw, "   %s\t%s\t%d\t\n", strings.ReplaceAll(k.decision, "_", " "), k.rule, count[k])
	}
	return tw.Flush()
}
