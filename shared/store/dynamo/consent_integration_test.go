package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// integrationConsent returns a consent store over fresh tables in the local
// stack's DynamoDB Local (skipping without one, failing under CI), reading
// "now" as consentNow, and the client for poking at items directly.
func integrationConsent(t *testing.T) (*Consent, *dynamodb.Client, string) {
	t.Helper()
	client, prefix := localtest.DynamoDB(t)
	ctx := context.Background()
	if _, err := EnsureTables(ctx, client, prefix); err != nil {
		t.Fatal(err)
	}
	c, err := NewConsent(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return consentNow }
	return c, client, prefix
}

var (
	consentT0  = time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC)
	consentNow = consentT0.Add(30 * 24 * time.Hour)
)

const (
	ctTenant ledger.TenantID = "acme"
	ctTel    consent.Address = "tel:+16145550101"
	ctTel2   consent.Address = "tel:+16145550102"
	ctMail   consent.Address = "mailto:pat@example.com"
	ctCust   consent.Address = "customer:C1"
)

func ctAt(h int) time.Time { return consentT0.Add(time.Duration(h) * time.Hour) }

func ctGrant(id string, a consent.Address, c consent.Channel, src consent.Source, h int) consent.Grant {
	return consent.Grant{ID: id, Tenant: ctTenant, Address: a, Channel: c, Source: src, At: ctAt(h)}
}

func ctStop(id string, a consent.Address, h int, chans ...consent.Channel) consent.Revoke {
	return consent.Revoke{ID: id, Tenant: ctTenant, Address: a, Channels: chans, Via: consent.ViaSMSReply, At: ctAt(h), Text: "STOP"}
}

func mustRecord(t *testing.T, c *Consent, customer string, ev consent.Event, wantApplied bool) {
	t.Helper()
	applied, err := c.Record(context.Background(), ctTenant, customer, ev)
	if err != nil {
		t.Fatalf("Record %s: %v", ev.Meta().ID, err)
	}
	if applied != wantApplied {
		t.Fatalf("Record %s: applied = %v, want %v", ev.Meta().ID, applied, wantApplied)
	}
}

func mustCurrent(t *testing.T, c *Consent, a consent.Address, ch consent.Channel) consent.Status {
	t.Helper()
	st, err := c.Current(context.Background(), ctTenant, a, ch)
	if err != nil {
		t.Fatalf("Current(%s, %s): %v", a, ch, err)
	}
	return st
}

