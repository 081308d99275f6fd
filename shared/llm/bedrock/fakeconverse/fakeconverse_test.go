package fakeconverse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

const model = "amazon.nova-micro-v1:0"

// valid is a minimal request body the service accepts.
const valid = `{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"system":[{"text":"Be brief."}],"inferenceConfig":{"maxTokens":50,"temperature":0.2,"topP":0.9}}`

// post sends a body to the fake, signed with SigV4 for "bedrock" unless
// sign is false, and returns the status, the error code and the body.
func post(t *testing.T, url, path, contentType, body string, sign bool) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if sign {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code, _, _ := strings.Cut(resp.Header.Get("x-amzn-ErrorType"), ":")
	return resp.StatusCode, code, b
}

const path = "/model/amazon.nova-micro-v1%3A0/converse"

// TestRefusals: the fake refuses what the service refuses, with the
// service's status and error type.
func TestRefusals(t *testing.T) {
	srv := httptest.NewServer(New(model))
	defer srv.Close()
	msg := func(role, text string) string {
		return `{"role":"` + role + `","content":[{"text":` + jsonString(text) + `}]}`
	}
	body := func(msgs ...string) string { return `{"messages":[` + strings.Join(msgs, ",") + `]}` }
	for _, tc := range []struct {
		name        string
		path        string
		contentType string
		body        string
		unsigned    bool
		status      int
		code        string
	}{
		{"valid", path, "application/json", valid, false, 200, ""},
		{"unsigned", path, "application/json", valid, true, 403, "MissingAuthenticationTokenException"},
		{"wrong content type", path, "text/plain", valid, false, 415, "UnsupportedMediaTypeException"},
		{"unknown operation", "/model/x/invoke-stream", "application/json", valid, false, 404, "UnknownOperationException"},
		{"unknown model", "/model/nope/converse", "application/json", valid, false, 400, "ValidationException"},
		{"not JSON", path, "application/json", `{"messages":`, false, 400, "ValidationException"},
		{"unknown field", path, "application/json", `{"messages":[],"temprature":1}`, false, 400, "ValidationException"},
		{"no messages", path, "application/json", `{}`, false, 400, "ValidationException"},
		{"starts with the assistant", path, "application/json", body(msg("assistant", "Hi")), false, 400, "ValidationException"},
		{"roles do not alternate", path, "application/json", body(msg("user", "a"), msg("user", "b")), false, 400, "ValidationException"},
		{"unknown role", path, "application/json", body(msg("system", "a")), false, 400, "ValidationException"},
		{"blank text", path, "application/json", body(msg("user", " ")), false, 400, "ValidationException"},
		{"no content", path, "application/json", `{"messages":[{"role":"user","content":[]}]}`, false, 400, "ValidationException"},
		{"two union members", path, "application/json", `{"messages":[{"role":"user","content":[{"text":"a","image":{}}]}]}`, false, 400, "ValidationException"},
		{"image content", path, "application/json", `{"messages":[{"role":"user","content":[{"image":{}}]}]}`, false, 400, "ValidationException"},
		{"temperature above 1", path, "application/json", `{"messages":[` + msg("user", "a") + `],"inferenceConfig":{"temperature":1.5}}`, false, 400, "ValidationException"},
		{"no tokens", path, "application/json", `{"messages":[` + msg("user", "a") + `],"inferenceConfig":{"maxTokens":0}}`, false, 400, "ValidationException"},
		{"blank system", path, "application/json", `{"messages":[` + msg("user", "a") + `],"system":[{"text":""}]}`, false, 400, "ValidationException"},
		{"other members accepted", path, "application/json", `{"messages":[` + msg("user", "a") + `],"requestMetadata":{"k":"v"},"performanceConfig":{"latency":"standard"}}`, false, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, b := post(t, srv.URL, tc.path, tc.contentType, tc.body, !tc.unsigned)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %q, want %d %q: %s", status, code, tc.status, tc.code, b)
			}
			if tc.status != 200 {
				var e map[string]string
				if err := json.Unmarshal(b, &e); err != nil || e["message"] == "" {
					t.Errorf("error body %s", b)
				}
			}
		})
	}
}

