package handler_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/deadletter"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/webhooks/handler"
	"github.com/recoup-dev/recoup/shared/webhooks/sms"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify"
	"github.com/recoup-dev/recoup/shared/webhooks/snsverify/snstest"
)

const (
	sesTopic = "arn:aws:sns:us-east-1:123456789012:recoup-ses-events"
	smsTopic = "arn:aws:sns:us-east-1:123456789012:recoup-sms-events"
	key      = "s3cret-api-destination-key"
)

// publisher is a fake Kinesis publisher: it checks every event the way the
// real one does (Encode runs Validate) and keeps them with their keys.
type publisher struct {
	mu   sync.Mutex
	err  error
	got  []events.Event
	keys []string
}

func (p *publisher) Put(_ context.Context, evs []events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	for _, e := range evs {
		b, err := events.Encode(e)
		if err != nil {
			return err
		}
		if _, err := events.Decode(b); err != nil {
			return err
		}
		p.got = append(p.got, e)
		p.keys = append(p.keys, e.PartitionKey())
	}
	return nil
}

type sink struct {
	mu      sync.Mutex
	err     error
	letters []deadletter.Letter
}

func (s *sink) Put(_ context.Context, ls []deadletter.Letter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	for _, l := range ls {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	s.letters = append(s.letters, ls...)
	return nil
}

type customers map[string][]string

func (c customers) CustomersByAddress(_ context.Context, tenant ledger.TenantID, address string) ([]string, error) {
	return c[string(tenant)+"|"+address], nil
}

// consentLog keeps the consent events recorded.
type consentLog struct {
	mu  sync.Mutex
	got []consent.Event
}

func (c *consentLog) Record(_ context.Context, _ ledger.TenantID, _ string, ev consent.Event) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, ev)
	return true, nil
}

type rig struct {
	h       *handler.Handler
	signer  *snstest.Signer
	pub     *publisher
	dl      *sink
	consent *consentLog
	logs    *bytes.Buffer
}

