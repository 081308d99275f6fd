package d365sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The seeded data of most tests: C-1 (USD, INV-1, INV-2) and C-2 (EUR,
// on hold, INV-9), in usmf.
const (
	rec1, rec2, rec9 = "5637144576", "5637144577", "5637144578"
	markerA          = "recoup:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	markerB          = "recoup:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func newSim(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Config{})
	if _, err := s.Seed([]CustomerSeed{
		{Account: "C-1", Currency: "USD", Invoices: []string{"INV-1", "INV-2"}},
		{Account: "C-2", Currency: "EUR", OnHoldStatus: "All", Invoices: []string{"INV-9"}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// newToken fetches an access token as the adapter does.
func newToken(t testing.TB, base string) string {
	t.Helper()
	status, out := postForm(t, base+"/recoup-sim/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"recoup-d365"}, "client_secret": {"recoup-secret"}, "scope": {base + "/.default"}})
	tok, _ := out["access_token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("token: %d %v", status, out)
	}
	return tok
}

func postForm(t testing.TB, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, r)
}

// request is a data request framed as WIRE.md says, with a token.
func request(base, tok, method, path string, body any) *http.Request {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r, err := http.NewRequest(method, base+"/data/"+path+sep+"cross-company=true", rd)
	if err != nil {
		panic(err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("OData-Version", "4.0")
	r.Header.Set("OData-MaxVersion", "4.0")
	r.Header.Set("Accept", "application/json")
	if body != nil {
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	return r
}

// do sends r and decodes its JSON answer (nil for an empty one).
func do(t testing.TB, r *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", resp.StatusCode, err, b)
	}
	return resp.StatusCode, out
}

// errorText is an OData error answer's message and innererror message.
func errorText(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if in, ok := e["innererror"].(map[string]any); ok {
		m, _ := in["message"].(string)
		msg += ": " + m
	}
	return msg
}

func filter(f string) string { return url.QueryEscape(f) }

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func postJSON(t testing.TB, u, body string) (int, map[string]any) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return do(t, r)
}

func setFaults(t testing.TB, base, body string) {
	t.Helper()
	if status, out := postJSON(t, base+"/_sim/faults", body); status != 200 {
		t.Fatalf("set faults %s: %d %v", body, status, out)
	}
}

// Bodies as WIRE.md sends them.
func noteBody(marker string) map[string]any {
	return map[string]any{"dataAreaId": "usmf", "CustomerAccountNumber": "C-1", "TypeId": "Note", "Name": marker, "Notes": "Left a voicemail."}
}

func activityBody(marker string) map[string]any {
	return map[string]any{"dataAreaId": "usmf", "Category": "Task", "Purpose": marker + " Call back", "Notes": "Customer C-1: Call back",
		"StartDateTime": "2026-11-02T09:30:00Z", "EndDateTime": "2026-11-06T12:00:00Z", "Closed": "No"}
}

func disputeBody(marker string) map[string]any {
	return map[string]any{"dataAreaId": "usmf", "CustTrans": json.Number(rec1), "Status": "Disputed",
		"Note": "2026-11-02 " + marker + " Disputed 45.50 USD", "AmountCur": json.Number("45.50")}
}

const customer1 = "CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')"

// serve serves s over HTTP for the test and answers its base URL.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}
