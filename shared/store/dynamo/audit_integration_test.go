package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// integrationAudit returns an audit store over fresh tables in the local
// stack's DynamoDB Local (skipping without one, failing under CI), and the
// client for poking at items directly.
func integrationAudit(t testing.TB) (*Audit, *dynamodb.Client, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	a, err := NewAudit(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return a, client, prefix
}

var auditT0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// decisionRecord is the i-th record of a test chain.
func decisionRecord(i int) audit.Record {
	r := audit.Record{At: auditT0.Add(time.Duration(i) * time.Hour), Kind: audit.KindDecision,
		Account: fmt.Sprintf("C%d", i%3), Debt: fmt.Sprintf("INV-%d", i), Decision: "block",
		Rules: []string{"regf-7in7", "fdcpa-hours"}, PolicyVersion: "2026.11.1", Reason: "7 calls in 7 days",
		Inputs: json.RawMessage(fmt.Sprintf(`{"attempt": {"channel": "voice", "i": %d}, "history": [1.50, 2e3]}`, i))}
	switch i % 4 {
	case 1:
		r.Kind, r.Decision, r.Rules, r.Inputs = audit.KindSend, "sent", nil, nil
		r.Content = json.RawMessage(`{"channel":"email","subject":"Invoice <b>due</b> & more","body":"Grüße"}`)
	case 3:
		r.Kind, r.Account, r.Debt, r.Decision, r.Rules, r.Inputs = audit.KindImport, "", "", "", nil, nil
	}
	return r
}

func appendN(t testing.TB, a *Audit, tenant ledger.TenantID, n int) []audit.Record {
	t.Helper()
	var out []audit.Record
	for i := range n {
		r, err := a.Append(context.Background(), tenant, decisionRecord(i))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out
}

var ignoreDetail = cmpopts.IgnoreFields(audit.Problem{}, "Detail")

func TestIntegrationAuditAppendRangeHeadRoundTrip(t *testing.T) {
	a, _, _ := integrationAudit(t)
	ctx := context.Background()

	h, err := a.Head(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.GenesisHead("acme"), h); diff != "" {
		t.Errorf("head of an empty chain (-want +got):\n%s", diff)
	}

	recs := appendN(t, a, "acme", 8)
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Hash != r.ComputeHash() {
			t.Errorf("append %d returned seq %d hash %s", i, r.Seq, r.Hash)
		}
	}
	if recs[0].PrevHash != audit.Genesis("acme") {
		t.Errorf("seq 1 prev_hash %s, want the genesis hash", recs[0].PrevHash)
	}

	h, err = a.Head(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.HeadOf(recs[7]), h); diff != "" {
		t.Errorf("head (-want +got):\n%s", diff)
	}

	tests := []struct {
		from, to uint64
		want     []audit.Record
	}{
		{1, 8, recs},
		{0, 100, recs},
		{3, 5, recs[2:5]},
		{8, 8, recs[7:]},
		{9, 20, nil},
		{5, 4, nil},
	}
	for _, tt := range tests {
		got, err := a.Range(ctx, "acme", tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Range(%d, %d) (-want +got):\n%s", tt.from, tt.to, diff)
		}
	}

	if ps, _, err := a.Verify(ctx, "acme"); err != nil || len(ps) != 0 {
		t.Errorf("Verify of an untouched chain = %v, %v", ps, err)
	}

	// A fresh store (another Lambda) appends after the same head.
	b, _ := NewAudit(a.api, strings.TrimSuffix(a.table, AuditTable))
	r, err := b.Append(ctx, "acme", decisionRecord(8))
	if err != nil || r.Seq != 9 || r.PrevHash != recs[7].Hash {
		t.Errorf("append from a second store = seq %d prev %s, %v", r.Seq, r.PrevHash, err)
	}
	// The first store's remembered head is stale now; it still appends right.
	r, err = a.Append(ctx, "acme", decisionRecord(9))
	if err != nil || r.Seq != 10 {
		t.Errorf("append after a stale head = seq %d, %v", r.Seq, err)
	}
	if ps, _, err := a.Verify(ctx, "acme"); err != nil || len(ps) != 0 {
		t.Errorf("Verify after appends from two stores = %v, %v", ps, err)
	}
}

func TestIntegrationAuditAppendValidates(t *testing.T) {
	a, _, _ := integrationAudit(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		tenant ledger.TenantID
		r      audit.Record
	}{
		{"a bad tenant", "a#b", decisionRecord(0)},
		{"another tenant's record", "acme", func() audit.Record { r := decisionRecord(0); r.Tenant = "other"; return r }()},
		{"no kind", "acme", audit.Record{At: auditT0}},
		{"inputs that are not JSON", "acme", audit.Record{At: auditT0, Kind: audit.KindDecision, Inputs: json.RawMessage("{")}},
	}
	for _, tt := range tests {
		if _, err := a.Append(ctx, tt.tenant, tt.r); err == nil {
			t.Errorf("%s: appended", tt.name)
		}
	}
	if h, _ := a.Head(ctx, "acme"); h.Seq != 0 {
		t.Errorf("a refused append moved the head to %d", h.Seq)
	}
	// A zero time is stamped with Now.
	a.Now = func() time.Time { return time.Date(2027, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)) }
	r, err := a.Append(ctx, "acme", audit.Record{Kind: audit.KindImport})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 2, 2, 4, 5, 6, time.UTC); !r.At.Equal(want) || r.At.Location() != time.UTC {
		t.Errorf("stamped At = %s, want %s", r.At, want)
	}
}