func newRig(t testing.TB) *rig {
	t.Helper()
	s := snstest.NewSigner(t)
	v, err := snsverify.NewVerifier(s.Fetcher, snsverify.Options{Roots: s.Roots})
	if err != nil {
		t.Fatal(err)
	}
	cs := &consentLog{}
	n, err := sms.New(sms.MapNumbers{"+12125550101": "acme-supply"},
		customers{"acme-supply|tel:+14255550182": {"C-10058", "C-10059"}}, cs)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{signer: s, pub: &publisher{}, dl: &sink{}, consent: cs, logs: &bytes.Buffer{}}
	r.h, err = handler.New(handler.Config{Verifier: v, SESTopics: []string{sesTopic}, SMSTopics: []string{smsTopic},
		SMS: n, ConnectKey: key, Publisher: r.pub, DeadLetters: r.dl, Log: slog.New(slog.NewJSONHandler(r.logs, nil)),
		Now: func() time.Time { return time.Date(2026, 4, 14, 15, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// delivery signs message as an SNS notification on topic.
func (r *rig) delivery(t *testing.T, topic, message string) snsverify.Message {
	t.Helper()
	m := snsverify.Message{Type: snsverify.TypeNotification, MessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
		TopicArn: topic, Message: message, Timestamp: "2026-04-14T17:03:22.512Z",
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}
	r.signer.Sign(t, &m)
	return m
}

func post(path string, body []byte) lambdaevents.APIGatewayProxyRequest {
	return lambdaevents.APIGatewayProxyRequest{Resource: path, Path: path, HTTPMethod: http.MethodPost, Body: string(body),
		Headers:        map[string]string{"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"},
		RequestContext: lambdaevents.APIGatewayProxyRequestContext{RequestID: "req-1", Stage: "prod"}}
}

func (r *rig) serve(t *testing.T, req lambdaevents.APIGatewayProxyRequest) int {
	t.Helper()
	resp, err := r.h.HandleRequest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

func (r *rig) kinds() []string {
	var k []string
	for _, l := range r.dl.letters {
		k = append(k, l.Source+":"+l.Kind)
	}
	return k
}

func TestSNSRoutes(t *testing.T) {
	sesDelivery := fixture(t, "../ses/testdata/delivery.json")
	tests := []struct {
		name    string
		request func(r *rig) lambdaevents.APIGatewayProxyRequest
		code    int
		keys    []string // partition keys published, in order
		letters []string // source:kind
	}{
		{name: "SES delivery", code: 200, keys: []string{"acme-supply#C-10042"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, sesDelivery)))
			}},
		{name: "SES delivery, base64 body", code: 200, keys: []string{"acme-supply#C-10042"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				req := post("/webhooks/ses", nil)
				req.Body = base64.StdEncoding.EncodeToString(snstest.Body(t, r.delivery(t, sesTopic, sesDelivery)))
				req.IsBase64Encoded = true
				return req
			}},
		{name: "SES send: ignored by design", code: 200,
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, fixture(t, "../ses/testdata/send.json"))))
			}},
		{name: "SES reject: dead-lettered, still 200", code: 200, letters: []string{"webhooks/ses:rejected"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, fixture(t, "../ses/testdata/reject.json"))))
			}},
		{name: "forged: message changed after signing", code: 403, letters: []string{"webhooks/ses:forged"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				m := r.delivery(t, sesTopic, sesDelivery)
				m.Message = strings.Replace(m.Message, "C-10042", "C-99999", 1)
				return post("/webhooks/ses", snstest.Body(t, m))
			}},
		{name: "unsigned", code: 403, letters: []string{"webhooks/ses:forged"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				m := r.delivery(t, sesTopic, sesDelivery)
				m.Signature, m.SignatureVersion, m.SigningCertURL = "", "", ""
				return post("/webhooks/ses", snstest.Body(t, m))
			}},
		{name: "SMS topic on the SES route", code: 403, letters: []string{"webhooks/ses:forged"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/ses", snstest.Body(t, r.delivery(t, smsTopic, sesDelivery)))
			}},
		{name: "not an SNS message", code: 400, letters: []string{"webhooks/ses:invalid"},
			request: func(*rig) lambdaevents.APIGatewayProxyRequest { return post("/webhooks/ses", []byte(sesDelivery)) }},
		{name: "signed, but not an SES record", code: 400, letters: []string{"webhooks/ses:invalid"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, "Hello world!")))
			}},
		{name: "bad base64", code: 400, letters: []string{"webhooks/sms:invalid"},
			request: func(*rig) lambdaevents.APIGatewayProxyRequest {
				req := post("/webhooks/sms", nil)
				req.Body, req.IsBase64Encoded = "%%%", true
				return req
			}},
		{name: "SMS delivered", code: 200, keys: []string{"acme-supply#C-10058"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/sms", snstest.Body(t, r.delivery(t, smsTopic, fixture(t, "../sms/testdata/text-delivered.json"))))
			}},
		{name: "SMS inbound to a shared number: one event per customer", code: 200, keys: []string{"acme-supply#C-10058", "acme-supply#C-10059"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/sms", snstest.Body(t, r.delivery(t, smsTopic,
					`{"originationNumber":"+14255550182","destinationNumber":"+12125550101","messageKeyword":"KEYWORD_123456789012","messageBody":"STOP texting me","inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84"}`)))
			}},
		{name: "SMS inbound from an unknown number", code: 200, letters: []string{"webhooks/sms:unknown_customer"},
			request: func(r *rig) lambdaevents.APIGatewayProxyRequest {
				return post("/webhooks/sms", snstest.Body(t, r.delivery(t, smsTopic,
					`{"originationNumber":"+13125550188","destinationNumber":"+12125550101","messageBody":"STOP","inboundMessageId":"x1"}`)))
			}},
		{name: "GET", code: 405, request: func(*rig) lambdaevents.APIGatewayProxyRequest {
			req := post("/webhooks/ses", nil)
			req.HTTPMethod = http.MethodGet
			return req
		}},
		{name: "unknown route", code: 404, request: func(*rig) lambdaevents.APIGatewayProxyRequest { return post("/webhooks/fax", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if code := r.serve(t, tt.request(r)); code != tt.code {
				t.Errorf("status %d, want %d; logs:\n%s", code, tt.code, r.logs)
			}
			if diff := cmp.Diff(tt.keys, r.pub.keys, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("partition keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.letters, r.kinds(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			for _, l := range r.dl.letters {
				if len(l.Body) == 0 || l.Reason == "" || l.Origin["request_id"] != "req-1" {
					t.Errorf("letter without body, reason or origin: %+v", l)
				}
			}
			for _, pii := range []string{"+1425", "+1312", "4255550182", "recipient@example.com", "STOP"} {
				if strings.Contains(r.logs.String(), pii) {
					t.Errorf("logs hold personal data %q:\n%s", pii, r.logs)
				}
			}
		})
	}
}

