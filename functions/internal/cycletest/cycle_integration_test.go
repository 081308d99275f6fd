package cycletest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/recoup-dev/recoup/events"
	local "github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/infra/local/outbox"
	"github.com/recoup-dev/recoup/shared/approval"
	approvalsfn "github.com/recoup-dev/recoup/shared/approval/sfn"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ingest"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/ranking"
	"github.com/recoup-dev/recoup/shared/registry"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
	"github.com/recoup-dev/recoup/shared/strategy"
	"github.com/recoup-dev/recoup/shared/stream/kinesis"
	"github.com/recoup-dev/recoup/shared/tenant"
	"github.com/recoup-dev/recoup/shared/training"
	"github.com/recoup-dev/recoup/testdata/portfolio"
)

// stepWait bounds how long any one step of a test may take (a cycle to
// park, an approval to register, a STOP to wake the execution). Each
// normally takes a few seconds; the bound only turns a hang into a
// failure that names what did not happen.
const stepWait = 45 * time.Second

const pollEvery = 150 * time.Millisecond

// TestIntegrationCycleLive runs one live cycle for a consumer reachable by
// e-mail and text: Score, Plan, Draft, Send, Park, with one message in the
// outbox that the gate allowed and the drafter's guardrails passed.
func TestIntegrationCycleLive(t *testing.T) {
	s := setup(t)
	t.Parallel()
	p := s.consumer(t, "C-LIVE-1", "+16145550101", true)

	began := time.Now()
	arn := s.start(t, p.id)
	s.parked(t, arn, p.id, "")
	t.Logf("cycle parked in %s", time.Since(began).Round(time.Millisecond))

	hist := s.history(t, arn)
	if got, want := tasksEntered(hist), []string{"Score", "Plan", "Draft", "Send", "Park"}; !slices.Equal(got, want) {
		t.Fatalf("task states entered %v, want %v", got, want)
	}
	var out struct {
		Score    cycle.Score   `json:"score"`
		Decision cycle.Plan    `json:"decision"`
		Draft    cycle.Message `json:"draft"`
		Dispatch cycle.Sent    `json:"dispatch"`
	}
	exited(t, hist, "Send", 1, &out)
	if out.Score.Model == "" || !out.Score.Open {
		t.Errorf("score %+v: want the champion's version and an open balance", out.Score)
	}
	if out.Decision.Route != cycle.RouteAct || out.Decision.RequiresApproval ||
		(out.Decision.Channel != consent.Email && out.Decision.Channel != consent.SMS) {
		t.Errorf("decision: route %s, channel %s, approval %t (%s); want an e-mail or a text now, no approval",
			out.Decision.Route, out.Decision.Channel, out.Decision.RequiresApproval, out.Decision.Reason)
	}
	if !slices.Contains([]string{"model", "model_retry", "template"}, out.Draft.Source) || out.Draft.Body == "" ||
		out.Draft.Channel != out.Decision.Channel {
		t.Errorf("draft: source %q, channel %s, %d bytes; want a draft that passed the guardrails, for the decision's channel",
			out.Draft.Source, out.Draft.Channel, len(out.Draft.Body))
	}
	d := out.Dispatch
	if d.Status != sender.StatusSent || d.Decision != compliance.Allow || d.Repeat || d.AttemptID == "" || d.MessageID == "" {
		t.Errorf("dispatch %+v: want sent, allowed by the gate, first try", d)
	}

	sent := s.outboxOf(t, p.id)
	if len(sent) != 1 {
		t.Fatalf("outbox holds %d messages for %s, want 1: %+v", len(sent), p.id, sent)
	}
	m := sent[0]
	if m.Channel != string(out.Decision.Channel) || m.ProviderID != d.MessageID || m.Attempt != d.AttemptID ||
		!slices.Contains(m.To, p.address(out.Decision.Channel)) {
		t.Errorf("outbox message %s to %v (attempt %s, id %s); want the %s the Send step reported (attempt %s, id %s) to %s",
			m.Channel, m.To, m.Attempt, m.ProviderID, out.Decision.Channel, d.AttemptID, d.MessageID, p.address(out.Decision.Channel))
	}
	t.Logf("%s by %s (%s draft), attempt %s", out.Decision.Action, out.Decision.Channel, out.Draft.Source, d.AttemptID)
}