func TestIntegrationAuditConcurrentAppendsNeverFork(t *testing.T) {
	a, _, prefix := integrationAudit(t)
	ctx := context.Background()
	const writers, each = 50, 4
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got []audit.Record
	)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One store per writer, as in separate Lambda invocations.
			s, err := NewAudit(a.api, prefix)
			if err != nil {
				t.Error(err)
				return
			}
			<-start
			for i := range each {
				r := decisionRecord(w*each + i)
				r.Reason = fmt.Sprintf("writer %d record %d", w, i)
				rec, err := s.Append(ctx, "acme", r)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				got = append(got, rec)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()

	const n = writers * each
	if len(got) != n {
		t.Fatalf("%d appends succeeded, want %d", len(got), n)
	}
	seqs := make([]uint64, 0, n)
	for _, r := range got {
		seqs = append(seqs, r.Seq)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("sequence numbers handed out are not 1..%d: position %d has %d", n, i, s)
		}
	}
	h, err := a.Head(ctx, "acme")
	if err != nil || h.Seq != n {
		t.Fatalf("head = %+v, %v; want seq %d", h, err, n)
	}
	stored, err := a.Range(ctx, "acme", 1, n)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y audit.Record) int { return int(x.Seq) - int(y.Seq) })
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("stored chain differs from what Append returned (-returned +stored):\n%s", diff)
	}
	if ps, _, err := a.Verify(ctx, "acme"); err != nil || len(ps) != 0 {
		t.Errorf("Verify after %d concurrent appends = %v, %v", n, ps, err)
	}
}

