package cycletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/llm/bedrock/fakeconverse"
	"github.com/recoup-dev/recoup/shared/sender"
)

// TestIntegrationCycleBadDraft scripts the local stack's fake Bedrock to
// draft badly for one customer each, and runs their cycles through the
// real state machine: a wrong amount is retried with the failure named
// and the retry goes out; two threats, or a model that only throttles,
// are replaced by the vetted template. Whatever reaches the outbox states
// the customer's true balance and no threat.
func TestIntegrationCycleBadDraft(t *testing.T) {
	s := setup(t)
	endpoint := os.Getenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
	if endpoint == "" {
		t.Skip("AWS_ENDPOINT_URL_BEDROCK_RUNTIME is not set: no fake Bedrock to script")
	}
	t.Parallel()
	for i, tc := range []struct {
		name      string
		script    []string
		source    string
		rejected  []string
		behaviour []string // what the fake did, in order
	}{
		{"wrong amount, then good", []string{"wrong_amount"}, "model_retry", []string{"amount"}, []string{"wrong_amount", "good"}},
		{"threat twice", []string{"threat", "threat"}, "template", []string{"banned_phrase"}, []string{"threat", "threat"}},
		// The SDK's standard retryer makes three attempts; then the
		// drafter gives up on the model.
		{"throttled", []string{"throttle", "throttle", "throttle"}, "template", []string{"model:ThrottlingException"},
			[]string{"fail:ThrottlingException", "fail:ThrottlingException", "fail:ThrottlingException"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("C-BAD-%d", i+1)
			// The name is the fake's key: the tenant in it keeps another
			// run on the same stack from playing this script.
			name := fmt.Sprintf("Pat Bad%d %s", i+1, s.tenant)
			p := s.consumerNamed(t, id, name, fmt.Sprintf("+1614555020%d", i+1), true)
			script(t, endpoint, name, tc.script)

			arn := s.start(t, p.id)
			s.parked(t, arn, p.id, "")
			var out struct {
				Decision cycle.Plan    `json:"decision"`
				Draft    cycle.Message `json:"draft"`
				Dispatch cycle.Sent    `json:"dispatch"`
			}
			exited(t, s.history(t, arn), "Send", 1, &out)
			if out.Draft.Source != tc.source || !slices.Equal(out.Draft.Rejected, tc.rejected) {
				t.Errorf("draft source %q rejected %v, want %q %v", out.Draft.Source, out.Draft.Rejected, tc.source, tc.rejected)
			}
			if got := calls(t, endpoint, name); !slices.Equal(got, tc.behaviour) {
				t.Errorf("the fake played %v, want %v", got, tc.behaviour)
			}
			if out.Dispatch.Status != sender.StatusSent {
				t.Fatalf("dispatch %+v, want the replaced draft sent", out.Dispatch)
			}
			sent := s.outboxOf(t, p.id)
			if len(sent) != 1 {
				t.Fatalf("outbox holds %d messages for %s, want 1", len(sent), p.id)
			}
			text := sent[0].Subject + "\n" + sent[0].Text + sent[0].Script
			if !strings.Contains(text, "$180.00") || strings.Contains(text, "$280.00") || strings.Contains(text, "arrested") {
				t.Errorf("the %s sent says:\n%s\nwant the true balance $180.00 and no threat", out.Decision.Channel, text)
			}
		})
	}
}

// script queues behaviours for the customer's next drafts on the fake
// (fakeconverse.Control).
func script(t *testing.T, endpoint, customer string, behaviours []string) {
	t.Helper()
	body, _ := json.Marshal(fakeconverse.Script{Customer: customer, Behaviours: behaviours})
	resp, err := http.Post(endpoint+fakeconverse.ControlPrefix+"script", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("script the fake Bedrock: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		t.Fatalf("script the fake Bedrock: %s %s", resp.Status, msg.String())
	}
}

// calls lists what the fake did for the customer's drafts.
func calls(t *testing.T, endpoint, customer string) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet,
		endpoint+fakeconverse.ControlPrefix+"calls?customer="+url.QueryEscape(customer), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the fake Bedrock's calls: %v", err)
	}
	defer resp.Body.Close()
	var views []fakeconverse.CallView
	if err := json.NewDecoder(resp.Body).Decode(&views); err != nil {
		t.Fatalf("the fake Bedrock's calls: %s: %v", resp.Status, err)
	}
	out := make([]string, len(views))
	for i, v := range views {
		out[i] = v.Behaviour
	}
	return out
}
