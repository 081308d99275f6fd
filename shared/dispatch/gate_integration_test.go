package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

type stack struct {
	gate    *dispatch.Gate
	consent *dynamo.Consent
	history *dynamo.Contacts
	audit   *dynamo.Audit
}

// newStack builds the real gate over fresh tables in DynamoDB Local.
func newStack(t *testing.T) stack {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	cs, err := dynamo.NewConsent(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := dynamo.NewContacts(client, prefix, cs)
	if err != nil {
		t.Fatal(err)
	}
	log, err := dynamo.NewAudit(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := dispatch.New(engines, hist, cs, log)
	if err != nil {
		t.Fatal(err)
	}
	return stack{g, cs, hist, log}
}

const maMobile = "+16175550142"

func maRequest(id string, at time.Time) dispatch.Request {
	return dispatch.Request{
		Tenant: "acme", AttemptID: id, Collector: ledger.FirstParty, Customer: "C4",
		Consumer: compliance.Consumer{ID: "C4", State: "MA", ZIP: "02108",
			Phones: []compliance.Phone{{Number: maMobile, Line: ledger.LineMobile}}},
		Debts: []compliance.Debt{{ID: "A"}},
		Attempt: compliance.Attempt{At: at, Channel: compliance.ChannelSMS, Debt: "A", To: maMobile,
			Purpose: compliance.PurposeCollection, Disclosures: []compliance.Disclosure{compliance.DisclosureOptOut}},
		Content: []byte(`{"text":"Your invoice A is overdue. Reply STOP to opt out."}`),
	}
}

func grantSMS(t *testing.T, s stack, at time.Time) {
	t.Helper()
	addr, err := consent.NormalisePhone(maMobile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.consent.Record(context.Background(), "acme", "C4",
		consent.Grant{ID: "g1", Tenant: "acme", Address: addr, Channel: consent.SMS, Source: consent.SourceDirect, At: at})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationConcurrentDispatchPassesExactlyTheCap fires 50 dispatches
// at once for one Massachusetts debt: 940 CMR 7.04(1)(f) allows 2 texts in 7
// days, so exactly 2 may pass, whatever the interleaving; every attempt is
// recorded, the blocked ones with the rule that stopped them.
func TestIntegrationConcurrentDispatchPassesExactlyTheCap(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC) // 11:00 in Boston
	s.gate.Now = func() time.Time { return at }
	grantSMS(t, s, at.Add(-24*time.Hour))

	const n = 50
	outs := make([]dispatch.Outcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = s.gate.Dispatch(ctx, maRequest(fmt.Sprintf("sms-%02d", i), at.Add(time.Duration(i)*time.Second)))
		}()
	}
	wg.Wait()
	count := map[string]int{}
	conflicts := 0
	for i, o := range outs {
		if errs[i] != nil {
			t.Fatalf("dispatch %d: %v", i, errs[i])
		}
		key := string(o.Result.Decision)
		if o.Result.Decision == compliance.Block {
			key += " " + o.Result.Rules[0]
		}
		count[key]++
		conflicts += o.Conflicts
	}
	if diff := cmp.Diff(map[string]int{"allow": 2, "block STATE-MA-FREQ": n - 2}, count); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	t.Logf("%d dispatches, %d lost races retried", n, conflicts)

	snap, err := s.history.Load(ctx, "acme", "C4", at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Attempts) != n || snap.Version != n {
		t.Errorf("history holds %d attempts at version %d, want %d and %d", len(snap.Attempts), snap.Version, n, n)
	}
	problems, head, err := s.audit.Verify(ctx, "acme")
	if err != nil || len(problems) != 0 || head.Seq != n {
		t.Errorf("audit chain: head %d, problems %v, err %v; want %d entries that verify", head.Seq, problems, err, n)
	}
}

// TestIntegrationThirdPartyCallsOneAtATime: a call whose outcome is not yet
// known may have been a conversation, which blocks further calls about the
// debt for 7 days (1006.14(b)(2)(i)(B)); so of 50 concurrent calls exactly
// one is placed.
func TestIntegrationThirdPartyCallsOneAtATime(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	s.gate.Now = func() time.Time { return at }
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := dispatch.Request{Tenant: "collector", AttemptID: fmt.Sprintf("call-%02d", i), Collector: ledger.ThirdParty,
				Customer: "C1", Consumer: compliance.Consumer{ID: "C1", State: "OH", ZIP: "43215",
					Phones: []compliance.Phone{{Number: "+16145550101", Line: ledger.LineLandline}}},
				Debts: []compliance.Debt{{ID: "A"}},
				Attempt: compliance.Attempt{At: at, Channel: compliance.ChannelCall, Debt: "A", To: "+16145550101",
					Purpose: compliance.PurposeCollection, Disclosures: []compliance.Disclosure{compliance.DisclosureMiniMiranda}}}
			o, err := s.gate.Dispatch(ctx, req)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if o.Allowed() {
				allowed++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if allowed != 1 {
		t.Errorf("%d of %d concurrent calls allowed, want exactly 1", allowed, n)
	}
}

func TestIntegrationRevocationStopsTheNextDispatch(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	s.gate.Now = func() time.Time { return at }
	grantSMS(t, s, at.Add(-24*time.Hour))
	req := maRequest("first", at)
	req.Step = "reminder"
	first, err := s.gate.Dispatch(ctx, req)
	if err != nil || !first.Allowed() {
		t.Fatalf("first text: %+v, %v", first.Result, err)
	}
	// The attempt keeps the plan's step, for the next plan to read.
	if snap, err := s.history.Load(ctx, "acme", "C4", at.Add(-time.Hour)); err != nil || len(snap.Attempts) != 1 || snap.Attempts[0].Step != "reminder" {
		t.Errorf("history after the first text: %+v, %v; want one attempt of step reminder", snap.Attempts, err)
	}
	again, err := s.gate.Dispatch(ctx, maRequest("first", at))
	if err != nil || !again.Duplicate || again.Allowed() || again.Result.Decision != compliance.Allow {
		t.Errorf("the same attempt id again: %+v, %v; want a duplicate carrying the recorded allow, not sent again", again, err)
	}
	addr, _ := consent.NormalisePhone(maMobile)
	if _, err := s.consent.Record(ctx, "acme", "C4", consent.Revoke{ID: "stop-1", Tenant: "acme", Address: addr,
		Via: consent.ViaSMSReply, At: at.Add(time.Minute), Text: "STOP"}); err != nil {
		t.Fatal(err)
	}
	next, err := s.gate.Dispatch(ctx, maRequest("second", at.Add(2*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if next.Result.Decision != compliance.Block || next.Result.Rules[0] != "TCPA-REVOCATION" {
		t.Errorf("text after STOP: %+v, want blocked by TCPA-REVOCATION", next.Result)
	}
}

// failOnce is the real audit store with a fault injected: the first append
// fails, as a throttled or dropped call would.
type failOnce struct {
	*dynamo.Audit
	failed bool
}

func (f *failOnce) Append(ctx context.Context, tenant ledger.TenantID, r audit.Record) (audit.Record, error) {
	if !f.failed {
		f.failed = true
		return audit.Record{}, errors.New("injected: audit append failed")
	}
	return f.Audit.Append(ctx, tenant, r)
}

// TestIntegrationAuditGapIsRepairedOnRetry: when the audit append fails
// after the decision is recorded, dispatching the same attempt again
// appends the missing entry, once.
func TestIntegrationAuditGapIsRepairedOnRetry(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := dispatch.New(engines, s.history, s.consent, &failOnce{Audit: s.audit})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC)
	g.Now = func() time.Time { return at }
	grantSMS(t, s, at.Add(-24*time.Hour))
	if _, err := g.Dispatch(ctx, maRequest("gap", at)); err == nil || !strings.Contains(err.Error(), "audit entry not") {
		t.Fatalf("first dispatch error = %v, want the audit failure", err)
	}
	for range 2 {
		o, err := g.Dispatch(ctx, maRequest("gap", at))
		if err != nil || !o.Duplicate || o.AuditSeq != 1 || o.Result.Decision != compliance.Allow {
			t.Fatalf("retry: %+v, %v; want the recorded allow with audit entry 1", o, err)
		}
	}
	if head, err := s.audit.Head(ctx, "acme"); err != nil || head.Seq != 1 {
		t.Errorf("audit head %d, %v; want exactly one entry", head.Seq, err)
	}
}