func TestIntegrationConsentRoundTrip(t *testing.T) {
	c, _, _ := integrationConsent(t)
	ctx := context.Background()
	exp := ctGrant("g-mail", ctMail, consent.Email, consent.SourceApplication, 0)
	exp.Expires = ctAt(24 * 365)
	events := []consent.Event{
		ctGrant("g-sms", ctTel, consent.SMS, consent.SourceApplication, 0),
		ctGrant("g-voice", ctTel, consent.Voice, consent.SourceApplication, 0),
		exp,
		ctStop("r-sms", ctTel, 48, consent.SMS),
		ctGrant("g-sms-again", ctTel, consent.SMS, consent.SourceDirect, 72),
		ctGrant("g-tel2", ctTel2, consent.VoiceAI, consent.SourceWritten, 1),
		consent.Cease{ID: "cease", Tenant: ctTenant, Customer: "C1", Written: true, At: ctAt(96)},
	}
	for _, ev := range events {
		mustRecord(t, c, "C1", ev, true)
	}
	// Another tenant's identical address is another ledger.
	other := ctGrant("g-other", ctTel, consent.VoiceAI, consent.SourceDirect, 0)
	other.Tenant = "other"
	if _, err := c.Record(ctx, "other", "C1", other); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		a     consent.Address
		ch    consent.Channel
		want  consent.Value
		event string
	}{
		{ctTel, consent.SMS, consent.Granted, "g-sms-again"},   // direct grant after the STOP
		{ctTel, consent.VoiceAI, consent.Revoked, "r-sms"},     // the STOP spread; the sms re-grant did not
		{ctTel, consent.Prerecorded, consent.Revoked, "r-sms"}, //
		{ctTel, consent.Voice, consent.Granted, "g-voice"},     // live voice untouched by an SMS STOP
		{ctMail, consent.Email, consent.Granted, "g-mail"},     //
		{ctTel2, consent.VoiceAI, consent.Granted, "g-tel2"},   //
		{ctTel2, consent.SMS, consent.Unknown, ""},             // nothing recorded
		{ctCust, consent.Letter, consent.Revoked, "cease"},     // the written cease
		{"mailto:nobody@example.com", consent.Email, consent.Unknown, ""},
	}
	for _, tt := range tests {
		st := mustCurrent(t, c, tt.a, tt.ch)
		if st.Consent != tt.want || st.Event != tt.event || st.Address != tt.a || st.Channel != tt.ch {
			t.Errorf("Current(%s, %s) = %s by %q, want %s by %q (%s)", tt.a, tt.ch, st.Consent, st.Event, tt.want, tt.event, st.Reason)
		}
	}
	// The cease reaches a number through its customer.
	eff := consent.Effective(mustCurrent(t, c, ctTel, consent.SMS), mustCurrent(t, c, ctCust, consent.SMS))
	if eff.Consent != consent.Revoked || eff.Cause != consent.KindCease {
		t.Errorf("effective sms consent after a written cease: %s (%s)", eff.Consent, eff.Reason)
	}
	if st, err := c.Current(ctx, "other", ctTel, consent.SMS); err != nil || st.Consent != consent.Unknown {
		t.Errorf("tenant other sees %s, %v on acme's revoked number", st.Consent, err)
	}
	// Expiry applies when read.
	c.now = func() time.Time { return ctAt(24*365 + 1) }
	if st := mustCurrent(t, c, ctMail, consent.Email); st.Consent != consent.Unknown {
		t.Errorf("expired e-mail consent read as %s", st.Consent)
	}
	c.now = func() time.Time { return consentNow }

	// History keeps everything, in time order, the revocation included.
	hist, err := c.History(ctx, ctTenant, ctTel)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, fmt.Sprintf("%s %s %s", e.Event, e.Kind, e.Channel))
	}
	want := []string{
		"g-sms grant sms", "g-voice grant voice",
		"r-sms revoke sms", "r-sms revoke voice_ai", "r-sms revoke prerecorded",
		"g-sms-again grant sms",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("History(%s) (-want +got):\n%s", ctTel, diff)
	}
	wantStop := consent.Entry{Event: "r-sms", Kind: consent.KindRevoke, Address: ctTel, Channel: consent.VoiceAI,
		At: ctAt(48), Implied: true, Via: consent.ViaSMSReply, Text: "STOP"}
	if diff := cmp.Diff(wantStop, hist[3]); diff != "" {
		t.Errorf("stored implied revocation (-want +got):\n%s", diff)
	}
	// The stored state is the fold of the stored history.
	for _, ch := range []consent.Channel{consent.SMS, consent.Voice, consent.VoiceAI, consent.Prerecorded} {
		want := consent.State(hist, ctTel, ch, consentNow)
		if diff := cmp.Diff(want, mustCurrent(t, c, ctTel, ch)); diff != "" {
			t.Errorf("Current(%s, %s) differs from the fold of History (-fold +current):\n%s", ctTel, ch, diff)
		}
	}

	// ForCustomer: every address and channel of C1, customer level included.
	var all []consent.Status
	deadline := time.Now().Add(5 * time.Second) // GSI1 is eventually consistent
	for {
		if all, err = c.ForCustomer(ctx, ctTenant, "C1"); err != nil {
			t.Fatal(err)
		}
		if len(all) >= 12 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows := []string{}
	for _, st := range all {
		rows = append(rows, fmt.Sprintf("%s %s %s", st.Address, st.Channel, st.Consent))
	}
	wantRows := []string{
		"customer:C1 email revoked", "customer:C1 sms revoked", "customer:C1 voice revoked",
		"customer:C1 voice_ai revoked", "customer:C1 prerecorded revoked", "customer:C1 letter revoked",
		"mailto:pat@example.com email granted",
		"tel:+16145550101 sms granted", "tel:+16145550101 voice granted",
		"tel:+16145550101 voice_ai revoked", "tel:+16145550101 prerecorded revoked",
		"tel:+16145550102 voice_ai granted",
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("ForCustomer(C1) (-want +got):\n%s", diff)
	}
	if none, err := c.ForCustomer(ctx, ctTenant, "C2"); err != nil || len(none) != 0 {
		t.Errorf("ForCustomer(C2) = %v, %v; want nothing", none, err)
	}
}