// TestIntegrationCycleSendRetry invokes the real send function twice with
// the payload the state machine gave the Send state, as Step Functions
// does when it retries a task whose answer was lost: both answers repeat
// the first attempt, and nothing more is sent.
func TestIntegrationCycleSendRetry(t *testing.T) {
	s := setup(t)
	t.Parallel()
	p := s.consumer(t, "C-RETRY-1", "+16145550102", true)

	arn := s.start(t, p.id)
	s.parked(t, arn, p.id, "")
	hist := s.history(t, arn)
	var out struct {
		Dispatch cycle.Sent `json:"dispatch"`
	}
	exited(t, hist, "Send", 1, &out)
	first := out.Dispatch
	if first.Status != sender.StatusSent || first.Repeat {
		t.Fatalf("the cycle's send: %+v, want sent on its first try", first)
	}

	payload := sendPayload(t, hist, arn, first)
	for i := 1; i <= 2; i++ {
		var again cycle.Sent
		if fnErr := localtest.Invoke(t, "send", payload, &again); fnErr != "" {
			t.Fatalf("send retry %d failed: %s", i, fnErr)
		}
		if !again.Repeat || again.AttemptID != first.AttemptID || again.MessageID != first.MessageID || again.Status != first.Status {
			t.Errorf("send retry %d: %+v; want a repeat of attempt %s (message %s, %s)", i, again, first.AttemptID, first.MessageID, first.Status)
		}
	}
	if sent := s.outboxOf(t, p.id); len(sent) != 1 {
		t.Errorf("outbox holds %d messages for %s after two retries of Send, want 1: %+v", len(sent), p.id, sent)
	}
}

