package outbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 5, 4, 15, 4, 5, 0, time.UTC)

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Path: filepath.Join(t.TempDir(), "box", "outbox.jsonl"), Region: "us-east-1", Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func auth(service string) string {
	return "AWS4-HMAC-SHA256 Credential=local/20260504/us-east-1/" + service + "/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + sig
}

// call sends a raw request the way the SDKs frame it.
type call struct {
	method, path, target, contentType, authorization, body string
}

func (c call) do(s *Server) *httptest.ResponseRecorder {
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	r.Header.Set("Content-Type", c.contentType)
	if c.target != "" {
		r.Header.Set("X-Amz-Target", c.target)
	}
	if c.authorization != "" {
		r.Header.Set("Authorization", c.authorization)
	}
	r.Header.Set("X-Amz-Date", "20260504T150405Z")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func sesCall(body string) call {
	return call{"POST", "/v2/email/outbound-emails", "", "application/json", auth("ses"), body}
}

func smsCall(body string) call {
	return call{"POST", "/", smsTarget, "application/x-amz-json-1.0", auth("sms-voice"), body}
}

func connectCall(body string) call {
	return call{"PUT", "/contact/outbound-voice", "", "application/json", auth("connect"), body}
}

const (
	goodEmail = `{"FromEmailAddress":"billing@acme.example","Destination":{"ToAddresses":["pat@example.com"]},` +
		`"Content":{"Simple":{"Subject":{"Data":"Overdue","Charset":"UTF-8"},"Body":{"Text":{"Data":"Please pay"}}}},` +
		`"EmailTags":[{"Name":"recoup_tenant","Value":"acme"},{"Name":"recoup_customer","Value":"C1"}],"ConfigurationSetName":"cs"}`
	goodText = `{"DestinationPhoneNumber":"+16175550142","OriginationIdentity":"+16175550100","MessageBody":"Pay INV-1",` +
		`"MessageType":"TRANSACTIONAL","Context":{"recoup_tenant":"acme","recoup_customer":"C1","recoup_attempt":"a1"}}`
	goodCall = `{"InstanceId":"i1","ContactFlowId":"f1","DestinationPhoneNumber":"+16175550142","SourcePhoneNumber":"+16175550100",` +
		`"ClientToken":"tok","Attributes":{"recoup_tenant":"acme","recoup_customer":"C1","recoup_script":"Hello"}}`
)

// TestWireRefusals: each service's checks, answered in its own error shape.
func TestWireRefusals(t *testing.T) {
	tests := []struct {
		name     string
		c        call
		status   int
		code     string
		bodyType string // __type of AWS JSON 1.0 answers
	}{
		{"unsigned", call{"POST", "/v2/email/outbound-emails", "", "application/json", "", goodEmail},
			403, "MissingAuthenticationTokenException", ""},
		{"not SigV4", call{"POST", "/v2/email/outbound-emails", "", "application/json", "Bearer x", goodEmail},
			403, "IncompleteSignatureException", ""},
		{"signed for another service", call{"POST", "/v2/email/outbound-emails", "", "application/json", auth("connect"), goodEmail},
			403, "InvalidSignatureException", ""},
		{"signed for another region", call{"POST", "/v2/email/outbound-emails", "", "application/json",
			strings.Replace(auth("ses"), "us-east-1", "eu-west-1", 1), goodEmail}, 403, "InvalidSignatureException", ""},
		{"SES wrong content type", call{"POST", "/v2/email/outbound-emails", "", "text/plain", auth("ses"), goodEmail},
			400, "SerializationException", ""},
		{"SES wrong method", call{"PUT", "/v2/email/outbound-emails", "", "application/json", auth("ses"), goodEmail},
			405, "UnknownOperationException", ""},
		{"SES not JSON", sesCall(`{`), 400, "SerializationException", ""},
		{"SES no destination", sesCall(`{"FromEmailAddress":"a@b.c","Content":{"Simple":{}}}`), 400, "BadRequestException", ""},
		{"SES illegal address", sesCall(strings.Replace(goodEmail, "pat@example.com", "pat at example", 1)), 400, "BadRequestException", ""},
		{"SES raw content", sesCall(strings.Replace(goodEmail, `"Simple":`, `"Raw":{"Data":"eA=="},"X":`, 1)), 400, "BadRequestException", ""},
		{"SES no body", sesCall(strings.Replace(goodEmail, `"Text":{"Data":"Please pay"}`, `"Text":null`, 1)), 400, "BadRequestException", ""},
		{"SES tag value SES refuses", sesCall(strings.Replace(goodEmail, `"Value":"C1"`, `"Value":"C 1"`, 1)), 400, "BadRequestException", ""},
		{"SMS not E.164", smsCall(strings.Replace(goodText, "+16175550142", "6175550142", 1)),
			400, "ValidationException", "com.amazonaws.pinpointsmsvoicev2#ValidationException"},
		{"SMS no body", smsCall(strings.Replace(goodText, `"MessageBody":"Pay INV-1",`, "", 1)),
			400, "ValidationException", "com.amazonaws.pinpointsmsvoicev2#ValidationException"},
		{"SMS bad message type", smsCall(strings.Replace(goodText, "TRANSACTIONAL", "URGENT", 1)),
			400, "ValidationException", "com.amazonaws.pinpointsmsvoicev2#ValidationException"},
		{"SMS JSON 1.1 content type", call{"POST", "/", smsTarget, "application/x-amz-json-1.1", auth("sms-voice"), goodText},
			400, "SerializationException", "com.amazonaws.pinpointsmsvoicev2#SerializationException"},
		{"SMS other operation", call{"POST", "/", "PinpointSMSVoiceV2.SendMediaMessage", "application/x-amz-json-1.0", auth("sms-voice"), goodText},
			400, "UnknownOperationException", "com.amazonaws.pinpointsmsvoicev2#UnknownOperationException"},
		{"Connect no caller id or queue", connectCall(strings.Replace(goodCall, `"SourcePhoneNumber":"+16175550100",`, "", 1)),
			400, "InvalidRequestException", ""},
		{"Connect no flow", connectCall(strings.Replace(goodCall, `"ContactFlowId":"f1",`, "", 1)), 400, "InvalidParameterException", ""},
		{"Connect attribute key with a dot", connectCall(strings.Replace(goodCall, "recoup_script", "recoup.script", 1)),
			400, "InvalidParameterException", ""},
		{"Connect POST instead of PUT", call{"POST", "/contact/outbound-voice", "", "application/json", auth("connect"), goodCall},
			405, "UnknownOperationException", ""},
		{"Connect tag of an unknown contact", call{"POST", "/contact/tags", "", "application/json", auth("connect"),
			`{"InstanceId":"i1","ContactId":"nope","Tags":{"recoup_tenant":"acme"}}`}, 404, "ResourceNotFoundException", ""},
		{"unknown path", call{"GET", "/v2/email/identities", "", "application/json", auth("ses"), ""}, 404, "UnknownOperationException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			w := tc.c.do(s)
			if w.Code != tc.status || w.Header().Get("X-Amzn-ErrorType") != tc.code {
				t.Fatalf("answer %d %q, want %d %q; body %s", w.Code, w.Header().Get("X-Amzn-ErrorType"), tc.status, tc.code, w.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body %q: %v", w.Body, err)
			}
			if tc.bodyType != "" && body["__type"] != tc.bodyType {
				t.Errorf("__type = %v, want %s", body["__type"], tc.bodyType)
			}
			if body["message"] == nil && body["Message"] == nil {
				t.Errorf("error body has no message: %s", w.Body)
			}
			if es, _ := Read(s.Path()); len(es) != 0 {
				t.Errorf("a refused request reached the outbox: %+v", es)
			}
		})
	}
}

func TestAcceptedSendsAreRecorded(t *testing.T) {
	s := newServer(t)
	for _, c := range []call{sesCall(goodEmail), smsCall(goodText), connectCall(goodCall), connectCall(goodCall)} {
		if w := c.do(s); w.Code != 200 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, w.Code, w.Body)
		}
	}
	es, err := Read(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if es[i].ProviderID == "" {
			t.Errorf("entry %d has no provider id", i)
		}
		es[i].ProviderID = ""
	}
	want := []Entry{
		{Time: t0, Service: "ses", Channel: "email", Tenant: "acme", Customer: "C1", To: []string{"pat@example.com"},
			From: "billing@acme.example", Subject: "Overdue", Text: "Please pay", ConfigurationSet: "cs",
			Tags: map[string]string{"recoup_tenant": "acme", "recoup_customer": "C1"}},
		{Time: t0, Service: "sms-voice", Channel: "sms", Tenant: "acme", Customer: "C1", Attempt: "a1", To: []string{"+16175550142"},
			From: "+16175550100", Text: "Pay INV-1",
			Tags: map[string]string{"recoup_tenant": "acme", "recoup_customer": "C1", "recoup_attempt": "a1"}},
		// The second call with the same ClientToken started nothing.
		{Time: t0, Service: "connect", Channel: "voice", Tenant: "acme", Customer: "C1", To: []string{"+16175550142"},
			From: "+16175550100", Script: "Hello", Instance: "i1", Flow: "f1",
			Tags: map[string]string{"recoup_tenant": "acme", "recoup_customer": "C1"}},
	}
	if diff := cmp.Diff(want, es); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