func TestIntegrationConsentRecordIsIdempotent(t *testing.T) {
	c, _, _ := integrationConsent(t)
	ctx := context.Background()
	stop := ctStop("sms-in-42", ctTel, 1, consent.SMS)
	mustRecord(t, c, "C1", stop, true)
	before, err := c.History(ctx, ctTenant, ctTel)
	if err != nil {
		t.Fatal(err)
	}
	v := mustCurrent(t, c, ctTel, consent.SMS).Version
	mustRecord(t, c, "C1", stop, false)
	mustRecord(t, c, "", stop, false) // the customer is not part of the event
	after, err := c.History(ctx, ctTenant, ctTel)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("re-recording changed the history (-before +after):\n%s", diff)
	}
	if got := mustCurrent(t, c, ctTel, consent.SMS).Version; got != v {
		t.Errorf("re-recording moved the state from version %d to %d", v, got)
	}
	// The same id with other content is a caller bug, not a new event.
	changed := stop
	changed.At = ctAt(2)
	if _, err := c.Record(ctx, ctTenant, "C1", changed); !errors.Is(err, consent.ErrEventConflict) {
		t.Errorf("re-using an event id for another time: err = %v, want ErrEventConflict", err)
	}
}

func TestIntegrationConsentSMSStopRevokesVoiceAIAtOnce(t *testing.T) {
	c, _, _ := integrationConsent(t)
	for _, ch := range []consent.Channel{consent.SMS, consent.VoiceAI, consent.Prerecorded, consent.Voice} {
		mustRecord(t, c, "C1", ctGrant("g-"+string(ch), ctTel, ch, consent.SourceApplication, 0), true)
	}
	if st := mustCurrent(t, c, ctTel, consent.VoiceAI); st.Consent != consent.Granted {
		t.Fatalf("voice_ai before the STOP: %s", st.Consent)
	}
	mustRecord(t, c, "C1", consent.Revoke{ID: "inbound-7", Tenant: ctTenant, Address: ctTel,
		Channels: []consent.Channel{consent.SMS}, Via: consent.ViaSMSReply, At: ctAt(1), Text: "Stop texting me"}, true)
	// No wait: the state was written in the same transaction.
	for ch, want := range map[consent.Channel]consent.Value{
		consent.SMS: consent.Revoked, consent.VoiceAI: consent.Revoked, consent.Prerecorded: consent.Revoked,
		consent.Voice: consent.Granted,
	} {
		if st := mustCurrent(t, c, ctTel, ch); st.Consent != want {
			t.Errorf("%s right after an SMS STOP: %s, want %s (%s)", ch, st.Consent, want, st.Reason)
		}
	}
	// An application record imported afterwards does not bring it back.
	mustRecord(t, c, "C1", ctGrant("reimport", ctTel, consent.VoiceAI, consent.SourceApplication, 2), true)
	if st := mustCurrent(t, c, ctTel, consent.VoiceAI); st.Consent != consent.Revoked {
		t.Errorf("voice_ai after a re-imported application record: %s", st.Consent)
	}
}

func TestIntegrationConsentOlderEventRecordedLate(t *testing.T) {
	c, _, _ := integrationConsent(t)
	// A direct grant at +3h, then a revocation made at +2h arrives: the
	// person consented after revoking, so consent stands.
	mustRecord(t, c, "C1", ctGrant("g-direct", ctTel, consent.SMS, consent.SourceDirect, 3), true)
	mustRecord(t, c, "C1", ctStop("r-old", ctTel, 2, consent.SMS), true)
	if st := mustCurrent(t, c, ctTel, consent.SMS); st.Consent != consent.Granted || st.Event != "g-direct" {
		t.Errorf("sms after a late older revocation: %s by %s, want granted by g-direct", st.Consent, st.Event)
	}
	if st := mustCurrent(t, c, ctTel, consent.VoiceAI); st.Consent != consent.Revoked {
		t.Errorf("voice_ai after a late older revocation: %s, want revoked", st.Consent)
	}
	// An application grant at +3h does not survive a revocation made at +2h.
	mustRecord(t, c, "C2", ctGrant("g-app", ctTel2, consent.SMS, consent.SourceApplication, 3), true)
	mustRecord(t, c, "C2", ctStop("r-old2", ctTel2, 2, consent.SMS), true)
	if st := mustCurrent(t, c, ctTel2, consent.SMS); st.Consent != consent.Revoked {
		t.Errorf("sms of %s: %s, want revoked", ctTel2, st.Consent)
	}
}

