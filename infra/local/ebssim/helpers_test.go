package ebssim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Seeded ids, deterministic from a fresh server: C-1 (USD, INV-1, INV-2)
// then C-2 (EUR, INV-9).
const (
	acct1, party1, profile1 = "1001", "5001", "7001"
	trx1, delinq1           = "20001", "30001"
	trx2, delinq2           = "20002", "30002"
	acct2, party2           = "1002", "5002"
	trx9, delinq9           = "20003", "30003"
)

func newSim(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Config{})
	if _, err := s.Seed([]AccountSeed{
		{Number: "C-1", Currency: "USD", Transactions: []string{"INV-1", "INV-2"}},
		{Number: "C-2", Currency: "EUR", Transactions: []string{"INV-9"}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func restHeader() map[string]any {
	return map[string]any{"Responsibility": "RECEIVABLES_MANAGER", "RespApplication": "AR",
		"SecurityGroup": "STANDARD", "NLSLanguage": "AMERICAN", "Org_Id": "204"}
}

func envelope(method string, in map[string]any) []byte {
	b, err := json.Marshal(map[string]any{strings.ToUpper(method) + "_Input": map[string]any{
		"RESTHeader": restHeader(), "InputParameters": in}})
	if err != nil {
		panic(err)
	}
	return b
}

func servicePath(alias, method string) string { return restPrefix + alias + "/" + method + "/" }

// request is a service call as the contract frames it, with Basic auth.
func request(base, alias, method string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, base+servicePath(alias, method), bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.SetBasicAuth("RECOUP_ISG", "welcome1")
	return r
}

func do(t testing.TB, c *http.Client, r *http.Request) (int, map[string]any) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", resp.StatusCode, err, b)
	}
	return resp.StatusCode, out
}

// call makes a service call with Basic auth and answers its
// OutputParameters (nil on an ISG fault).
func call(t testing.TB, ts *httptest.Server, alias, method string, in map[string]any) (int, map[string]any) {
	t.Helper()
	status, out := do(t, nil, request(ts.URL, alias, method, envelope(method, in)))
	op, _ := out["OutputParameters"].(map[string]any)
	return status, op
}

func faultCode(out map[string]any) string {
	f, _ := out["ISGServiceFault"].(map[string]any)
	c, _ := f["Code"].(string)
	return c
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func postJSON(t testing.TB, url, body string) (int, map[string]any) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return do(t, nil, r)
}

func applied(t testing.TB, ts *httptest.Server) map[string]int {
	t.Helper()
	var out map[string]int
	getJSON(t, ts.URL+"/_sim/applied", &out)
	return out
}

// edit returns in with the value at a dotted path (records only) set, or
// removed when v is nil.
func edit(in map[string]any, path string, v any) map[string]any {
	m := in
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	if v == nil {
		delete(m, parts[len(parts)-1])
	} else {
		m[parts[len(parts)-1]] = v
	}
	return in
}

func std() map[string]any {
	return map[string]any{"P_API_VERSION": "1.0", "P_INIT_MSG_LIST": "T", "P_COMMIT": "T"}
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func noteIn(key string) map[string]any {
	return merge(std(), map[string]any{"P_ORG_ID": "204", "P_SOURCE_OBJECT_ID": acct1,
		"P_SOURCE_OBJECT_CODE": "IEX_ACCOUNT", "P_NOTES": "Customer says the invoice is paid next week",
		"P_NOTE_STATUS": "I", "P_NOTE_TYPE": "IEX_COLLECTIONS", "P_ENTERED_DATE": "2026-11-02T10:15:00Z",
		"P_ATTRIBUTE15": key,
		"P_JTF_NOTE_CONTEXTS_TAB": map[string]any{"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []any{
			map[string]any{"NOTE_CONTEXT_TYPE": "PARTY", "NOTE_CONTEXT_TYPE_ID": party1}}}})
}

func taskIn(key string) map[string]any {
	return merge(std(), map[string]any{"P_TASK_NAME": "Call back about INV-1", "P_TASK_TYPE_NAME": "Call",
		"P_TASK_STATUS_NAME": "Open", "P_DESCRIPTION": "Promised callback", "P_OWNER_TYPE_CODE": "RS_EMPLOYEE",
		"P_OWNER_ID": "100010", "P_CUSTOMER_ID": party1, "P_CUST_ACCOUNT_ID": acct1,
		"P_PLANNED_END_DATE": "2026-11-09", "P_SOURCE_OBJECT_TYPE_CODE": "PARTY", "P_SOURCE_OBJECT_ID": party1,
		"P_ATTRIBUTE15": key})
}

func promiseIn(key, date string) map[string]any {
	return merge(std(), map[string]any{"P_PROMISE_REC": map[string]any{"PROMISE_AMOUNT": "180.00",
		"CURRENCY_CODE": "USD", "PROMISE_DATE": date, "PROMISE_TARGET": "INVOICES", "CUST_ACCOUNT_ID": acct1,
		"DELINQUENCY_ID": delinq1, "TAKEN_BY_RESOURCE_ID": "100010", "NOTE": "Will pay by card",
		"ATTRIBUTES": map[string]any{"ATTRIBUTE15": key}}})
}

func disputeIn(key string) map[string]any {
	return merge(std(), map[string]any{"P_DISP_HEADER_REC": map[string]any{"CUST_TRX_ID": trx2,
		"LINE_CREDIT_FLAG": "N", "LINE_AMT": "-25.50", "CM_REASON_CODE": "PRICING_ERROR",
		"COMMENTS": "Wrong unit price", "DELINQUENCY_ID": delinq2, "ATTRIBUTE15": key}})
}

func dunningIn(key string) map[string]any {
	return map[string]any{"P_CUST_ACCOUNT_ID": acct1, "P_KEY": key, "P_SUBJECT": "Overdue invoices", "P_TEXT": "Please pay."}
}

func applyIn(key string) map[string]any {
	return merge(std(), map[string]any{"P_RECEIPT_NUMBER": "R-77", "P_CUSTOMER_TRX_ID": trx1,
		"P_AMOUNT_APPLIED": "100.00", "P_ORG_ID": "204", "P_ATTRIBUTE_REC": map[string]any{"ATTRIBUTE15": key}})
}

func profileIn(hold, ovn string) map[string]any {
	return map[string]any{"P_INIT_MSG_LIST": "T", "P_OBJECT_VERSION_NUMBER": ovn,
		"P_CUSTOMER_PROFILE_REC": map[string]any{"CUST_ACCOUNT_PROFILE_ID": profile1, "CREDIT_HOLD": hold}}
}

// outputs is a success's OutputParameters with the given extras.
func outputs(extra map[string]any) map[string]any {
	return merge(map[string]any{"X_RETURN_STATUS": "S", "X_MSG_COUNT": "0", "X_MSG_DATA": ""}, extra)
}

// serve serves s over HTTP for the test and answers its base URL.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}