func TestSMSDryRunIsNotRecorded(t *testing.T) {
	s := newServer(t)
	if w := smsCall(strings.Replace(goodText, "{", `{"DryRun":true,`, 1)).do(s); w.Code != 200 {
		t.Fatalf("dry run: %d %s", w.Code, w.Body)
	}
	if es, _ := Read(s.Path()); len(es) != 0 {
		t.Errorf("dry run recorded: %+v", es)
	}
}

// TestFaultsAreConsumedInOrder: injected faults apply to the next sends of
// their service only; a throttled Connect call can be repeated with its
// token.
func TestFaultsAreConsumedInOrder(t *testing.T) {
	s := newServer(t)
	s.Inject(ServiceConnect, FaultThrottle, 1)
	s.Inject(ServiceConnect, FaultInternal, 1)
	codes := []int{}
	for range 3 {
		codes = append(codes, connectCall(goodCall).do(s).Code)
	}
	if w := sesCall(goodEmail).do(s); w.Code != 200 {
		t.Errorf("SES affected by Connect faults: %d", w.Code)
	}
	if diff := cmp.Diff([]int{429, 500, 200}, codes); diff != "" {
		t.Errorf("Connect answers (-want +got):\n%s", diff)
	}
	if es, _ := Read(s.Path()); len(es) != 2 {
		t.Errorf("outbox holds %d entries, want 2", len(es))
	}
}

// TestConcurrentSendsWriteWholeLines: many requests at once, every line
// whole and readable.
func TestConcurrentSendsWriteWholeLines(t *testing.T) {
	s := newServer(t)
	hs := httptest.NewServer(s)
	defer hs.Close()
	const n = 64
	long := strings.Repeat("x", 20000) // longer than a pipe buffer
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := strings.Replace(goodText, "Pay INV-1", fmt.Sprintf("%d %s", i, long[:1500]), 1)
			if i%2 == 0 {
				body = strings.Replace(goodEmail, "Please pay", fmt.Sprintf("%d %s", i, long), 1)
			}
			c := smsCall(body)
			if i%2 == 0 {
				c = sesCall(body)
			}
			req, _ := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			req.Header.Set("Authorization", c.authorization)
			req.Header.Set("X-Amz-Date", "20260504T150405Z")
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("send %d: %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	es, err := Read(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n {
		t.Fatalf("outbox holds %d entries, want %d", len(es), n)
	}
}

func TestStartOnlyOnLoopback(t *testing.T) {
	s := newServer(t)
	if _, err := s.Start("0.0.0.0:0"); err == nil {
		t.Fatal("Start accepted a non-loopback address")
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health: %d", resp.StatusCode)
	}
}
