package bedrock_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/llm/bedrock"
	"github.com/recoup-dev/recoup/shared/llm/bedrock/fakeconverse"
	"github.com/recoup-dev/recoup/shared/money"
)

const modelID = "amazon.nova-micro-v1:0"

// client is a real SDK client pointed at the fake. One attempt: tests
// script each answer, and the SDK's retries would consume the script.
func client(url string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	})
}

func newModel(t *testing.T) (*bedrock.Model, *fakeconverse.Server) {
	t.Helper()
	fake := fakeconverse.New(modelID)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	m, err := bedrock.New(client(srv.URL), modelID)
	if err != nil {
		t.Fatal(err)
	}
	return m, fake
}

func facts(ch compliance.Channel) drafting.Facts {
	usd := money.MustCurrency("USD")
	req := []compliance.Disclosure{compliance.DisclosureMiniMiranda}
	switch ch {
	case compliance.ChannelSMS, compliance.ChannelEmail:
		req = append(req, compliance.DisclosureOptOut)
	case compliance.ChannelAIVoice, compliance.ChannelCall:
		req = append(req, compliance.DisclosureCallerIdentity, compliance.DisclosureCallbackNumber)
	}
	return drafting.Facts{
		Creditor: "Acme Supply", Customer: "Jordan Lee", Currency: usd,
		Invoices: []drafting.Invoice{
			{Number: "INV-1001", Open: money.New(123456, usd), Due: ledger.Date(2025, time.March, 5)},
			{Number: "INV-1002", Open: money.New(76544, usd), Due: ledger.Date(2025, time.March, 20)},
		},
		Channel: ch, Tone: drafting.ToneFirm, Level: drafting.LevelFollowUp,
		Disclosures: drafting.Disclosures{
			Required:       req,
			MiniMiranda:    "This is an attempt to collect a debt. Any information obtained will be used for that purpose.",
			OptOut:         "Reply STOP to opt out.",
			CallerIdentity: "This is Acme Supply's billing team.",
			CallbackNumber: "(800) 555-0100",
		},
		LinkReserve: 30,
	}
}

// TestConverseWireShape: the real SDK's request reaches the fake in the
// shape the service reads, and the fake's response decodes into a Reply.
func TestConverseWireShape(t *testing.T) {
	m, fake := newModel(t)
	p, err := drafting.BuildPrompt(facts(compliance.ChannelEmail), 700, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	p = drafting.RetryPrompt(p, "a rejected draft", []drafting.Violation{{Rule: drafting.RuleAmount, Detail: `"$9.99" is wrong`}})
	reply, err := m.Converse(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if c.ModelID != modelID || c.Status != 200 {
		t.Fatalf("call %+v", c)
	}
	var got []drafting.Message
	for _, msg := range c.Request.Messages {
		if len(msg.Content) != 1 {
			t.Fatalf("%d content blocks", len(msg.Content))
		}
		got = append(got, drafting.Message{Role: drafting.Role(msg.Role), Text: msg.Content[0].Text})
	}
	if diff := cmp.Diff(p.Messages, got); diff != "" {
		t.Errorf("messages (-sent +received):\n%s", diff)
	}
	if len(c.Request.System) != 1 || c.Request.System[0].Text != p.System {
		t.Errorf("system %+v", c.Request.System)
	}
	ic := c.Request.InferenceConfig
	if ic == nil || ic.MaxTokens == nil || *ic.MaxTokens != 700 || ic.Temperature == nil || *ic.Temperature != 0.2 {
		t.Errorf("inference config %+v", ic)
	}
	if reply.ModelID != modelID || reply.StopReason != drafting.StopEndTurn || reply.Usage.InputTokens == 0 ||
		reply.Usage.OutputTokens != int64((len(reply.Text)+3)/4) {
		t.Errorf("reply %+v", reply)
	}
	if !strings.HasPrefix(reply.Text, "Subject: ") {
		t.Errorf("reply text %q", reply.Text)
	}
}

// TestEndpointFromEnvironment: the standard variable points an ordinary
// client at the fake, as on the local stack.
func TestEndpointFromEnvironment(t *testing.T) {
	fake := fakeconverse.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": srv.URL, "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		bedrock.EnvModelID: "anthropic.claude-3-haiku-20240307-v1:0",
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := bedrock.New(bedrockruntime.NewFromConfig(cfg), bedrock.ModelIDFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	p, err := drafting.BuildPrompt(facts(compliance.ChannelSMS), 300, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Converse(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0].ModelID != "anthropic.claude-3-haiku-20240307-v1:0" {
		t.Fatalf("calls %+v", calls)
	}
}

// TestErrors: service failures come back typed, transient where waiting helps.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		do        fakeconverse.Behaviour
		timeout   time.Duration
		code      string
		transient bool
	}{
		{"throttled", fakeconverse.Throttle(), 0, "ThrottlingException", true},
		{"model timeout", fakeconverse.ModelTimeout(), 0, "ModelTimeoutException", true},
		{"unavailable", fakeconverse.Unavailable(), 0, "ServiceUnavailableException", true},
		{"quota", fakeconverse.Fail(400, "ServiceQuotaExceededException", "Too many tokens"), 0, "ServiceQuotaExceededException", true},
		{"access denied", fakeconverse.Fail(403, "AccessDeniedException", "no access to the model"), 0, "AccessDeniedException", false},
		{"validation", fakeconverse.Fail(400, "ValidationException", "bad input"), 0, "ValidationException", false},
		{"deadline", fakeconverse.Delay(2*time.Second, fakeconverse.Good()), 100 * time.Millisecond, "timeout", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, fake := newModel(t)
			fake.Enqueue(tc.do)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			p, _ := drafting.BuildPrompt(facts(compliance.ChannelEmail), 500, 0)
			_, err := m.Converse(ctx, p)
			var me *drafting.ModelError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a ModelError", err)
			}
			if me.Code != tc.code || me.Transient != tc.transient || errors.Is(err, drafting.ErrTransient) != tc.transient {
				t.Errorf("got code %q transient %v (%v), want %q %v", me.Code, me.Transient, err, tc.code, tc.transient)
			}
		})
	}
}

// TestUnreachable: a dead endpoint is a transient transport failure.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(fakeconverse.New())
	url := srv.URL
	srv.Close()
	m, _ := bedrock.New(client(url), modelID)
	p, _ := drafting.BuildPrompt(facts(compliance.ChannelEmail), 500, 0)
	_, err := m.Converse(context.Background(), p)
	if !errors.Is(err, drafting.ErrTransient) {
		t.Fatalf("error %v, want transient", err)
	}
}

func TestNewRefusesNil(t *testing.T) {
	if _, err := bedrock.New(nil, modelID); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := bedrock.New(client("http://127.0.0.1:1"), " "); err == nil {
		t.Error("empty model id accepted")
	}
}
