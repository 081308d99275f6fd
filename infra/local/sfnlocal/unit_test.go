package sfnlocal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	if got, want := (Options{}).Args(), []string{"--port", "8083"}; !slices.Equal(got, want) {
		t.Errorf("Args() = %v, want %v", got, want)
	}
	got := Options{Port: 9, StateDir: "/s", LambdaEndpoint: "http://127.0.0.1:9001", Region: "eu-west-1", Account: "123456789012", WaitScale: 1.0 / 86400}.Args()
	want := []string{"--port", "9", "--state-dir", "/s", "--lambda-endpoint", "http://127.0.0.1:9001",
		"--region", "eu-west-1", "--account", "123456789012", "--wait-scale", "1.1574074074074073e-05"}
	if !slices.Equal(got, want) {
		t.Errorf("Args() = %v, want %v", got, want)
	}
}

func TestParseListening(t *testing.T) {
	for line, want := range map[string]string{
		"sfnlocal listening on http://127.0.0.1:8083":    "http://127.0.0.1:8083",
		"sfnlocal listening on http://127.0.0.1:1/\r":    "http://127.0.0.1:1",
		"sfnlocal listening on http://127.0.0.1:65536":   "",
		"sfnlocal listening on http://127.0.0.1:0":       "",
		"sfnlocal listening on http://127.0.0.1:080":     "",
		"sfnlocal listening on http://127.0.0.1":         "",
		"sfnlocal listening on http://0.0.0.0:8083":      "",
		"sfnlocal listening on https://127.0.0.1:8083":   "",
		"sfnlocal listening on http://u@127.0.0.1:8083":  "",
		"sfnlocal listening on http://127.0.0.1:8083/x":  "",
		"sfnlocal listening on http://127.0.0.1:8083?q":  "",
		"2026-01-01T00:00:00Z journal: 0 state machines": "",
		"": "",
	} {
		got, ok := parseListening(line)
		if got != want || ok != (want != "") {
			t.Errorf("parseListening(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

// FuzzParseListening checks that whatever the server prints, an accepted
// endpoint is a plain http URL on 127.0.0.1 with a valid port.
func FuzzParseListening(f *testing.F) {
	f.Add("sfnlocal listening on http://127.0.0.1:8083")
	f.Add("sfnlocal listening on http://127.0.0.1:0")
	f.Add("sfnlocal listening on http://[::1]:80")
	f.Add("sfnlocal listening on http://127.0.0.1:+80")
	f.Add("sfnlocal listening on http://127.0.0.1:80#x")
	f.Fuzz(func(t *testing.T, line string) {
		ep, ok := parseListening(line)
		if !ok {
			if ep != "" {
				t.Fatalf("rejected %q but returned %q", line, ep)
			}
			return
		}
		u, err := url.Parse(ep)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "" || u.Port() == "" ||
			strings.HasPrefix(u.Port(), "0") || len(u.Port()) > 5 {
			t.Fatalf("parseListening(%q) = %q", line, ep)
		}
	})
}

// Health wants a Step Functions answer: 200 with stateMachines.
func TestHealth(t *testing.T) {
	var body string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.ListStateMachines" {
			http.Error(w, "wrong target", http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"stateMachines":[]}`, true},
		{200, `{"TableNames":[]}`, false},
		{400, `{"__type":"UnknownOperationException"}`, false},
	} {
		status, body = tc.status, tc.body
		if err := Health(context.Background(), srv.URL); (err == nil) != tc.ok {
			t.Errorf("Health with %d %s = %v, want ok=%v", tc.status, tc.body, err, tc.ok)
		}
	}
	if err := Health(context.Background(), "http://127.0.0.1:1"); err == nil {
		t.Error("Health of a closed port succeeded")
	}
}
