package fakeconverse

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/drafting"
)

// bodyFor is a Converse request whose prompt carries a facts block for
// the named customer, as drafting builds it.
func bodyFor(t *testing.T, customer string) string {
	t.Helper()
	facts, err := json.Marshal(drafting.FactsBlock{Version: drafting.PromptVersion, Channel: "email", Tone: "friendly",
		Creditor: "Acme Supply", Customer: customer, Greeting: customer, Signature: "Acme Supply",
		Invoices: []drafting.BlockInvoice{{Number: "INV-1", Amount: "$20.00", Due: "March 5, 2025"}}, Total: "$20.00"})
	if err != nil {
		t.Fatal(err)
	}
	prompt, _ := json.Marshal("Write the email message now.\n\n<facts>" + string(facts) + "</facts>")
	return `{"messages":[{"role":"user","content":[{"text":` + string(prompt) + `}]}],"inferenceConfig":{"maxTokens":400}}`
}

func control(t *testing.T, url, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestControlScriptsOneCustomer: a script over HTTP plays for its own
// customer's calls only, in order, then the default; the call log
// reports them per customer without the prompt.
func TestControlScriptsOneCustomer(t *testing.T) {
	fake := New()
	mux := http.NewServeMux()
	mux.Handle(ControlPrefix, fake.Control())
	mux.Handle("/", fake)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if status, body := control(t, srv.URL, http.MethodPost, ControlPrefix+"script",
		`{"customer":"Pat Doe","behaviours":["wrong_amount","throttle"]}`); status != http.StatusNoContent {
		t.Fatalf("POST script = %d %s, want 204", status, body)
	}
	var got []string
	for _, who := range []string{"Sam Roe", "Pat Doe", "Pat Doe", "Pat Doe"} {
		status, code, b := post(t, srv.URL, path, "application/json", bodyFor(t, who), true)
		switch {
		case status != http.StatusOK:
			got = append(got, who+": "+code)
		case strings.Contains(textOf(b), "$30.00"):
			got = append(got, who+": wrong amount")
		case strings.Contains(textOf(b), "$20.00"):
			got = append(got, who+": good")
		default:
			got = append(got, who+": "+textOf(b))
		}
	}
	want := []string{"Sam Roe: good", "Pat Doe: wrong amount", "Pat Doe: ThrottlingException", "Pat Doe: good"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	status, body := control(t, srv.URL, http.MethodGet, ControlPrefix+"calls?customer=Pat+Doe", "")
	var calls []CallView
	if status != http.StatusOK || json.Unmarshal([]byte(body), &calls) != nil {
		t.Fatalf("GET calls = %d %s", status, body)
	}
	wantCalls := []CallView{
		{ModelID: model, Behaviour: "wrong_amount", Status: 200},
		{ModelID: model, Behaviour: "fail:ThrottlingException", Status: 429, ErrorCode: "ThrottlingException"},
		{ModelID: model, Behaviour: "good", Status: 200},
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if strings.Contains(body, "Write the email") {
		t.Errorf("the call log shows the prompt: %s", body)
	}
}

// TestControlRefusals: a bad script or path is refused with the reason,
// and nothing is queued.
func TestControlRefusals(t *testing.T) {
	fake := New()
	srv := httptest.NewServer(fake.Control())
	defer srv.Close()
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"unknown behaviour", http.MethodPost, "script", `{"customer":"A","behaviours":["good","rude"]}`, 400, `behaviours[1]: unknown behaviour \"rude\" (want one of good, link,`},
		{"unknown field", http.MethodPost, "script", `{"customer":"A","behaviour":["good"]}`, 400, `unknown field \"behaviour\"`},
		{"no customer", http.MethodPost, "script", `{"customer":" ","behaviours":["good"]}`, 400, `\"customer\" is empty`},
		{"no behaviours", http.MethodPost, "script", `{"customer":"A","behaviours":[]}`, 400, `\"behaviours\" is empty`},
		{"not json", http.MethodPost, "script", `good`, 400, "script: invalid character"},
		{"calls without customer", http.MethodGet, "calls", "", 400, "customer query parameter is required"},
		{"unknown path", http.MethodGet, "scripts", "", 404, "GET /_fake/scripts"},
		{"wrong method", http.MethodGet, "script", "", 404, "GET /_fake/script"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := control(t, srv.URL, tc.method, ControlPrefix+tc.path, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s = %d %s, want %d containing %q", tc.method, tc.path, status, body, tc.status, tc.want)
			}
		})
	}
	if got := fake.next("A"); got.Name() != "good" {
		t.Errorf("after refused scripts the next behaviour for A is %q, want the default", got.Name())
	}
}