func TestIntegrationAuditVerifyWhileAppending(t *testing.T) {
	a, _, prefix := integrationAudit(t)
	ctx := context.Background()
	appendN(t, a, "acme", 5)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, _ := NewAudit(a.api, prefix)
		for i := range 150 {
			if _, err := w.Append(ctx, "acme", decisionRecord(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for runs := 0; ; runs++ {
		select {
		case <-done:
			if runs == 0 {
				t.Log("the appends finished before a verification ran")
			}
			if ps, h, err := a.Verify(ctx, "acme"); err != nil || len(ps) != 0 || h.Seq != 155 {
				t.Errorf("Verify after the appends = %v, head %d, %v", ps, h.Seq, err)
			}
			return
		default:
		}
		if ps, _, err := a.Verify(ctx, "acme"); err != nil || len(ps) != 0 {
			t.Fatalf("Verify during appends = %v, %v", ps, err)
		}
	}
}

func TestIntegrationAuditTamperingIsCaught(t *testing.T) {
	a, client, _ := integrationAudit(t)
	ctx := context.Background()
	const n = 10
	key := func(tenant ledger.TenantID, seq uint64) map[string]types.AttributeValue {
		return auditEntryKey(tenant, seq)
	}
	tests := []struct {
		name   string
		tenant ledger.TenantID
		tamper func(t *testing.T, recs []audit.Record)
		want   []audit.Problem
	}{
		{"a decision edited in place", "edit", func(t *testing.T, _ []audit.Record) {
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.table), Key: key("edit", 6),
				UpdateExpression:          aws.String("SET decision = :d"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "allow"}}})
			if err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemEdited, Seq: 6, To: 6, Index: 5}}},
		{"inputs re-indented (no change in meaning)", "indent", func(t *testing.T, recs []audit.Record) {
			pretty := strings.ReplaceAll(string(recs[4].Inputs), ",", ",\n  ")
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.table), Key: key("indent", 5),
				UpdateExpression:          aws.String("SET inputs = :i"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":i": &types.AttributeValueMemberS{Value: pretty}}})
			if err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"a number in the inputs rewritten", "number", func(t *testing.T, recs []audit.Record) {
			edited := strings.Replace(string(recs[4].Inputs), "1.50", "1.5", 1)
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.table), Key: key("number", 5),
				UpdateExpression:          aws.String("SET inputs = :i"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":i": &types.AttributeValueMemberS{Value: edited}}})
			if err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemEdited, Seq: 5, To: 5, Index: 4}}},
		{"a middle entry deleted", "delete", func(t *testing.T, _ []audit.Record) {
			if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(a.table), Key: key("delete", 3)}); err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemMissing, Seq: 3, To: 3, Index: -1}}},
		{"the last entry deleted", "tail", func(t *testing.T, _ []audit.Record) {
			if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(a.table), Key: key("tail", n)}); err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemTruncated, Seq: n, To: n, Index: -1}}},
		{"two entries swapped", "swap", func(t *testing.T, recs []audit.Record) {
			for _, pair := range [][2]int{{3, 4}, {4, 3}} {
				item, err := attributevalue.MarshalMap(toAuditItem(recs[pair[0]]))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range key("swap", uint64(pair[1]+1)) {
					item[k] = v
				}
				if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a.table), Item: item}); err != nil {
					t.Fatal(err)
				}
			}
		}, []audit.Problem{{Kind: audit.ProblemOutOfOrder, Seq: 4, To: 4, Index: 4}}},
		{"an entry written past the head", "forged", func(t *testing.T, recs []audit.Record) {
			forged := audit.HeadOf(recs[n-1]).Next(decisionRecord(99))
			item, err := attributevalue.MarshalMap(toAuditItem(forged))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a.table), Item: item}); err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemBeyondHead, Seq: n + 1, To: n + 1, Index: -1}}},
		{"an entry that no longer decodes", "garbled", func(t *testing.T, _ []audit.Record) {
			_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.table), Key: key("garbled", 2),
				UpdateExpression:          aws.String("SET seq = :s"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "two"}}})
			if err != nil {
				t.Fatal(err)
			}
		}, []audit.Problem{{Kind: audit.ProblemUnreadable, Seq: 2, To: 2, Index: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := appendN(t, a, tt.tenant, n)
			tt.tamper(t, recs)
			ps, head, err := a.Verify(ctx, tt.tenant)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ps, ignoreDetail, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, p := range ps {
				if !strings.Contains(p.Detail, fmt.Sprintf("seq %d", p.Seq)) && !strings.Contains(p.Detail, fmt.Sprintf("seqs %d", p.Seq)) &&
					!strings.Contains(p.Detail, fmt.Sprintf("from seq %d", p.Seq)) {
					t.Errorf("problem %q does not name seq %d", p.Detail, p.Seq)
				}
			}
			if head.Seq != n {
				t.Errorf("verified against head %d, want %d", head.Seq, n)
			}
		})
	}
}