// TestSMSStopFromAnUnknownNumber: the revocation is recorded on the
// number and the text is dead-lettered for a person to match; SNS gets 200.
func TestSMSStopFromAnUnknownNumber(t *testing.T) {
	r := newRig(t)
	req := post("/webhooks/sms", snstest.Body(t, r.delivery(t, smsTopic,
		`{"originationNumber":"+13125550188","destinationNumber":"+12125550101","messageBody":"STOP","inboundMessageId":"x1"}`)))
	if code := r.serve(t, req); code != 200 {
		t.Fatalf("status %d, want 200; logs:\n%s", code, r.logs)
	}
	if diff := cmp.Diff([]string{"webhooks/sms:unknown_customer"}, r.kinds()); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if len(r.consent.got) != 1 || r.consent.got[0].(consent.Revoke).Address != "tel:+13125550188" {
		t.Errorf("consent recorded %+v, want the revocation on tel:+13125550188", r.consent.got)
	}
}

func TestSNSRedeliveryGivesTheSameIDs(t *testing.T) {
	r := newRig(t)
	req := post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, fixture(t, "../ses/testdata/bounce.json"))))
	r.serve(t, req)
	r.serve(t, req)
	if len(r.pub.got) != 2 || r.pub.got[0].ID != r.pub.got[1].ID {
		t.Fatalf("published %v, want the same event id twice (the consumer drops the repeat)", r.pub.got)
	}
}

func TestFailuresMakeSNSRetry(t *testing.T) {
	sesDelivery := fixture(t, "../ses/testdata/delivery.json")
	t.Run("publishing fails", func(t *testing.T) {
		r := newRig(t)
		r.pub.err = errors.New("kinesis: ProvisionedThroughputExceededException")
		if code := r.serve(t, post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, sesDelivery)))); code != 503 {
			t.Errorf("status %d, want 503", code)
		}
		if len(r.dl.letters) != 0 {
			t.Errorf("dead-lettered %v; a retry will deliver it", r.kinds())
		}
	})
	t.Run("certificate unavailable", func(t *testing.T) {
		r := newRig(t)
		r.signer.Fetcher.Fail(snstest.CertURL, errors.New("dial tcp: i/o timeout"))
		if code := r.serve(t, post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, sesDelivery)))); code != 503 {
			t.Errorf("status %d, want 503", code)
		}
	})
	t.Run("dead-letter queue down", func(t *testing.T) {
		r := newRig(t)
		r.dl.err = errors.New("sqs down")
		if code := r.serve(t, post("/webhooks/ses", []byte("not sns"))); code != 500 {
			t.Errorf("status %d, want 500: a refusal that cannot be kept must not be acknowledged", code)
		}
	})
}

func TestSubscriptionConfirmation(t *testing.T) {
	r := newRig(t)
	m := snsverify.Message{Type: snsverify.TypeSubscriptionConfirmation, MessageID: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		Token: "2336412f37fb687f", TopicArn: sesTopic, Message: "You have chosen to subscribe to the topic " + sesTopic + ".",
		SubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + sesTopic + "&Token=2336412f37fb687f",
		Timestamp:    "2026-04-14T15:00:00.000Z"}
	r.signer.Fetcher.Serve(m.SubscribeURL, []byte("<ConfirmSubscriptionResponse/>"))
	r.signer.Sign(t, &m)
	if code := r.serve(t, post("/webhooks/ses", snstest.Body(t, m))); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	if n := r.signer.Fetcher.Count(m.SubscribeURL); n != 1 {
		t.Errorf("SubscribeURL fetched %d times, want 1", n)
	}
	forged := m
	forged.SubscribeURL = "https://attacker.example.com/confirm"
	if code := r.serve(t, post("/webhooks/ses", snstest.Body(t, forged))); code != 403 {
		t.Errorf("forged confirmation: status %d, want 403", code)
	}
	if r.signer.Fetcher.Count(forged.SubscribeURL) != 0 {
		t.Error("a forged SubscribeURL was fetched")
	}
}