// TestBadSignature: a SigV4 header for another service is refused.
func TestBadSignature(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(valid))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Date", "20250101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestResponseShape: a success carries exactly ConverseResponse's members.
func TestResponseShape(t *testing.T) {
	fake := New()
	fake.Enqueue(Text("Hello there, how can I help?"))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	status, _, b := post(t, srv.URL, path, "application/json", valid, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"metrics", "output", "stopReason", "usage"}, keys); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	want := map[string]any{"message": map[string]any{"role": "assistant", "content": []any{map[string]any{"text": "Hello there, how can I help?"}}}}
	if diff := cmp.Diff(want, got["output"]); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	usage := got["usage"].(map[string]any)
	if usage["inputTokens"].(float64) != float64(tokens(len("Be brief.")+len("Hello"))) || usage["outputTokens"].(float64) != 7 ||
		usage["totalTokens"].(float64) != usage["inputTokens"].(float64)+7 || got["stopReason"] != "end_turn" {
		t.Errorf("usage %v stop %v", usage, got["stopReason"])
	}
}

// TestTokenLimit: a reply over maxTokens is cut and says so.
func TestTokenLimit(t *testing.T) {
	fake := New()
	fake.Enqueue(Text(strings.Repeat("word ", 100)))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	_, _, b := post(t, srv.URL, path, "application/json", strings.Replace(valid, `"maxTokens":50`, `"maxTokens":5`, 1), true)
	var got response
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.StopReason != "max_tokens" || got.Usage.OutputTokens != 5 || len(got.Output.Message.Content[0].Text) != 20 {
		t.Errorf("got %+v", got)
	}
}

// TestScript: queued behaviours play in order, then the default.
func TestScript(t *testing.T) {
	fake := New()
	fake.Enqueue(Throttle(), Text("one"))
	fake.SetDefault(Text("default"))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var got []string
	for range 3 {
		status, code, b := post(t, srv.URL, path, "application/json", valid, true)
		got = append(got, strings.TrimSpace(string(rune('0'+status/100)))+code+textOf(b))
	}
	if diff := cmp.Diff([]string{"4ThrottlingException", "2one", "2default"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range fake.Calls() {
		names = append(names, c.Behaviour)
	}
	if diff := cmp.Diff([]string{"fail:ThrottlingException", "text", "text"}, names); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestDelayGivesUp: a delayed answer stops when the client goes away.
func TestDelayGivesUp(t *testing.T) {
	fake := New()
	fake.Enqueue(Delay(time.Minute, Good()))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(valid))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(valid))
	_ = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "a", SecretAccessKey: "b"}, req, hex.EncodeToString(sum[:]), "bedrock", "us-east-1", time.Now())
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("no timeout")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the delay did not end with the client")
	}
}

func textOf(b []byte) string {
	var r response
	if json.Unmarshal(b, &r) != nil || len(r.Output.Message.Content) == 0 {
		return ""
	}
	return r.Output.Message.Content[0].Text
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestWrongAmount(t *testing.T) {
	for in, want := range map[string]string{"$2,000.00": "$3,000.00", "¥90": "¥10", "1.500 KWD": "2.500 KWD", "x": "x1"} {
		if got := wrongAmount(in); got != want {
			t.Errorf("wrongAmount(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecodeRequest: the decoder never panics, and what it accepts
// re-encodes to a body it accepts again, unchanged.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"text":"b"}]}]}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"image":{}}]}]}`))
	f.Add([]byte(`{"messages":null,"inferenceConfig":{"temperature":-0}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, apiErr := DecodeRequest(body)
		if apiErr != nil {
			if apiErr.Status != 400 || apiErr.Code != "ValidationException" || apiErr.Message == "" {
				t.Fatalf("error %+v", apiErr)
			}
			return
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		again, apiErr := DecodeRequest(js)
		if apiErr != nil {
			t.Fatalf("re-encoded body refused: %v\n%s", apiErr, js)
		}
		if !reflect.DeepEqual(r.Messages, again.Messages) || !reflect.DeepEqual(r.System, again.System) {
			t.Fatalf("round trip changed the conversation")
		}
		if !bytes.Equal(mustJSON(r.InferenceConfig), mustJSON(again.InferenceConfig)) {
			t.Fatalf("round trip changed the inference config")
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// FuzzModelID: any path either yields an id that re-escapes to a path
// yielding the same id, or an error.
func FuzzModelID(f *testing.F) {
	f.Add(path)
	f.Add("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x/converse")
	f.Add("/model//converse")
	f.Add("/model/%zz/converse")
	f.Fuzz(func(t *testing.T, p string) {
		id, err := ModelID(p)
		if err != nil {
			return
		}
		if id == "" {
			t.Fatal("empty id accepted")
		}
		again, err := ModelID("/model/" + escapeLabel(id) + "/converse")
		if err != nil || again != id {
			t.Fatalf("%q: again %q, %v", id, again, err)
		}
	})
}

// escapeLabel escapes as the SDK escapes an HTTP label: everything but
// unreserved characters.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}