func TestIntegrationAuditHeadDeletedStopsAppends(t *testing.T) {
	a, client, _ := integrationAudit(t)
	ctx := context.Background()
	appendN(t, a, "acme", 3)
	if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(a.table), Key: auditHeadKey("acme")}); err != nil {
		t.Fatal(err)
	}
	fresh, _ := NewAudit(a.api, strings.TrimSuffix(a.table, AuditTable))
	_, err := fresh.Append(ctx, "acme", decisionRecord(3))
	if !errors.Is(err, ErrAuditInconsistent) {
		t.Errorf("append after the head was deleted: %v, want ErrAuditInconsistent", err)
	}
	ps, _, err := a.Verify(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Problem{{Kind: audit.ProblemBeyondHead, Seq: 1, To: 3, Index: -1}}
	if diff := cmp.Diff(want, ps, ignoreDetail); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestIntegrationAuditTenantsHaveIndependentChains(t *testing.T) {
	a, _, _ := integrationAudit(t)
	ctx := context.Background()
	var acme, beta []audit.Record
	for i := range 6 { // interleaved
		r, err := a.Append(ctx, "acme", decisionRecord(i))
		if err != nil {
			t.Fatal(err)
		}
		acme = append(acme, r)
		if i%2 == 0 {
			if r, err = a.Append(ctx, "beta", decisionRecord(i)); err != nil {
				t.Fatal(err)
			}
			beta = append(beta, r)
		}
	}
	for _, tc := range []struct {
		tenant ledger.TenantID
		want   []audit.Record
	}{{"acme", acme}, {"beta", beta}} {
		got, err := a.Range(ctx, tc.tenant, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("chain of %s (-want +got):\n%s", tc.tenant, diff)
		}
		if got[0].PrevHash != audit.Genesis(tc.tenant) {
			t.Errorf("%s starts from %s, not its own genesis", tc.tenant, got[0].PrevHash)
		}
		if ps, _, err := a.Verify(ctx, tc.tenant); err != nil || len(ps) != 0 {
			t.Errorf("Verify %s = %v, %v", tc.tenant, ps, err)
		}
	}
	// Same content, same seq, different tenants: different hashes.
	if acme[0].Hash == beta[0].Hash {
		t.Error("two tenants' first records share a hash")
	}
	// One tenant's record is foreign in the other's chain.
	if ps := audit.Verify("acme", beta, audit.Options{}); len(ps) == 0 || ps[0].Kind != audit.ProblemForeignTenant {
		t.Errorf("beta's chain verified as acme's: %v", ps)
	}
}

func TestIntegrationAuditRangeAcrossBlocks(t *testing.T) {
	a, client, _ := integrationAudit(t)
	ctx := context.Background()
	// Start the chain just before a block boundary instead of writing 1000
	// entries: a head at seq 997 whose entries are not there.
	anchor := audit.Head{Tenant: "acme", Seq: AuditBlock - 3, Hash: strings.Repeat("ab", 32)}
	head := map[string]types.AttributeValue{
		"tenant": &types.AttributeValueMemberS{Value: "acme"},
		"seq":    &types.AttributeValueMemberN{Value: fmt.Sprint(anchor.Seq)},
		"hash":   &types.AttributeValueMemberS{Value: anchor.Hash},
	}
	for k, v := range auditHeadKey("acme") {
		head[k] = v
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a.table), Item: head}); err != nil {
		t.Fatal(err)
	}
	recs := appendN(t, a, "acme", 6) // 998..1003
	if recs[0].Seq != AuditBlock-2 || recs[5].Seq != AuditBlock+3 {
		t.Fatalf("appended seqs %d..%d", recs[0].Seq, recs[5].Seq)
	}
	got, err := a.Range(ctx, "acme", AuditBlock-3, AuditBlock+10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("range across the block boundary (-want +got):\n%s", diff)
	}
	h := audit.HeadOf(recs[5])
	if ps := audit.Verify("acme", got, audit.Options{After: &anchor, Head: &h}); len(ps) != 0 {
		t.Errorf("Verify after the anchor = %v", ps)
	}
	// From the start, the entries before the anchor are reported missing.
	ps, _, err := a.Verify(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Problem{{Kind: audit.ProblemMissing, Seq: 1, To: AuditBlock - 3, Index: -1}}
	if diff := cmp.Diff(want, ps, ignoreDetail); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestIntegrationAuditQuery checks the export query both ways: walking the
// chain (the table as Schema defines it today) and reading the account index
// GSI1, on a table created here with that index.
func TestIntegrationAuditQuery(t *testing.T) {
	walk, client, _ := integrationAudit(t)
	ctx := context.Background()

	spec := TableSpec{Name: AuditTable, Indexes: []IndexSpec{{GSI1, "GSI1PK", "GSI1SK"}}}
	prefix := fmt.Sprintf("itgsi%d-", time.Now().UnixNano())
	if _, err := client.CreateTable(ctx, spec.CreateTableInput(prefix)); err != nil {
		t.Fatal(err)
	}
	if err := waitActive(ctx, client, prefix+AuditTable); err != nil {
		t.Fatal(err)
	}
	indexed, _ := NewAudit(client, prefix)
	indexed.accountIndex = true

	const n = 24 // one hour apart: C0, C1, C2 in turn, every 4th an import with no account
	var all []audit.Record
	for _, s := range []*Audit{walk, indexed} {
		all = appendN(t, s, "acme", n)
		if _, err := s.Append(ctx, "beta", decisionRecord(0)); err != nil { // same account id, other tenant
			t.Fatal(err)
		}
	}
	pick := func(keep func(audit.Record) bool) []audit.Record {
		var out []audit.Record
		for _, r := range all {
			if keep(r) {
				out = append(out, r)
			}
		}
		return out
	}
	at := func(h int) time.Time { return auditT0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name     string
		account  string
		from, to time.Time
		want     []audit.Record
	}{
		{"everything", "", time.Time{}, time.Time{}, all},
		{"one account", "C1", time.Time{}, time.Time{}, pick(func(r audit.Record) bool { return r.Account == "C1" })},
		{"one account, a window", "C0", at(3), at(12), pick(func(r audit.Record) bool {
			return r.Account == "C0" && !r.At.Before(at(3)) && r.At.Before(at(12))
		})},
		{"the window's end is exclusive", "C0", at(6), at(9), pick(func(r audit.Record) bool { return r.Seq == 7 })},
		{"all accounts, a window", "", at(20), time.Time{}, all[20:]},
		{"an unknown account", "C9", time.Time{}, time.Time{}, nil},
	}
	for _, tt := range tests {
		for _, s := range []*Audit{walk, indexed} {
			var got []audit.Record
			for r, err := range s.Query(ctx, "acme", tt.account, tt.from, tt.to) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s (index %v) (-want +got):\n%s", tt.name, s.accountIndex, diff)
			}
		}
	}
}

