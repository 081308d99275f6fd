package writeback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/erp/oracleebs"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/writeback"
	"github.com/recoup-dev/recoup/shared/writeback/writebacktest"
)

// TestIntegrationExactlyOnceUnderFaults is issue 7's "done when": 1,000
// actions of every kind go through the Oracle EBS adapter to the simulator
// while 20% of its calls fail (500s before and after commit, timeouts
// after commit, slow and malformed answers, expired tokens, unexpected
// errors), with one action in ten delivered twice at once. Statuses and
// audit records are in DynamoDB Local. Every action must end confirmed,
// applied exactly once in the ERP, and in the audit log exactly once.
func TestIntegrationExactlyOnceUnderFaults(t *testing.T) {
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := dynamo.EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	auditLog, err := dynamo.NewAudit(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	store, err := dynamo.NewWritebacks(client, auditLog, prefix)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sim := httptest.NewServer(ebssim.New(ebssim.Config{Log: quiet}))
	t.Cleanup(sim.Close)

	const tenant ledger.TenantID = "wbfaults"
	actions := portfolio(t, sim.URL, tenant)
	control(t, sim.URL, "/_sim/faults", map[string]any{"rate": 0.2, "seed": 7, "hang": "3s", "slow": "200ms",
		"kinds": []string{"error_500", "error_500_after_commit", "timeout_after_commit", "slow", "malformed", "token_expired", "unexpected_error"}})

	ebs, err := oracleebs.New(oracleebs.Config{BaseURL: sim.URL, User: "RECOUP_ISG", Password: "welcome1", Token: true,
		Resource: "100001", Timeout: time.Second,
		Context: oracleebs.Context{Responsibility: "RECEIVABLES_MANAGER", RespApplication: "AR", SecurityGroup: "STANDARD",
			NLSLanguage: "AMERICAN", OrgID: "204"}})
	if err != nil {
		t.Fatal(err)
	}
	// A lease of 5 s covers a delivery's calls at the client's 1 s timeout
	// and keeps copies that wait for it from slowing the test much.
	d, err := writeback.New(ebs, store, writeback.Options{Log: quiet, Lease: 5 * time.Second,
		Breaker: writeback.BreakerSettings{Consecutive: 8, Open: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}

	// A queue as SQS keeps it: a failed delivery comes back after a
	// backoff, up to maxReceives times; a tenth of the actions are queued
	// twice.
	run, err := writebacktest.Drive(ctx, d, actions, writebacktest.Options{Workers: 8, MaxReceives: 30, TwiceEvery: 10,
		Timeout: 4 * time.Minute, Progress: func(at time.Duration, o map[writeback.Outcome]int) {
			t.Logf("after %s: outcomes %v", at.Round(time.Second), o)
		}})
	if err != nil {
		t.Fatal(err)
	}
	outcomes, elapsed := run.Outcomes, run.Took

	// Every action confirmed.
	wrong := map[string]int{}
	for _, a := range actions {
		st, found, err := store.Get(ctx, tenant, a.Key)
		if err != nil || !found || st.State != erp.StateConfirmed {
			why := fmt.Sprintf("%s %s %v", a.Kind, st.State, err)
			if st.Error != nil {
				why += " " + st.Error.Code
			}
			if wrong[why]++; wrong[why] == 1 {
				t.Errorf("action %s (%s): found %v, state %s, error %+v, %v", a.Key, a.Kind, found, st.State, st.Error, err)
			}
		}
	}
	if len(wrong) > 0 {
		t.Errorf("actions not confirmed, by kind, state and error: %v", wrong)
	}
	// Applied exactly once in the ERP: keyed objects by their stamp, holds
	// by the profile's updates.
	var applied map[string]int
	get(t, sim.URL+"/_sim/applied", &applied)
	var state struct {
		Accounts []struct {
			Number         string `json:"number"`
			CreditHold     string `json:"credit_hold"`
			ProfileUpdates int    `json:"profile_updates"`
		} `json:"accounts"`
	}
	get(t, sim.URL+"/_sim/state", &state)
	held := map[string]bool{}
	for _, a := range actions {
		if a.Kind == erp.KindCreditHold {
			held[a.Target.Customer] = true
			continue
		}
		if n := applied[a.Key]; n != 1 {
			st, _, _ := store.Get(ctx, tenant, a.Key)
			t.Errorf("action %s (%s) applied %d times, want 1; %d attempts, version %d, last error %+v",
				a.Key, a.Kind, n, st.Attempts, st.Version, st.Error)
		}
	}
	for _, acc := range state.Accounts {
		want, updates := "N", 0
		if held[acc.Number] {
			want, updates = "Y", 1
		}
		if acc.CreditHold != want || acc.ProfileUpdates != updates {
			t.Errorf("account %s: hold %s after %d updates, want %s after %d", acc.Number, acc.CreditHold, acc.ProfileUpdates, want, updates)
		}
	}
	// In the audit log exactly once, and the chain verifies.
	seen := map[string]int{}
	head, err := auditLog.Head(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range auditLog.Records(ctx, tenant, 1, head.Seq) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != audit.KindWriteback || r.Decision != string(erp.StateConfirmed) {
			t.Errorf("audit seq %d: %s %s", r.Seq, r.Kind, r.Decision)
			continue
		}
		var a erp.Action
		if err := json.Unmarshal(r.Inputs, &a); err != nil {
			t.Fatalf("audit seq %d: %v", r.Seq, err)
		}
		seen[a.Key]++
	}
	for _, a := range actions {
		if seen[a.Key] != 1 {
			t.Errorf("action %s in the audit log %d times", a.Key, seen[a.Key])
		}
	}
	if problems, _, err := auditLog.Verify(ctx, tenant); err != nil || len(problems) > 0 {
		t.Errorf("audit verify: %v %v", problems, err)
	}
	// The faults happened.
	var stats struct {
		Faults map[string]int `json:"faults"`
	}
	get(t, sim.URL+"/_sim/stats", &stats)
	for _, k := range []string{"error_500", "error_500_after_commit", "timeout_after_commit", "malformed", "token_expired"} {
		if stats.Faults[k] == 0 {
			t.Errorf("no %s fault was injected: %v", k, stats.Faults)
		}
	}
	var slowest time.Duration
	for _, v := range run.Latency {
		slowest = max(slowest, v)
	}
	t.Logf("%d actions in %s (%.0f/s); outcomes %v; faults %v; slowest first delivery to confirmation %s",
		len(actions), elapsed.Round(time.Millisecond), float64(len(actions))/elapsed.Seconds(), outcomes, stats.Faults, slowest.Round(time.Millisecond))
}

// portfolio seeds the simulator with 250 accounts of 4 invoices each and
// returns 1,000 actions over them: 150 holds, 250 notes, 200 tasks, 150
// promises, 100 disputes, 150 dunning letters.
func portfolio(t *testing.T, base string, tenant ledger.TenantID) []erp.Action {
	t.Helper()
	type acct struct {
		Number       string   `json:"number"`
		Currency     string   `json:"currency"`
		Transactions []string `json:"transactions"`
	}
	var accts []acct
	for i := range 250 {
		a := acct{Number: fmt.Sprintf("C-%04d", i), Currency: "USD"}
		for j := range 4 {
			a.Transactions = append(a.Transactions, fmt.Sprintf("INV-%04d-%d", i, j))
		}
		accts = append(accts, a)
	}
	control(t, base, "/_sim/accounts", map[string]any{"accounts": accts})

	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var out []erp.Action
	add := func(kind erp.Kind, i int, target erp.Target, edit func(*erp.Action)) {
		a := erp.New(tenant, kind, fmt.Sprintf("test:%s-%d", kind, i), target, at)
		edit(&a)
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	for i := range 150 {
		add(erp.KindCreditHold, i, erp.Target{Customer: accts[i].Number}, func(a *erp.Action) { a.Text = "over 90 days past due" })
	}
	for i := range 250 {
		add(erp.KindNote, i, erp.Target{Customer: accts[i].Number}, func(a *erp.Action) { a.Text = fmt.Sprintf("Reminder %d sent by e-mail.", i) })
	}
	for i := range 200 {
		add(erp.KindTask, i, erp.Target{Customer: accts[i].Number}, func(a *erp.Action) {
			a.Subject, a.Text, a.Date = "Call back", "Customer asked for a call on Friday.", "2026-11-06"
		})
	}
	for i := range 150 {
		add(erp.KindPromise, i, erp.Target{Customer: accts[i].Number, Transaction: accts[i].Transactions[0]}, func(a *erp.Action) {
			a.Amount, a.Date, a.Text = &erp.Money{Minor: int64(10000 + i), Currency: "USD"}, "2026-11-13", "Promised by phone."
		})
	}
	for i := range 100 {
		add(erp.KindDispute, i, erp.Target{Customer: accts[i].Number, Transaction: accts[i].Transactions[1]}, func(a *erp.Action) {
			a.Amount, a.Text = &erp.Money{Minor: 4500, Currency: "USD"}, "Goods arrived damaged."
		})
	}
	for i := range 150 {
		add(erp.KindDunningLetter, i, erp.Target{Customer: accts[100+i].Number}, func(a *erp.Action) {
			a.Subject, a.Text = "Your account is overdue", "Please pay the balance of your account."
		})
	}
	return out
}

func control(t *testing.T, base, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s: %s", path, resp.Status, msg)
	}
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}
