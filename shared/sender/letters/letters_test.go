package letters

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/sender"
)

const (
	stdQueue  = "https://sqs.us-east-1.amazonaws.com/123456789012/recoup-letters"
	fifoQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/recoup-letters.fifo"
)

var now = time.Date(2026, 11, 3, 14, 5, 6, 7000, time.FixedZone("EST", -5*3600))

// wireAttr and wireSend are SendMessage as it crosses the wire (AWS JSON
// 1.0), decoded independently of the SDK's types.
type wireAttr struct {
	DataType    string
	StringValue string
}

type wireSend struct {
	QueueURL               string `json:"QueueUrl"`
	MessageBody            string
	MessageAttributes      map[string]wireAttr
	MessageGroupID         string `json:"MessageGroupId"`
	MessageDeduplicationID string `json:"MessageDeduplicationId"`
}

// request is what the fake saw of one call.
type request struct {
	Method, Path, Target, ContentType, QueryMode string
	Fields                                       []string // top-level JSON fields, sorted
	Send                                         wireSend
}

// respond answers the n-th call (from 0); ok answers as SQS does.
type respond func(n int, w http.ResponseWriter, in wireSend)

func ok(_ int, w http.ResponseWriter, in wireSend) {
	reply(w, 200, map[string]string{"MessageId": "msg-1", "MD5OfMessageBody": md5Hex(in.MessageBody)})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sqsError answers as SQS does over AWS JSON 1.0 in query-compatible mode:
// the model's shape in __type, the query protocol's code and fault in
// x-amzn-query-error.
func sqsError(status int, shape, queryCode, fault string) respond {
	return func(_ int, w http.ResponseWriter, _ wireSend) {
		w.Header().Set("x-amzn-query-error", queryCode+";"+fault)
		reply(w, status, map[string]string{"__type": "com.amazonaws.sqs#" + shape, "message": "about C4 at 1 Main St"})
	}
}

// then answers the first n calls with first and the rest with rest.
func then(n int, first, rest respond) respond {
	return func(i int, w http.ResponseWriter, in wireSend) {
		if i < n {
			first(i, w, in)
			return
		}
		rest(i, w, in)
	}
}

// drop closes the connection once the request has been read: the letter
// may have been queued, and no answer comes back.
func drop(_ int, w http.ResponseWriter, _ wireSend) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// fakeSQS is an httptest SQS that records every SendMessage.
type fakeSQS struct {
	t       *testing.T
	respond respond
	mu      sync.Mutex
	reqs    []request
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request: %v", err)
		return
	}
	var fields map[string]json.RawMessage
	var in wireSend
	if err := json.Unmarshal(raw, &fields); err != nil {
		f.t.Errorf("request body %q: %v", raw, err)
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		f.t.Errorf("request body %q: %v", raw, err)
	}
	req := request{Method: r.Method, Path: r.URL.Path, Target: r.Header.Get("X-Amz-Target"), ContentType: r.Header.Get("Content-Type"),
		QueryMode: r.Header.Get("X-Amzn-Query-Mode"), Send: in}
	for k := range fields {
		req.Fields = append(req.Fields, k)
	}
	slices.Sort(req.Fields)
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	f.respond(n, w, in)
}

func (f *fakeSQS) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// client is an SDK client built by NewClient against endpoint, with the
// retry backoff cut so tests do not wait.
func client(endpoint string) *sqs.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	return NewClient(cfg, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
}

func fake(t *testing.T, queueURL string, r respond) (*fakeSQS, *Sender) {
	t.Helper()
	f := &fakeSQS{t: t, respond: r}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	s, err := New(client(hs.URL), Options{QueueURL: queueURL})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	return f, s
}

func message() sender.Message {
	return sender.Message{Tenant: "acme", Customer: "C4", AttemptID: "cyc-0a1b", Debt: "INV-9", Channel: compliance.ChannelLetter,
		To: "1 Main St, Springfield", Content: sender.Content{Subject: "Invoice INV-9 is overdue", Text: "Dear customer,\n\nInvoice INV-9 <$120.00> is 30 days overdue."}}
}

