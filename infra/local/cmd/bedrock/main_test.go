package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// start runs the command on a free port and returns its endpoint, a cancel
// that delivers the "signal", and the channel run's result arrives on.
func start(t *testing.T) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--port", "0"}, pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no listening line: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "bedrock listening on ")
	if !ok || !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("listening line = %q, want bedrock listening on http://127.0.0.1:<port>", line)
	}
	t.Cleanup(cancel)
	return endpoint, cancel, done
}

func TestServesConverseAndHealth(t *testing.T) {
	endpoint, cancel, done := start(t)

	resp, err := http.Get(endpoint + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"bedrock-runtime"`) {
		t.Errorf("GET /health = %d %s, want 200 naming bedrock-runtime", resp.StatusCode, body)
	}

	// Through the real SDK client, as the draft function calls it; an ARN
	// model id checks that escaped paths reach the fake intact.
	client := bedrockruntime.New(bedrockruntime.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	for _, model := range []string{"anthropic.claude-3-haiku-20240307-v1:0", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"} {
		out, err := client.Converse(context.Background(), &bedrockruntime.ConverseInput{
			ModelId: aws.String(model),
			Messages: []brtypes.Message{{
				Role:    brtypes.ConversationRoleUser,
				Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "Write a reminder."}},
			}},
		})
		if err != nil {
			t.Fatalf("Converse(%s): %v", model, err)
		}
		msg, ok := out.Output.(*brtypes.ConverseOutputMemberMessage)
		if !ok || len(msg.Value.Content) == 0 {
			t.Fatalf("Converse(%s) output = %#v, want a message", model, out.Output)
		}
		if text, ok := msg.Value.Content[0].(*brtypes.ContentBlockMemberText); !ok || text.Value == "" {
			t.Errorf("Converse(%s) content = %#v, want text", model, msg.Value.Content[0])
		}
		if out.StopReason != brtypes.StopReasonEndTurn {
			t.Errorf("Converse(%s) stop reason = %s, want end_turn", model, out.StopReason)
		}
	}

	// The control API is served beside Converse, outside the model paths.
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/_fake/script", `{"customer":"Pat Doe","behaviours":["threat"]}`, http.StatusNoContent},
		{http.MethodPost, "/_fake/script", `{"customer":"Pat Doe","behaviours":["arrest"]}`, http.StatusBadRequest},
		{http.MethodGet, "/_fake/calls?customer=Pat+Doe", "", http.StatusOK},
	} {
		req, _ := http.NewRequest(c.method, endpoint+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if _, err := http.Get(endpoint + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative port", []string{"--port", "-1"}, "--port -1: want a port number from 0 to 65535"},
		{"port too large", []string{"--port=70000"}, "--port 70000: want a port number from 0 to 65535"},
		{"not a number", []string{"--port", "x"}, `invalid value "x" for flag -port`},
		{"unknown flag", []string{"--script", "f"}, "flag provided but not defined: -script"},
		{"extra argument", []string{"--port", "0", "extra"}, `unexpected arguments ["extra"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.wantErr) {
				t.Errorf("run(%q) error = %q, want it to contain %q", tt.args, got, tt.wantErr)
			}
		})
	}
}