// TestIntegrationCycleStop sends the customer's STOP reply through the
// engagement stream while its execution waits in Park: the engagement
// function records the revocation and wakes the execution, which plans
// again without texts and parks again, and no text reaches the number
// after the STOP.
func TestIntegrationCycleStop(t *testing.T) {
	s := setup(t)
	t.Parallel()
	ctx := context.Background()
	p := s.consumer(t, "C-STOP-1", "+16145550103", false)

	arn := s.start(t, p.id)
	first := s.parked(t, arn, p.id, "")
	hist := s.history(t, arn)
	var out struct {
		Decision cycle.Plan `json:"decision"`
		Dispatch cycle.Sent `json:"dispatch"`
	}
	exited(t, hist, "Send", 1, &out)
	// The customer can be reached by post and on its mobile, and has
	// consented to texts there: the preference model's prior picks a text.
	textsBefore := len(texts(s.outboxOf(t, p.id), p.mobile, time.Time{}))
	if out.Decision.Channel != consent.SMS || out.Dispatch.Status != sender.StatusSent || textsBefore != 1 {
		t.Fatalf("first contact: %s by %s (%s), %d text(s) to %s; want one text sent, so that a STOP has a text to stop",
			out.Decision.Action, out.Decision.Channel, out.Dispatch.Status, textsBefore, p.mobile)
	}

	// The customer replies STOP, as the SMS webhook would put it on the
	// stream.
	stopAt := time.Now().UTC()
	stop := events.Event{ID: "sms:inbound:" + string(s.tenant) + "-" + p.id, Tenant: s.tenant, Customer: p.id,
		Channel: events.ChannelSMS, ContactPoint: p.mobile, OccurredAt: stopAt, Source: "sms",
		Payload: events.SMSInbound{Text: "STOP"}}
	if err := s.stream.Put(ctx, []events.Event{stop}); err != nil {
		t.Fatalf("put the STOP on %s: %v", local.EngagementStream, err)
	}
	s.parked(t, arn, p.id, first.Token)
	t.Logf("STOP applied and the cycle re-planned and parked again %s after the reply", time.Since(stopAt).Round(time.Millisecond))

	tel, err := consent.NormalisePhone(p.mobile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.consent.Current(ctx, s.tenant, tel, consent.SMS)
	if err != nil || st.Consent != consent.Revoked {
		t.Errorf("consent for texts to %s after STOP: %+v (%v), want revoked", p.mobile, st, err)
	}

	hist = s.history(t, arn)
	var woke struct {
		Wake cycle.Wake `json:"wake"`
	}
	exited(t, hist, "Park", 1, &woke)
	if woke.Wake.Reason != "opt-out reply" {
		t.Errorf("the parked execution woke with %+v, want the engagement consumer's opt-out re-plan", woke.Wake)
	}
	var again struct {
		Decision cycle.Plan `json:"decision"`
	}
	exited(t, hist, "Plan", 2, &again)
	dec := again.Decision
	if dec.Channel == consent.SMS || slices.Contains(dec.Trace.Facts.Reachable, consent.SMS) {
		t.Errorf("plan after STOP: %s by %s (reachable %v); want no text planned", dec.Action, dec.Channel, dec.Trace.Facts.Reachable)
	}
	if n := countEntered(hist, "Send"); n > 1 {
		// Acting again at once is not expected, but if it did the gate
		// must not have let a text through.
		var resent struct {
			Draft    cycle.Message `json:"draft"`
			Dispatch cycle.Sent    `json:"dispatch"`
		}
		exited(t, hist, "Send", 2, &resent)
		if resent.Draft.Channel == consent.SMS && (resent.Dispatch.Status != sender.StatusBlocked || !hasTCPARule(resent.Dispatch.Rules)) {
			t.Errorf("a text after STOP: %+v; want it blocked by a TCPA rule", resent.Dispatch)
		}
	}
	if after := texts(s.outboxOf(t, p.id), p.mobile, stopAt); len(after) > 0 {
		t.Errorf("%d text(s) reached %s after the STOP: %+v", len(after), p.mobile, after)
	}
	if n := len(texts(s.outboxOf(t, p.id), p.mobile, time.Time{})); n != textsBefore {
		t.Errorf("%d text(s) to %s in all, %d before the STOP", n, p.mobile, textsBefore)
	}
	t.Logf("plan after STOP: %s (%s), route %s, wait %d s", dec.Outcome, dec.Reason, dec.Route, dec.WaitSeconds)
}

// TestIntegrationCycleApproval starts two key accounts, whose first
// contact a collector must approve; both wait in Approval, and approving
// only the second resumes only its execution.
func TestIntegrationCycleApproval(t *testing.T) {
	s := setup(t)
	t.Parallel()
	ctx := context.Background()
	k1 := s.keyAccount(t, "K-KEY-1")
	k2 := s.keyAccount(t, "K-KEY-2")

	arn1 := s.start(t, k1.id)
	arn2 := s.start(t, k2.id)
	r1 := s.awaitApproval(t, arn1, k1.id)
	r2 := s.awaitApproval(t, arn2, k2.id)
	for _, r := range []approval.Request{r1, r2} {
		if !slices.ContainsFunc(r.Reasons, func(a strategy.ApprovalReason) bool { return a.Code == strategy.ApprovalKeyAccount }) ||
			r.Draft == nil || r.Draft.Body == "" {
			t.Errorf("approval of %s: reasons %+v, draft %v; want the key-account reason and the draft to approve", r.Customer, r.Reasons, r.Draft)
		}
	}

	decided, err := s.approvals.Decide(ctx, s.tenant, r2.ID, approval.Verdict{Kind: approval.Approved, By: "collector-7",
		Note: "cycletest: approve the second account only"})
	if err != nil || !decided.Resumed {
		t.Fatalf("approve %s: %+v, %v", k2.id, decided, err)
	}
	s.parked(t, arn2, k2.id, "")

	hist2 := s.history(t, arn2)
	if got, want := tasksEntered(hist2), []string{"Score", "Plan", "Draft", "Approval", "Send", "Park"}; !slices.Equal(got, want) {
		t.Errorf("%s: task states entered %v, want %v", k2.id, got, want)
	}
	var out struct {
		Approval cycle.Approval `json:"approval"`
		Dispatch cycle.Sent     `json:"dispatch"`
	}
	exited(t, hist2, "Send", 1, &out)
	if out.Approval.Verdict != string(approval.Approved) || out.Approval.By != "collector-7" {
		t.Errorf("%s resumed with %+v, want the collector's approval", k2.id, out.Approval)
	}
	if out.Dispatch.Status != sender.StatusSent {
		t.Errorf("%s: dispatch %+v, want sent", k2.id, out.Dispatch)
	}
	if sent := s.outboxOf(t, k2.id); len(sent) != 1 || sent[0].Attempt != out.Dispatch.AttemptID {
		t.Errorf("outbox holds %+v for %s, want the one approved message (attempt %s)", sent, k2.id, out.Dispatch.AttemptID)
	}

	// The first still waits for its collector, with nothing sent.
	desc, err := s.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn1)})
	if err != nil {
		t.Fatal(err)
	}
	hist1 := s.history(t, arn1)
	if desc.Status != sfntypes.ExecutionStatusRunning || lastEntered(hist1) != "Approval" || countEntered(hist1, "Send") != 0 {
		t.Errorf("%s: %s, last state %q, %d sends; want still waiting in Approval, nothing sent",
			k1.id, desc.Status, lastEntered(hist1), countEntered(hist1, "Send"))
	}
	if sent := s.outboxOf(t, k1.id); len(sent) != 0 {
		t.Errorf("outbox holds %d messages for %s, whose approval is pending: %+v", len(sent), k1.id, sent)
	}
	if r, err := s.approvals.Get(ctx, s.tenant, r1.ID); err != nil || r.Status != approval.StatusPending {
		t.Errorf("approval of %s: %+v (%v), want still pending", k1.id, r, err)
	}
}