func TestSendQueuesTheLetterRequest(t *testing.T) {
	attrs := map[string]wireAttr{
		"tenant":     {DataType: "String", StringValue: "acme"},
		"customer":   {DataType: "String", StringValue: "C4"},
		"attempt_id": {DataType: "String", StringValue: "cyc-0a1b"},
		"kind":       {DataType: "String", StringValue: "dunning_letter"},
	}
	tests := []struct {
		name     string
		queueURL string
		want     request
		window   time.Duration
	}{
		{"a standard queue gets no FIFO fields", stdQueue, request{Method: "POST", Path: "/", Target: "AmazonSQS.SendMessage",
			ContentType: "application/x-amz-json-1.0", QueryMode: "true",
			Fields: []string{"MessageAttributes", "MessageBody", "QueueUrl"},
			Send:   wireSend{QueueURL: stdQueue, MessageAttributes: attrs}}, 0},
		{"a FIFO queue groups by customer and deduplicates by attempt", fifoQueue, request{Method: "POST", Path: "/", Target: "AmazonSQS.SendMessage",
			ContentType: "application/x-amz-json-1.0", QueryMode: "true",
			Fields: []string{"MessageAttributes", "MessageBody", "MessageDeduplicationId", "MessageGroupId", "QueueUrl"},
			Send:   wireSend{QueueURL: fifoQueue, MessageAttributes: attrs, MessageGroupID: "acme#C4", MessageDeduplicationID: "acme#cyc-0a1b"}}, 5 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, s := fake(t, tc.queueURL, ok)
			rc, err := s.Send(context.Background(), message())
			if err != nil {
				t.Fatal(err)
			}
			if want := (sender.Receipt{Provider: "letters", ProviderID: "msg-1", At: now.UTC()}); rc != want {
				t.Errorf("receipt %+v, want %+v", rc, want)
			}
			if got := s.DedupWindow(); got != tc.window {
				t.Errorf("DedupWindow = %s, want %s", got, tc.window)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			body := reqs[0].Send.MessageBody
			reqs[0].Send.MessageBody = ""
			if diff := cmp.Diff(tc.want, reqs[0]); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			var fields map[string]any
			if err := json.Unmarshal([]byte(body), &fields); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			wantFields := map[string]any{"kind": "dunning_letter", "tenant": "acme", "customer": "C4", "attempt_id": "cyc-0a1b", "debt": "INV-9",
				"subject": message().Content.Subject, "text": message().Content.Text, "queued_at": "2026-11-03T19:05:06.000007Z"}
			if diff := cmp.Diff(wantFields, fields); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			// The ERP holds the postal address: it never leaves Recoup.
			if strings.Contains(body, "Main St") {
				t.Errorf("the body quotes the address: %s", body)
			}
			got, err := Decode([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			want := Request{Kind: KindDunningLetter, Tenant: "acme", Customer: "C4", AttemptID: "cyc-0a1b", Debt: "INV-9",
				Subject: message().Content.Subject, Text: message().Content.Text, QueuedAt: now.UTC()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFIFOIDs(t *testing.T) {
	long := strings.Repeat("x", 124)
	tests := []struct {
		name, tenant, id string
		digest           bool
	}{
		{"printable ASCII is kept", "acme", "C-4/2026", false},
		{"128 characters are kept", "acm", long, false},
		{"129 characters become a digest", "acme", long, true},
		{"a space becomes a digest", "acme", "C 4", true},
		{"non-ASCII becomes a digest", "acme", "Müller", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fifoID("group", tc.tenant, tc.id)
			if !tc.digest {
				if want := tc.tenant + "#" + tc.id; got != want {
					t.Errorf("fifoID = %q, want %q", got, want)
				}
				return
			}
			if !strings.HasPrefix(got, "sha256-") || len(got) != 71 || strings.Contains(got, "#") {
				t.Errorf("fifoID = %q, want a sha256- digest", got)
			}
			if fifoID("group", tc.tenant, tc.id) != got || fifoID("dedup", tc.tenant, tc.id) == got || fifoID("group", "other", tc.id) == got {
				t.Errorf("digest %q is not stable, or not specific to its use and tenant", got)
			}
		})
	}
}

func TestSendClassifiesProviderErrors(t *testing.T) {
	tests := []struct {
		name     string
		respond  respond
		class    sender.Class // 0: sent
		code     string
		requests int
	}{
		{"one throttle is retried by the SDK", then(1, sqsError(403, "RequestThrottled", "RequestThrottled", "Sender"), ok), 0, "", 2},
		{"throttling that lasts is transient", sqsError(403, "RequestThrottled", "RequestThrottled", "Sender"),
			sender.ClassTransient, "RequestThrottled", 3},
		{"a throttled KMS key is transient", sqsError(400, "KmsThrottled", "KMS.ThrottlingException", "Sender"),
			sender.ClassTransient, "KMS.ThrottlingException", 3},
		{"a lasting 500 is transient", sqsError(500, "InternalError", "InternalError", "Receiver"), sender.ClassTransient, "InternalError", 3},
		{"a lasting 503 is transient", sqsError(503, "ServiceUnavailable", "ServiceUnavailable", "Receiver"),
			sender.ClassTransient, "ServiceUnavailable", 3},
		{"a missing queue is permanent", sqsError(400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "Sender"),
			sender.ClassPermanent, "AWS.SimpleQueueService.NonExistentQueue", 1},
		{"a refused body is permanent", sqsError(400, "InvalidMessageContents", "InvalidMessageContents", "Sender"),
			sender.ClassPermanent, "InvalidMessageContents", 1},
		{"a disabled KMS key is permanent", sqsError(400, "KmsDisabled", "KMS.DisabledException", "Sender"),
			sender.ClassPermanent, "KMS.DisabledException", 1},
		{"access denied is permanent", sqsError(403, "AccessDenied", "AccessDenied", "Sender"), sender.ClassPermanent, "AccessDenied", 1},
		{"a lost answer is in doubt and not retried", drop, sender.ClassInDoubt, "NoAnswer", 1},
		{"an unreadable answer is in doubt", func(_ int, w http.ResponseWriter, _ wireSend) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = io.WriteString(w, "{not json")
		}, sender.ClassInDoubt, "UnreadableAnswer", 1},
		{"an answer without a MessageId is in doubt", func(_ int, w http.ResponseWriter, in wireSend) {
			reply(w, 200, map[string]string{"MD5OfMessageBody": md5Hex(in.MessageBody)})
		}, sender.ClassInDoubt, "NoMessageId", 1},
		{"the MD5 of another body is in doubt", func(_ int, w http.ResponseWriter, _ wireSend) {
			reply(w, 200, map[string]string{"MessageId": "msg-1", "MD5OfMessageBody": md5Hex("something else")})
		}, sender.ClassInDoubt, "ChecksumMismatch", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, s := fake(t, fifoQueue, tc.respond)
			rc, err := s.Send(context.Background(), message())
			if tc.class == 0 {
				if err != nil || rc.ProviderID != "msg-1" {
					t.Fatalf("Send = %+v, %v; want a receipt for msg-1", rc, err)
				}
			} else {
				var pe *sender.ProviderError
				if !errors.As(err, &pe) || pe.Class != tc.class || pe.Code != tc.code {
					t.Fatalf("Send error %v, want %s %s", err, tc.class, tc.code)
				}
				if strings.Contains(pe.Error(), "Main St") {
					t.Errorf("the error text quotes the provider's message: %s", pe.Error())
				}
			}
			if n := len(f.requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// A request that never reached SQS (nothing listens) is transient, and the
// SDK tries it again before giving up.
func TestSendNotSentIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	s, err := New(client(endpoint), Options{QueueURL: stdQueue})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), message())
	var pe *sender.ProviderError
	if !errors.As(err, &pe) || pe.Class != sender.ClassTransient || pe.Code != "NotSent" {
		t.Fatalf("Send error %v, want transient NotSent", err)
	}
}

func TestSendRefusesIncompleteMessages(t *testing.T) {
	tests := []struct {
		name string
		edit func(*sender.Message)
	}{
		{"not a letter", func(m *sender.Message) { m.Channel = compliance.ChannelEmail }},
		{"no subject", func(m *sender.Message) { m.Content.Subject = "" }},
		{"a blank subject", func(m *sender.Message) { m.Content.Subject = " \n" }},
		{"no text", func(m *sender.Message) { m.Content.Text = "" }},
		{"no tenant", func(m *sender.Message) { m.Tenant = "" }},
		{"no customer", func(m *sender.Message) { m.Customer = "" }},
		{"no attempt id", func(m *sender.Message) { m.AttemptID = "" }},
		{"a '#' in the customer id", func(m *sender.Message) { m.Customer = "C#4" }},
		{"over SQS's size", func(m *sender.Message) { m.Content.Text = strings.Repeat("x", maxBytes) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, s := fake(t, fifoQueue, ok)
			m := message()
			tc.edit(&m)
			_, err := s.Send(context.Background(), m)
			var pe *sender.ProviderError
			if !errors.As(err, &pe) || pe.Class != sender.ClassPermanent || pe.Code != "InvalidMessage" {
				t.Errorf("Send error %v, want permanent InvalidMessage", err)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
}

func TestNew(t *testing.T) {
	api := client("http://127.0.0.1:1")
	tests := []struct {
		name    string
		api     API
		opts    Options
		wantErr bool
	}{
		{"a queue URL is enough", api, Options{QueueURL: stdQueue}, false},
		{"no client", nil, Options{QueueURL: stdQueue}, true},
		{"no queue URL", api, Options{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.api, tc.opts)
			if (err != nil) != tc.wantErr {
				t.Errorf("New error %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeRefusesOtherKinds(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"another kind", `{"kind":"dead_letter","tenant":"acme"}`},
		{"no kind", `{"tenant":"acme"}`},
		{"not JSON", `dunning_letter`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode([]byte(tc.body)); err == nil {
				t.Errorf("Decode(%s) accepted it", tc.body)
			}
		})
	}
}