// TestIntegrationConsentConcurrentGrantAndRevocation races Record of a grant
// and of a later revocation on one address from 20 goroutines, in both
// orders, and expects the revocation to win every time, each event stored
// once and the state equal to the fold of the stored history.
func TestIntegrationConsentConcurrentGrantAndRevocation(t *testing.T) {
	c, _, _ := integrationConsent(t)
	counting := &countingConsentAPI{ConsentAPI: c.api}
	c.api = counting
	ctx := context.Background()
	const goroutines = 20
	for round := range 6 {
		addr := consent.Address(fmt.Sprintf("tel:+1614555%04d", 200+round))
		src := consent.SourceApplication
		if round%2 == 1 {
			src = consent.SourceDirect // even a direct grant loses to a later revocation
		}
		g := ctGrant(fmt.Sprintf("g%d", round), addr, consent.VoiceAI, src, 1)
		r := ctStop(fmt.Sprintf("r%d", round), addr, 2, consent.SMS)
		var applied [2]atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, goroutines)
		for i := range goroutines {
			wg.Go(func() {
				<-start
				// Even goroutines record the grant, odd ones the
				// revocation; a random delay mixes the arrival order.
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				var ev consent.Event = g
				if i%2 == 1 {
					ev = r
				}
				ok, err := c.Record(ctx, ctTenant, "C1", ev)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					applied[i%2].Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if applied[0].Load() != 1 || applied[1].Load() != 1 {
			t.Errorf("round %d: grant applied %d times, revocation %d times; want once each",
				round, applied[0].Load(), applied[1].Load())
		}
		t.Logf("round %d: %d transactions, %d lost a race", round, counting.calls.Swap(0), counting.canceled.Swap(0))
		hist, err := c.History(ctx, ctTenant, addr)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 4 { // one grant, the revocation on three automated channels
			t.Errorf("round %d: %d entries stored, want 4", round, len(hist))
		}
		for _, ch := range consent.AutomatedChannels() {
			st := mustCurrent(t, c, addr, ch)
			if st.Consent != consent.Revoked {
				t.Errorf("round %d: %s ended %s, want revoked (%s)", round, ch, st.Consent, st.Reason)
			}
			if diff := cmp.Diff(consent.State(hist, addr, ch, consentNow), st); diff != "" {
				t.Errorf("round %d: state of %s differs from the fold of its history (-fold +state):\n%s", round, ch, diff)
			}
		}
	}
}

// countingConsentAPI counts transactions and how many were cancelled, to
// show that a concurrency test did race.
type countingConsentAPI struct {
	ConsentAPI
	calls, canceled atomic.Int32
}

func (a *countingConsentAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	a.calls.Add(1)
	out, err := a.ConsentAPI.TransactWriteItems(ctx, in, opts...)
	if err != nil {
		a.canceled.Add(1)
	}
	return out, err
}

// TestIntegrationConsentConcurrentDistinctEvents records 20 different events
// on one number at once, in random order, and checks that every STATE item
// equals the fold of everything stored.
func TestIntegrationConsentConcurrentDistinctEvents(t *testing.T) {
	c, _, _ := integrationConsent(t)
	ctx := context.Background()
	var evs []consent.Event
	srcs := []consent.Source{consent.SourceApplication, consent.SourceDirect, consent.SourceImport, consent.SourceWritten}
	chans := []consent.Channel{consent.SMS, consent.VoiceAI, consent.Voice, consent.Prerecorded}
	for i := range 20 {
		if i%3 == 2 {
			evs = append(evs, ctStop(fmt.Sprintf("e%02d", i), ctTel, i, chans[i%len(chans)]))
		} else {
			evs = append(evs, ctGrant(fmt.Sprintf("e%02d", i), ctTel, chans[i%len(chans)], srcs[i%len(srcs)], i))
		}
	}
	rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(evs))
	for _, ev := range evs {
		wg.Go(func() {
			if ok, err := c.Record(ctx, ctTenant, "C1", ev); err != nil || !ok {
				errs <- fmt.Errorf("Record %s: applied=%v, %v", ev.Meta().ID, ok, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hist, err := c.History(ctx, ctTenant, ctTel)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if diff := cmp.Diff(consent.State(hist, ctTel, ch, consentNow), mustCurrent(t, c, ctTel, ch)); diff != "" {
			t.Errorf("state of %s differs from the fold of its history (-fold +state):\n%s", ch, diff)
		}
	}
}

func TestIntegrationConsentRecordRefuses(t *testing.T) {
	c, _, _ := integrationConsent(t)
	ctx := context.Background()
	cease := consent.Cease{ID: "c", Tenant: ctTenant, Customer: "C1", Written: true, At: ctAt(0)}
	tests := []struct {
		name     string
		tenant   ledger.TenantID
		customer string
		ev       consent.Event
	}{
		{"event of another tenant", "other", "C1", ctStop("r", ctTel, 0)},
		{"cease recorded for another customer", ctTenant, "C2", cease},
		{"bad customer id", ctTenant, "C#1", ctStop("r", ctTel, 0)},
		{"unnormalised address", ctTenant, "C1", ctStop("r", "6145550101", 0)},
		{"nil event", ctTenant, "C1", nil},
	}
	for _, tt := range tests {
		if _, err := c.Record(ctx, tt.tenant, tt.customer, tt.ev); !errors.Is(err, consent.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	if _, err := c.Current(ctx, ctTenant, ctMail, consent.SMS); !errors.Is(err, consent.ErrInvalid) {
		t.Errorf("Current of sms to an e-mail address: err = %v, want ErrInvalid", err)
	}
	if _, err := c.History(ctx, ctTenant, "pat@example.com"); !errors.Is(err, consent.ErrInvalid) {
		t.Errorf("History of an unnormalised address: err = %v, want ErrInvalid", err)
	}
}

// TestIntegrationConsentStateCheck shows how the dispatch gate makes its
// decision atomic with the consent it read: the ConditionCheck fails the
// gate's transaction once a revocation has been recorded.
func TestIntegrationConsentStateCheck(t *testing.T) {
	c, client, prefix := integrationConsent(t)
	ctx := context.Background()
	attempt := func(n int, st consent.Status) error {
		check, err := c.StateCheck(ctTenant, st)
		if err != nil {
			t.Fatal(err)
		}
		put := types.TransactWriteItem{Put: &types.Put{TableName: aws.String(prefix + ContactsTable),
			Item: itemKey("T#acme#C#C1", fmt.Sprintf("ATT#%d", n))}}
		_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{check, put}})
		return err
	}
	unknown := mustCurrent(t, c, ctTel, consent.VoiceAI)
	if err := attempt(0, unknown); err != nil {
		t.Fatalf("check of unchanged unknown consent failed: %v", err)
	}
	mustRecord(t, c, "C1", ctGrant("g", ctTel, consent.VoiceAI, consent.SourceDirect, 0), true)
	if err := attempt(1, unknown); err == nil {
		t.Fatal("check of stale unknown consent passed after a grant")
	}
	granted := mustCurrent(t, c, ctTel, consent.VoiceAI)
	if err := attempt(2, granted); err != nil {
		t.Fatalf("check of unchanged granted consent failed: %v", err)
	}
	mustRecord(t, c, "C1", ctStop("r", ctTel, 1, consent.SMS), true)
	var canceled *types.TransactionCanceledException
	if err := attempt(3, granted); !errors.As(err, &canceled) {
		t.Fatalf("check of consent revoked since it was read: err = %v, want a cancelled transaction", err)
	}
}

// fakeConsentAPI serves an empty table and fails every transaction with err.
type fakeConsentAPI struct {
	ConsentAPI
	err   error
	calls int
}

func (f *fakeConsentAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeConsentAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.calls++
	return nil, f.err
}

func TestConsentRecordRetriesOnlyLostRaces(t *testing.T) {
	conflict := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")},
	}}
	invalid := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("ValidationError")},
	}}
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"a lost race is retried up to the bound", conflict, 3},
		{"a conflicting transaction is retried", &types.TransactionConflictException{}, 3},
		{"a validation error is not", invalid, 1},
		{"nor is any other error", errors.New("connection refused"), 1},
	}
	for _, tt := range tests {
		fake := &fakeConsentAPI{err: tt.err}
		c, err := NewConsent(fake, "t-")
		if err != nil {
			t.Fatal(err)
		}
		c.attempts = 3
		applied, err := c.Record(context.Background(), ctTenant, "C1", ctStop("r", ctTel, 0))
		if err == nil || applied {
			t.Errorf("%s: Record = %v, %v; want an error", tt.name, applied, err)
		}
		if fake.calls != tt.wantCalls {
			t.Errorf("%s: %d transactions tried, want %d", tt.name, fake.calls, tt.wantCalls)
		}
	}
}

func TestConsentKeysAreTenantScopedAndOrdered(t *testing.T) {
	e := func(at time.Time) consent.Entry {
		return consent.Entry{Event: "e", Channel: consent.SMS, At: at}
	}
	whole := consentEntrySK(e(ctAt(0)))
	half := consentEntrySK(e(ctAt(0).Add(500 * time.Millisecond)))
	if !(whole < half) {
		t.Errorf("sort keys out of time order: %s >= %s", whole, half)
	}
	if want := "EVT#2026-04-06T14:00:00.000000000Z#e#sms"; whole != want {
		t.Errorf("entry sort key %s, want %s", whole, want)
	}
	if pk := consentAddressPK(ctTenant, ctTel); pk != "T#acme#A#tel:+16145550101" {
		t.Errorf("partition key %s", pk)
	}
}