// TestMain removes the test tenant's models from the stack's registry
// once every test is over (their executions stopped by then).
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil && shared.models != "" {
		if err := os.RemoveAll(shared.models); err != nil {
			fmt.Fprintf(os.Stderr, "remove the test tenant's models: %v\n", err)
		}
	}
	os.Exit(code)
}

// stack is the local stack as the tests use it, with the tenant they
// share: a fresh one per run, so runs never meet each other's data.
type stack struct {
	tenant    ledger.TenantID
	machine   string
	outbox    string
	models    string // the tenant's folder in the model registry
	sfn       *awssfn.Client
	ledger    *dynamo.Ledger
	consent   *dynamo.Consent
	runs      *dynamo.Runs
	approvals *approval.Service
	stream    *kinesis.Publisher
}

var (
	stackOnce sync.Once
	shared    *stack
	sharedErr error
)

// setup gates the test on the local stack and builds the shared tenant
// once per run: profile, champion model.
func setup(t *testing.T) *stack {
	t.Helper()
	localtest.Require(t, "RECOUP_STATE_DIR", "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_KINESIS")
	stackOnce.Do(func() {
		began := time.Now()
		shared, sharedErr = newStack(context.Background())
		if sharedErr == nil {
			t.Logf("tenant %s set up (profile, champion model) in %s", shared.tenant, time.Since(began).Round(time.Millisecond))
		}
	})
	if sharedErr != nil {
		t.Fatalf("set up the tenant: %v", sharedErr)
	}
	return shared
}