// TestAuditAppendGivesUpUnderContention runs without DynamoDB: a fake whose
// head always moves.
func TestAuditAppendGivesUpUnderContention(t *testing.T) {
	f := &fakeAuditAPI{cancel: "ConditionalCheckFailed"}
	a, _ := NewAudit(f, "x-")
	a.MaxAttempts = 3
	_, err := a.Append(context.Background(), "acme", decisionRecord(0))
	if !errors.Is(err, ErrAuditContention) || f.writes != 3 {
		t.Fatalf("after %d writes: %v, want ErrAuditContention after 3", f.writes, err)
	}
	if strings.Contains(err.Error(), "INV-") || strings.Contains(err.Error(), "C0") {
		t.Errorf("error %q carries record content", err)
	}
}

// TestAuditAppendChecksAnUnknownOutcome: when the write errs after DynamoDB
// may have committed it, Append looks for the entry instead of failing or
// writing it twice.
func TestAuditAppendChecksAnUnknownOutcome(t *testing.T) {
	for _, landed := range []bool{true, false} {
		f := &fakeAuditAPI{fail: errors.New("connection reset"), landed: landed}
		a, _ := NewAudit(f, "x-")
		r, err := a.Append(context.Background(), "acme", decisionRecord(0))
		if landed && (err != nil || r.Seq != 1) {
			t.Errorf("the write landed: Append = seq %d, %v", r.Seq, err)
		}
		if !landed && err == nil {
			t.Error("the write did not land, but Append succeeded")
		}
		if f.writes != 1 {
			t.Errorf("landed %v: %d writes, want 1", landed, f.writes)
		}
	}
}