func TestConnect(t *testing.T) {
	disconnected := fixture(t, "../connect/testdata/disconnected.json")
	withKey := func(k string) lambdaevents.APIGatewayProxyRequest {
		req := post("/webhooks/connect", []byte(disconnected))
		if k != "" {
			req.Headers["x-recoup-webhook-key"] = k
		}
		return req
	}
	tests := []struct {
		name    string
		req     lambdaevents.APIGatewayProxyRequest
		code    int
		keys    []string
		letters []string
	}{
		{"API destination with the key", withKey(key), 200, []string{"acme-supply#C-10077"}, nil},
		{"no key", withKey(""), 403, nil, []string{"webhooks/connect:forged"}},
		{"wrong key", withKey("guess"), 403, nil, []string{"webhooks/connect:forged"}},
		{"key but not an event", func() lambdaevents.APIGatewayProxyRequest {
			req := withKey(key)
			req.Body = `{"hello":"world"}`
			return req
		}(), 400, nil, []string{"webhooks/connect:invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if code := r.serve(t, tt.req); code != tt.code {
				t.Errorf("status %d, want %d", code, tt.code)
			}
			if diff := cmp.Diff(tt.keys, r.pub.keys, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.letters, r.kinds(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("letters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInvoke goes through the Lambda entry point with raw payloads: a
// direct EventBridge invocation and an API Gateway request.
func TestInvoke(t *testing.T) {
	r := newRig(t)
	if _, err := r.h.Invoke(context.Background(), json.RawMessage(fixture(t, "../connect/testdata/disconnected.json"))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme-supply#C-10077"}, r.pub.keys); diff != "" {
		t.Errorf("EventBridge invocation published (-want +got):\n%s", diff)
	}
	if got := r.pub.got[0].Payload.(events.CallOutcome).AttemptID; got != "att-7f3e02" {
		t.Errorf("attempt %q", got)
	}

	req, err := json.Marshal(post("/webhooks/ses", snstest.Body(t, r.delivery(t, sesTopic, fixture(t, "../ses/testdata/complaint.json")))))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.h.Invoke(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(lambdaevents.APIGatewayProxyResponse).StatusCode; code != 200 {
		t.Errorf("API Gateway invocation: status %d", code)
	}

	r.pub.err = errors.New("kinesis down")
	if _, err := r.h.Invoke(context.Background(), json.RawMessage(fixture(t, "../connect/testdata/disconnected.json"))); err == nil {
		t.Error("EventBridge invocation with Kinesis down returned nil; it must fail so Lambda retries")
	}
	if _, err := r.h.Invoke(context.Background(), json.RawMessage(`{"Records":[]}`)); err == nil {
		t.Error("an SQS-shaped payload was accepted")
	}
}

func TestLoadSettings(t *testing.T) {
	env := map[string]string{"RECOUP_DLQ_URL": "http://127.0.0.1:9324/000000000000/recoup-dlq",
		"RECOUP_SES_TOPICS": sesTopic + ", ", "RECOUP_SMS_NUMBERS": `{"(212) 555-0101":"acme-supply"}`}
	s, err := handler.LoadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := handler.Settings{Stream: "recoup-engagement", SESTopics: []string{sesTopic}, DLQURL: env["RECOUP_DLQ_URL"],
		Numbers: sms.MapNumbers{"+12125550101": "acme-supply"}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	delete(env, "RECOUP_DLQ_URL")
	if _, err := handler.LoadSettings(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "RECOUP_DLQ_URL") {
		t.Errorf("without RECOUP_DLQ_URL: %v, want an error naming it", err)
	}
}
