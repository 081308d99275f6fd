package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/sender/ledgertest"
	"github.com/recoup-dev/recoup/shared/sender/sms"
)

// integrationSends returns a send ledger over fresh tables in DynamoDB Local
// (skipping without one, failing under CI).
func integrationSends(t *testing.T) (*Sends, *Consent, GateAPI, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	if _, err := EnsureTables(context.Background(), client, prefix); err != nil {
		t.Fatal(err)
	}
	s, err := NewSends(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewConsent(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s, cs, client, prefix
}

// TestIntegrationSendsContract runs the send ledger contract that the
// in-memory ledger also passes.
func TestIntegrationSendsContract(t *testing.T) {
	s, _, _, _ := integrationSends(t) // one table set; subtests use fresh attempt ids by tenant prefix
	n := 0
	ledgertest.Run(t, func(t *testing.T) sender.Ledger {
		n++
		return &tenantScoped{Ledger: s, prefix: fmt.Sprintf("c%d-", n)}
	})
}

// tenantScoped gives each contract subtest its own tenants in one table, so
// the suite does not create a table set per subtest.
type tenantScoped struct {
	sender.Ledger
	prefix string
}

func (l *tenantScoped) scope(t ledger.TenantID) ledger.TenantID { return ledger.TenantID(l.prefix) + t }

func (l *tenantScoped) unscope(r sender.Record) sender.Record {
	r.Tenant = r.Tenant[len(l.prefix):]
	return r
}

func (l *tenantScoped) Claim(ctx context.Context, r sender.Record, takeOver string) (sender.Record, bool, error) {
	r.Tenant = l.scope(r.Tenant)
	got, won, err := l.Ledger.Claim(ctx, r, takeOver)
	if err == nil {
		got = l.unscope(got)
	}
	return got, won, err
}

func (l *tenantScoped) Complete(ctx context.Context, t ledger.TenantID, id, token string, rc sender.Receipt) error {
	return l.Ledger.Complete(ctx, l.scope(t), id, token, rc)
}

func (l *tenantScoped) Fail(ctx context.Context, t ledger.TenantID, id, token, reason string, at time.Time) error {
	return l.Ledger.Fail(ctx, l.scope(t), id, token, reason, at)
}

func (l *tenantScoped) Release(ctx context.Context, t ledger.TenantID, id, token string) error {
	return l.Ledger.Release(ctx, l.scope(t), id, token)
}

func (l *tenantScoped) Get(ctx context.Context, t ledger.TenantID, id string) (sender.Record, bool, error) {
	r, ok, err := l.Ledger.Get(ctx, l.scope(t), id)
	if ok {
		r = l.unscope(r)
	}
	return r, ok, err
}

// TestIntegrationSendsSendingIndex: a claim is listed as in progress until
// it is completed, failed or released; the listing is what a person
// reconciles sends in doubt from.
func TestIntegrationSendsSendingIndex(t *testing.T) {
	s, _, _, _ := integrationSends(t)
	ctx := context.Background()
	t0 := ledgertest.T0
	claim := func(id string, at time.Time) sender.Record {
		r := sender.Record{Tenant: "acme", AttemptID: id, Customer: "C1", Channel: compliance.ChannelSMS,
			State: sender.StateSending, Token: "tok-" + id, ClaimedAt: at, FirstClaimedAt: at}
		if _, won, err := s.Claim(ctx, r, ""); err != nil || !won {
			t.Fatalf("Claim %s: won=%v err=%v", id, won, err)
		}
		return r
	}
	old := claim("A-old", t0)
	claim("A-new", t0.Add(time.Hour))
	done := claim("A-done", t0.Add(-time.Hour))
	if err := s.Complete(ctx, "acme", done.AttemptID, done.Token, sender.Receipt{Provider: "sms", ProviderID: "m1", At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, won, err := s.Claim(ctx, sender.Record{Tenant: "globex", AttemptID: "A-old", State: sender.StateSending,
		Token: "x", ClaimedAt: t0, FirstClaimedAt: t0}, ""); err != nil || !won {
		t.Fatalf("other tenant's claim: won=%v err=%v", won, err)
	}
	// GSI1 is eventually consistent; DynamoDB Local applies it at once, a
	// retry loop keeps this honest against a slower index.
	var got []sender.Record
	for range 50 {
		var err error
		got, err = s.Sending(ctx, "acme", t0.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if diff := cmp.Diff([]sender.Record{old}, got); diff != "" {
		t.Errorf("sends in doubt (-want +got):\n%s", diff)
	}
}

// TestIntegrationSendsDeliverSameAttemptConcurrently is the whole path for real:
// the dispatch gate and the send ledger in DynamoDB Local, the SMS adapter
// with the SDK client, the fake provider. Eight deliveries of one attempt at
// once text the customer exactly once, and all eight report that one send.
func TestIntegrationSendsDeliverSameAttemptConcurrently(t *testing.T) {
	sends, cs, api, prefix := integrationSends(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC) // 11:00 in Boston
	const mobile = "+16175550142"
	addr, err := consent.NormalisePhone(mobile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Record(ctx, "acme", "C4", consent.Grant{ID: "g1", Tenant: "acme", Address: addr, Channel: consent.SMS,
		Source: consent.SourceDirect, At: at.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	engines, err := compliance.LoadEngines(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	gate, err := NewGate(api, prefix, engines)
	if err != nil {
		t.Fatal(err)
	}
	gate.Now = func() time.Time { return at }

	box := filepath.Join(t.TempDir(), "outbox.jsonl")
	fake, err := outbox.New(outbox.Options{Path: box})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := sms.NewClient(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *pinpointsmsvoicev2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	texts, err := sms.New(client, sms.Options{OriginationIdentity: "+16175550100"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sender.NewDeliverer(gate, sends, map[compliance.Channel]sender.Sender{compliance.ChannelSMS: texts})
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { return at }

	req := dispatch.Request{
		Tenant: "acme", AttemptID: "sms-once", Collector: ledger.FirstParty, Customer: "C4",
		Consumer: compliance.Consumer{ID: "C4", State: "MA", ZIP: "02108",
			Phones: []compliance.Phone{{Number: mobile, Line: ledger.LineMobile}}},
		Debts: []compliance.Debt{{ID: "A"}},
		Attempt: compliance.Attempt{At: at, Channel: compliance.ChannelSMS, Debt: "A", To: mobile,
			Purpose: compliance.PurposeCollection, Disclosures: []compliance.Disclosure{compliance.DisclosureOptOut}},
	}
	content := sender.Content{Text: "Your invoice A is overdue. Reply STOP to opt out."}
	const n = 8
	results := make([]sender.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = d.Deliver(ctx, req, content) })
	}
	wg.Wait()
	sent, inProgress := 0, 0
	for i := range n {
		switch {
		case errs[i] == nil && results[i].Status == sender.StatusSent:
			sent++
		case errs[i] != nil && errors.Is(errs[i], sender.ErrInProgress):
			inProgress++
		default:
			t.Errorf("delivery %d: %+v, %v", i, results[i], errs[i])
		}
	}
	entries, err := outbox.Read(box)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("outbox holds %d texts, want exactly 1 (sent=%d in progress=%d)", len(entries), sent, inProgress)
	}
	// Once the winner has finished, every repeat answers from the ledger.
	res, err := d.Deliver(ctx, req, content)
	if err != nil || res.Status != sender.StatusSent || !res.Repeat || res.Receipt.ProviderID != entries[0].ProviderID {
		t.Fatalf("repeat after the send: %+v, %v; outbox id %s", res, err, entries[0].ProviderID)
	}
	want := outbox.Entry{Service: "sms-voice", Channel: "sms", Tenant: "acme", Customer: "C4", Attempt: "sms-once", Debt: "A",
		To: []string{mobile}, From: "+16175550100", Text: content.Text}
	got := entries[0]
	got.Time, got.ProviderID, got.Tags = time.Time{}, "", nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox entry (-want +got):\n%s", diff)
	}
	rec, found, err := sends.Get(ctx, "acme", "sms-once")
	if err != nil || !found || rec.State != sender.StateSent || rec.Receipt.ProviderID != entries[0].ProviderID {
		t.Errorf("ledger record %+v found=%v err=%v", rec, found, err)
	}
}

// FuzzDecodeSend: a send item read back never panics, and what decodes is a
// known state with the times it needs. (No DynamoDB needed.)
func FuzzDecodeSend(f *testing.F) {
	f.Add("send", "sending", "2026-05-04T15:04:05.000000000Z", "2026-05-04T15:04:05.000000000Z", "", "")
	f.Add("send", "sent", "2026-05-04T15:04:05.000000000Z", "2026-05-04T15:04:05Z", "2026-05-04T15:04:06.5Z", "")
	f.Add("send", "failed", "x", "", "", "2026")
	f.Add("attempt", "sent", "", "", "", "")
	f.Fuzz(func(t *testing.T, typ, state, claimed, first, sentAt, failedAt string) {
		av := map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "T#acme#SEND#A1"}, "SK": &types.AttributeValueMemberS{Value: sendSK},
			"type": &types.AttributeValueMemberS{Value: typ}, "tenant": &types.AttributeValueMemberS{Value: "acme"},
			"attempt": &types.AttributeValueMemberS{Value: "A1"}, "state": &types.AttributeValueMemberS{Value: state},
			"token": &types.AttributeValueMemberS{Value: "t"}, "claimed_at": &types.AttributeValueMemberS{Value: claimed},
			"first_claimed_at": &types.AttributeValueMemberS{Value: first}, "sent_at": &types.AttributeValueMemberS{Value: sentAt},
			"failed_at": &types.AttributeValueMemberS{Value: failedAt},
		}
		r, err := decodeSend(av)
		if err != nil {
			return
		}
		switch r.State {
		case sender.StateSending, sender.StateSent, sender.StateFailed:
		default:
			t.Fatalf("decoded unknown state %q", r.State)
		}
		if typ != sendItemType {
			t.Fatalf("decoded an item of type %q", typ)
		}
	})
}