type fakeAuditAPI struct {
	cancel string // cancellation code for the head update, every time
	fail   error  // error for every write
	landed bool   // whether a failed write is nevertheless stored
	writes int
	last   *dynamodb.TransactWriteItemsInput
}

func (f *fakeAuditAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if sk := in.Key["SK"].(*types.AttributeValueMemberS).Value; sk != "HEAD" && f.landed && f.last != nil {
		return &dynamodb.GetItemOutput{Item: f.last.TransactItems[1].Put.Item}, nil
	}
	return &dynamodb.GetItemOutput{}, nil
}

func (f *fakeAuditAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeAuditAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.writes++
	f.last = in
	if f.cancel != "" {
		return nil, &types.TransactionCanceledException{Message: aws.String("cancelled"),
			CancellationReasons: []types.CancellationReason{{Code: aws.String(f.cancel)}, {Code: aws.String("None")}}}
	}
	if f.fail != nil {
		return nil, f.fail
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// BenchmarkIntegrationAuditAppend measures appends per second against the
// local DynamoDB: one writer, remembering the head or (fresh-store) reading
// it before every append; many writers on one tenant (every append contends
// for one head); many writers on their own tenants (no contention).
func BenchmarkIntegrationAuditAppend(b *testing.B) {
	a, _, prefix := integrationAudit(b)
	ctx := context.Background()
	run := func(b *testing.B, writers int, tenant func(w int) ledger.TenantID, fresh bool) {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _ := NewAudit(a.api, prefix)
				for next.Add(1) <= int64(b.N) {
					if fresh { // a new process per append: no remembered head
						s, _ = NewAudit(a.api, prefix)
					}
					if _, err := s.Append(ctx, tenant(w), decisionRecord(w)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	}
	id := time.Now().UnixNano()
	b.Run("one-writer", func(b *testing.B) {
		run(b, 1, func(int) ledger.TenantID { return ledger.TenantID(fmt.Sprintf("solo%d-%d", id, b.N)) }, false)
	})
	b.Run("one-writer-fresh-store", func(b *testing.B) {
		run(b, 1, func(int) ledger.TenantID { return ledger.TenantID(fmt.Sprintf("fresh%d-%d", id, b.N)) }, true)
	})
	b.Run("16-writers-one-tenant", func(b *testing.B) {
		run(b, 16, func(int) ledger.TenantID { return ledger.TenantID(fmt.Sprintf("shared%d-%d", id, b.N)) }, false)
	})
	b.Run("16-writers-16-tenants", func(b *testing.B) {
		run(b, 16, func(w int) ledger.TenantID { return ledger.TenantID(fmt.Sprintf("own%d-%d-%d", id, b.N, w)) }, false)
	})
}