func newStack(ctx context.Context) (*stack, error) {
	root, err := local.FindRepoRoot(".")
	if err != nil {
		return nil, err
	}
	lc, err := local.LoadConfig(root, os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	// The functions use the default table prefix, so the tests do too.
	db, prefix := awsconfig.DynamoDB(cfg), awsconfig.TablePrefix()
	if _, err := dynamo.EnsureTables(ctx, db, prefix); err != nil {
		return nil, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	s := &stack{
		tenant:  ledger.TenantID("cyc" + hex.EncodeToString(id[:])),
		machine: fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", local.Region, local.Account, local.StateMachineName("cycle")),
		outbox:  lc.OutboxFile(),
		// The SDK's default client, whose retryer repeats the reads a
		// connection error cut short. shared/approval/sfn's client refuses
		// to repeat a call that may have reached the service, and the SDK
		// sometimes closes a connection while a large response (a
		// history) is still being read (aws-sdk-go-v2 #2737).
		sfn: awssfn.NewFromConfig(cfg),
	}
	if s.ledger, err = dynamo.NewLedger(db, prefix); err != nil {
		return nil, err
	}
	if s.consent, err = dynamo.NewConsent(db, prefix); err != nil {
		return nil, err
	}
	if s.runs, err = dynamo.NewRuns(db, prefix); err != nil {
		return nil, err
	}
	store, err := dynamo.NewApprovals(db, prefix)
	if err != nil {
		return nil, err
	}
	// Approvals resume executions as the approve function does.
	resumer, err := approvalsfn.New(approvalsfn.NewClient(cfg))
	if err != nil {
		return nil, err
	}
	if s.approvals, err = approval.NewService(store, resumer, nil); err != nil {
		return nil, err
	}
	if s.stream, err = kinesis.NewPublisher(awskinesis.NewFromConfig(cfg), local.EngagementStream); err != nil {
		return nil, err
	}
	if err := s.putProfile(ctx, db, prefix); err != nil {
		return nil, err
	}
	dir := filepath.Join(lc.StateDir, "models")
	s.models = filepath.Join(dir, string(s.tenant))
	if err := s.trainChampion(ctx, dir); err != nil {
		return nil, err
	}
	return s, nil
}

// putProfile stores the demo profile for the test tenant, with the
// default strategy open round the clock: the cycle plans with the real
// clock, and a run outside 9-17 New York time on a weekday would
// otherwise only ever park. (The tenant is a first-party creditor, so
// the gate's legal contact hours do not bind it either.)
func (s *stack) putProfile(ctx context.Context, db *dynamodb.Client, prefix string) error {
	var prof map[string]json.RawMessage
	if err := json.Unmarshal(tenant.DemoJSON(), &prof); err != nil {
		return err
	}
	strat := strategy.DefaultConfig()
	strat.Version = "cycletest-open-all-hours"
	strat.BusinessHours = strategy.BusinessHours{Zone: "UTC", Windows: []strategy.Window{
		{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "00:00", End: "24:00"}}}
	var err error
	if prof["tenant"], err = json.Marshal(s.tenant); err != nil {
		return err
	}
	if prof["strategy"], err = json.Marshal(strat); err != nil {
		return err
	}
	data, err := json.Marshal(prof)
	if err != nil {
		return err
	}
	tenants, err := dynamo.NewTenants(db, prefix)
	if err != nil {
		return err
	}
	_, err = tenants.Put(ctx, data, time.Now())
	return err
}

// trainChampion trains the tenant's ranking model on a small generated
// portfolio and promotes it in the registry the score function reads
// (RECOUP_MODEL_DIR=${RECOUP_STATE_DIR}/models).
func (s *stack) trainChampion(ctx context.Context, dir string) error {
	asOf := ledger.Date(time.Now().UTC().Date())
	b, err := portfolio.Load(portfolio.Config{Seed: 11, Customers: 300, Invoices: 1800, AsOf: asOf, Tenant: string(s.tenant)})
	if err != nil {
		return err
	}
	job := training.Job{Source: batchSource{b}, Registry: registry.Registry{Blobs: registry.Dir(dir)}, Config: ranking.Config{Seed: 1}}
	rep, err := job.Run(ctx, s.tenant, asOf)
	if err != nil {
		return err
	}
	if !rep.Promoted {
		return fmt.Errorf("the tenant's first model was not promoted: %s", rep.Reason)
	}
	return nil
}

// batchSource is a training.Source over a generated portfolio in memory.
type batchSource struct{ b *ingest.Batch }

func (s batchSource) Customers(context.Context, ledger.TenantID) ([]ledger.Customer, error) {
	return s.b.Customers, nil
}
func (s batchSource) Invoices(context.Context, ledger.TenantID) ([]ledger.Invoice, error) {
	return s.b.Invoices, nil
}
func (s batchSource) Payments(context.Context, ledger.TenantID) ([]ledger.Payment, error) {
	return s.b.Payments, nil
}
func (s batchSource) Disputes(context.Context, ledger.TenantID) ([]ledger.Dispute, error) {
	return s.b.Disputes, nil
}
func (s batchSource) Promises(context.Context, ledger.TenantID) ([]ledger.PromiseToPay, error) {
	return nil, nil
}

// person is a customer the tests put in the ledger.
type person struct {
	id, email, mobile string
}

func (p person) address(ch consent.Channel) string {
	if ch == consent.SMS || ch == consent.Voice || ch == consent.VoiceAI {
		return p.mobile
	}
	return p.email
}

// consumer puts a consumer with one invoice 20 days overdue, reachable by
// post, by text (and call) on a mobile it consented to texts on, and by
// e-mail when email is set.
func (s *stack) consumer(t *testing.T, id, mobile string, email bool) person {
	t.Helper()
	return s.consumerNamed(t, id, "Pat "+id, mobile, email)
}

// consumerNamed is consumer with the customer's name given.
func (s *stack) consumerNamed(t *testing.T, id, name, mobile string, email bool) person {
	t.Helper()
	p := person{id: id, mobile: mobile}
	if email {
		p.email = strings.ToLower(id) + "@example.com"
	}
	s.putCustomer(t, ledger.Customer{Tenant: s.tenant, ID: id, Name: name, Kind: ledger.Consumer, Country: "US"}, p, 18_000, -20)
	tel, err := consent.NormalisePhone(mobile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.consent.Record(context.Background(), s.tenant, id, consent.Grant{ID: "grant-" + id, Tenant: s.tenant,
		Address: tel, Channel: consent.SMS, Source: consent.SourceDirect, At: time.Now().Add(-30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return p
}

// keyAccount puts a business key account with one invoice 20 days
// overdue, reachable by e-mail and post: its first contact needs a
// collector's approval.
func (s *stack) keyAccount(t *testing.T, id string) person {
	t.Helper()
	p := person{id: id, email: "ap." + strings.ToLower(id) + "@example.com"}
	s.putCustomer(t, ledger.Customer{Tenant: s.tenant, ID: id, Name: "Contoso " + id, Kind: ledger.Business, Country: "US", KeyAcct: true}, p, 420_000, -20)
	return p
}

// putCustomer puts c with a postal address, p's e-mail and mobile when
// set, and one invoice of minor cents due dueIn days from today (negative:
// overdue).
func (s *stack) putCustomer(t *testing.T, c ledger.Customer, p person, minor int64, dueIn int) {
	t.Helper()
	usd := money.MustCurrency("USD")
	c.Currency = usd
	today := ledger.Date(time.Now().UTC().Date())
	recs := []ledger.Record{c,
		ledger.ContactPoint{Tenant: s.tenant, Customer: c.ID, ID: "A1", Kind: ledger.ContactPostal,
			Postal: &ledger.PostalAddress{Line1: "1 Broad St", City: "Columbus", State: "OH", ZIP: "43215", Country: "US"}},
		ledger.Invoice{Tenant: s.tenant, ID: c.ID + "-INV-1", Customer: c.ID, InvoiceDate: today.AddDate(0, 0, dueIn-30),
			DueDate: today.AddDate(0, 0, dueIn), Amount: money.New(minor, usd), Open: money.New(minor, usd)},
	}
	if p.email != "" {
		recs = append(recs, ledger.ContactPoint{Tenant: s.tenant, Customer: c.ID, ID: "E1", Kind: ledger.ContactEmail,
			Email: &ledger.Email{Address: p.email}})
	}
	if p.mobile != "" {
		recs = append(recs, ledger.ContactPoint{Tenant: s.tenant, Customer: c.ID, ID: "P1", Kind: ledger.ContactPhone,
			Phone: &ledger.Phone{E164: p.mobile, Line: ledger.LineMobile}})
	}
	if _, err := s.ledger.Upsert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// start starts a live cycle for the customer, named as the daily run
// names it, and stops it when the test ends.
func (s *stack) start(t *testing.T, customer string) string {
	t.Helper()
	return s.startIn(t, customer, cycle.ModeLive)
}

// startIn is start in the given mode (live or shadow).
func (s *stack) startIn(t *testing.T, customer, mode string) string {
	t.Helper()
	input, _ := json.Marshal(map[string]string{"tenant": string(s.tenant), "customer": customer, "mode": mode})
	out, err := s.sfn.StartExecution(context.Background(), &awssfn.StartExecutionInput{StateMachineArn: aws.String(s.machine),
		Name: aws.String(cycle.ExecutionName(s.tenant, customer, time.Now())), Input: aws.String(string(input))})
	if err != nil {
		t.Fatalf("start the cycle of %s on %s: %v", customer, s.machine, err)
	}
	arn := aws.ToString(out.ExecutionArn)
	t.Cleanup(func() {
		ctx := context.Background()
		desc, err := s.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err == nil && desc.Status != sfntypes.ExecutionStatusRunning {
			return // it failed, and the test said so
		}
		if _, err := s.sfn.StopExecution(ctx, &awssfn.StopExecutionInput{ExecutionArn: aws.String(arn),
			Error: aws.String("cycletest.Done"), Cause: aws.String("the test is over")}); err != nil {
			t.Errorf("stop %s: %v", arn, err)
		}
	})
	return arn
}

// parked waits until the execution waits in Park with a token other than
// after, and returns the customer's run.
func (s *stack) parked(t *testing.T, arn, customer, after string) cycle.Run {
	t.Helper()
	var run cycle.Run
	s.eventually(t, arn, "park", func(ctx context.Context) (bool, error) {
		r, ok, err := s.runs.Get(ctx, s.tenant, customer)
		run = r
		return ok && r.Execution == arn && r.Token != "" && r.Token != after, err
	})
	return run
}

// awaitApproval waits until the approvals function has registered the
// execution's request.
func (s *stack) awaitApproval(t *testing.T, arn, customer string) approval.Request {
	t.Helper()
	var req approval.Request
	s.eventually(t, arn, "register its approval", func(ctx context.Context) (bool, error) {
		page, err := s.approvals.Pending(ctx, s.tenant, "", approval.MaxPageSize)
		if err != nil {
			return false, err
		}
		for _, r := range page.Requests {
			if r.Customer == customer && r.Execution == arn {
				req = r
				return true, nil
			}
		}
		return false, nil
	})
	return req
}

// eventually polls done until it reports true, failing the test with the
// execution's failure when it ends meanwhile, or when stepWait passes.
func (s *stack) eventually(t *testing.T, arn, what string, done func(context.Context) (bool, error)) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(stepWait)
	for {
		ok, err := done(ctx)
		if err != nil {
			t.Fatalf("waiting for %s to %s: %v", arn, what, err)
		}
		if ok {
			return
		}
		desc, err := s.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("describe %s: %v", arn, err)
		}
		if desc.Status != sfntypes.ExecutionStatusRunning {
			t.Fatalf("execution %s ended %s before it could %s: %s %s\n%s", arn, desc.Status, what,
				aws.ToString(desc.Error), aws.ToString(desc.Cause), failures(s.history(t, arn)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s did not %s within %s\n%s", arn, what, stepWait, failures(s.history(t, arn)))
		}
		time.Sleep(pollEvery)
	}
}

func (s *stack) history(t *testing.T, arn string) []sfntypes.HistoryEvent {
	t.Helper()
	var out []sfntypes.HistoryEvent
	pages := awssfn.NewGetExecutionHistoryPaginator(s.sfn, &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("history of %s: %v", arn, err)
		}
		out = append(out, page.Events...)
	}
	return out
}

// failures describes the states entered and every failure in a history.
func failures(hist []sfntypes.HistoryEvent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "states entered: %v", entered(hist))
	for _, ev := range hist {
		switch {
		case ev.TaskFailedEventDetails != nil:
			fmt.Fprintf(&b, "\n  task failed (%s): %s: %s", aws.ToString(ev.TaskFailedEventDetails.Resource),
				aws.ToString(ev.TaskFailedEventDetails.Error), aws.ToString(ev.TaskFailedEventDetails.Cause))
		case ev.ExecutionFailedEventDetails != nil:
			fmt.Fprintf(&b, "\n  execution failed: %s: %s", aws.ToString(ev.ExecutionFailedEventDetails.Error),
				aws.ToString(ev.ExecutionFailedEventDetails.Cause))
		case ev.StateEnteredEventDetails != nil && aws.ToString(ev.StateEnteredEventDetails.Name) == "Failed":
			fmt.Fprintf(&b, "\n  entered Failed with %s", aws.ToString(ev.StateEnteredEventDetails.Input))
		}
	}
	return b.String()
}

// entered lists the states entered, in order.
func entered(hist []sfntypes.HistoryEvent) []string {
	var out []string
	for _, ev := range hist {
		if ev.StateEnteredEventDetails != nil {
			out = append(out, aws.ToString(ev.StateEnteredEventDetails.Name))
		}
	}
	return out
}

// tasksEntered lists the Task states entered, in order.
func tasksEntered(hist []sfntypes.HistoryEvent) []string {
	var out []string
	for _, ev := range hist {
		if ev.Type == "TaskStateEntered" && ev.StateEnteredEventDetails != nil {
			out = append(out, aws.ToString(ev.StateEnteredEventDetails.Name))
		}
	}
	return out
}

func countEntered(hist []sfntypes.HistoryEvent, state string) int {
	n := 0
	for _, name := range entered(hist) {
		if name == state {
			n++
		}
	}
	return n
}

func lastEntered(hist []sfntypes.HistoryEvent) string {
	names := entered(hist)
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1]
}

// exited decodes the output of the nth exit (from 1) of a state.
func exited(t *testing.T, hist []sfntypes.HistoryEvent, state string, nth int, into any) {
	t.Helper()
	n := 0
	for _, ev := range hist {
		if ev.StateExitedEventDetails == nil || aws.ToString(ev.StateExitedEventDetails.Name) != state {
			continue
		}
		if n++; n == nth {
			if err := json.Unmarshal([]byte(aws.ToString(ev.StateExitedEventDetails.Output)), into); err != nil {
				t.Fatalf("output of %s: %v", state, err)
			}
			return
		}
	}
	t.Fatalf("%s exited %d times, want at least %d\n%s", state, n, nth, failures(hist))
}

// sendPayload rebuilds the Send task's payload from the state's input in
// the history, as the definition's Parameters build it, with the entry
// time the Send step reported using ($$.State.EnteredTime is not in the
// history).
func sendPayload(t *testing.T, hist []sfntypes.HistoryEvent, arn string, sent cycle.Sent) map[string]any {
	t.Helper()
	for _, ev := range hist {
		if ev.Type != "TaskStateEntered" || ev.StateEnteredEventDetails == nil || aws.ToString(ev.StateEnteredEventDetails.Name) != "Send" {
			continue
		}
		var in map[string]json.RawMessage
		if err := json.Unmarshal([]byte(aws.ToString(ev.StateEnteredEventDetails.Input)), &in); err != nil {
			t.Fatalf("input of Send: %v", err)
		}
		if got := cycle.AttemptID(arn, sent.Entered); got != sent.AttemptID {
			t.Fatalf("the Send step reported entry %s, which makes attempt %s, not its %s", sent.Entered, got, sent.AttemptID)
		}
		return map[string]any{"tenant": in["tenant"], "customer": in["customer"], "execution": arn, "entered": sent.Entered,
			"decision": in["decision"], "draft": in["draft"], "approval": in["approval"]}
	}
	t.Fatalf("the history has no Send entry\n%s", failures(hist))
	return nil
}

// outboxOf reads the outbox's messages to one customer of the tenant.
func (s *stack) outboxOf(t *testing.T, customer string) []outbox.Entry {
	t.Helper()
	all, err := outbox.Read(s.outbox)
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.Entry
	for _, e := range all {
		if e.Tenant == string(s.tenant) && e.Customer == customer {
			out = append(out, e)
		}
	}
	return out
}

// texts are the entries that texted the number at or after since.
func texts(entries []outbox.Entry, number string, since time.Time) []outbox.Entry {
	var out []outbox.Entry
	for _, e := range entries {
		if e.Channel == string(consent.SMS) && slices.Contains(e.To, number) && !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	return out
}

func hasTCPARule(rules []string) bool {
	return slices.ContainsFunc(rules, func(r string) bool { return strings.HasPrefix(r, "TCPA-") })
}
