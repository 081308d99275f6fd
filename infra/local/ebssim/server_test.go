package ebssim

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ISG refuses what does not follow the transport and envelope of WIRE.md
// before any PL/SQL runs, with an ISGServiceFault and an HTTP error.
func TestISGRefusals(t *testing.T) {
	good := envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})
	body := func(in map[string]any) []byte { // find_account with other InputParameters
		return envelope("find_account", in)
	}
	raw := func(s string) []byte { return []byte(s) }
	withHeader := func(h map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"FIND_ACCOUNT_Input": map[string]any{"RESTHeader": h,
			"InputParameters": map[string]any{"P_ACCOUNT_NUMBER": "C-1"}}})
		return b
	}
	header := func(k string, v any) map[string]any { return edit(restHeader(), k, v) }
	cases := []struct {
		name   string
		path   string // find_account when empty
		body   []byte
		change func(*http.Request)
		status int
		code   string
		says   string // in the fault's Message
	}{
		{name: "GET", change: func(r *http.Request) { r.Method = http.MethodGet }, status: 405, code: "ISG_METHOD_NOT_ALLOWED"},
		{name: "no credentials", change: func(r *http.Request) { r.Header.Del("Authorization") }, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE"},
		{name: "wrong password", change: func(r *http.Request) { r.SetBasicAuth("RECOUP_ISG", "nope") }, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE"},
		{name: "wrong user", change: func(r *http.Request) { r.SetBasicAuth("SYSADMIN", "welcome1") }, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE"},
		{name: "bearer instead of basic", change: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE"},
		{name: "unknown token", change: func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: "forged"})
		}, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE"},
		{name: "basic and token both", change: func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: "forged"})
		}, status: 401, code: "FND_SOA_AUTHENTICATION_FAILURE", says: "both"},
		{name: "unknown alias", path: servicePath("hz_cust_account", "find_account"), status: 404, code: "ISG_INVALID_ALIAS"},
		{name: "unknown method", path: servicePath("xx_recoup", "find_customer"), status: 404, code: "ISG_INVALID_FUNCTION"},
		{name: "method in upper case", path: servicePath("xx_recoup", "FIND_ACCOUNT"), status: 404, code: "ISG_INVALID_FUNCTION"},
		{name: "no trailing slash", path: restPrefix + "xx_recoup/find_account", status: 404, code: "ISG_INVALID_FUNCTION", says: "trailing slash"},
		{name: "extra path segment", path: restPrefix + "xx_recoup/find_account/x", status: 404, code: "ISG_INVALID_FUNCTION"},
		{name: "alias only", path: restPrefix + "xx_recoup/", status: 404, code: "ISG_INVALID_FUNCTION"},
		{name: "content type xml", change: func(r *http.Request) { r.Header.Set("Content-Type", "application/xml") }, status: 415, code: "ISG_UNSUPPORTED_MEDIA_TYPE"},
		{name: "no content type", change: func(r *http.Request) { r.Header.Del("Content-Type") }, status: 415, code: "ISG_UNSUPPORTED_MEDIA_TYPE"},
		{name: "accept xml", change: func(r *http.Request) { r.Header.Set("Accept", "application/xml") }, status: 406, code: "ISG_NOT_ACCEPTABLE"},
		{name: "no accept", change: func(r *http.Request) { r.Header.Del("Accept") }, status: 406, code: "ISG_NOT_ACCEPTABLE"},
		{name: "not JSON", body: raw(`{"FIND_ACCOUNT_Input":`), status: 400, code: "ISG_INVALID_PAYLOAD"},
		{name: "JSON array", body: raw(`[]`), status: 400, code: "ISG_INVALID_PAYLOAD"},
		{name: "trailing data", body: append(append([]byte{}, good...), '1'), status: 400, code: "ISG_INVALID_PAYLOAD"},
		{name: "other method's envelope", body: envelope("find_action", map[string]any{"P_KEY": "k"}), status: 400, code: "ISG_INVALID_PAYLOAD", says: "FIND_ACTION_Input"},
		{name: "lower-case envelope key", body: raw(`{"find_account_Input":{"RESTHeader":{},"InputParameters":{}}}`), status: 400, code: "ISG_INVALID_PAYLOAD"},
		{name: "two top-level keys", body: raw(`{"FIND_ACCOUNT_Input":{},"X":{}}`), status: 400, code: "ISG_INVALID_PAYLOAD", says: `"X"`},
		{name: "duplicate key", body: raw(`{"FIND_ACCOUNT_Input":{},"FIND_ACCOUNT_Input":{}}`), status: 400, code: "ISG_INVALID_PAYLOAD", says: "duplicate"},
		{name: "no InputParameters", body: raw(`{"FIND_ACCOUNT_Input":{"RESTHeader":` + string(mustJSON(restHeader())) + `}}`), status: 400, code: "ISG_INVALID_PAYLOAD", says: "InputParameters"},
		{name: "no RESTHeader", body: raw(`{"FIND_ACCOUNT_Input":{"InputParameters":{"P_ACCOUNT_NUMBER":"C-1"}}}`), status: 403, code: "ISG_SERVICE_AUTH_FAILURE"},
		{name: "other responsibility", body: withHeader(header("Responsibility", "SYSTEM_ADMINISTRATOR")), status: 403, code: "ISG_SERVICE_AUTH_FAILURE", says: "Responsibility"},
		{name: "other application", body: withHeader(header("RespApplication", "FND")), status: 403, code: "ISG_SERVICE_AUTH_FAILURE", says: "RespApplication"},
		{name: "no security group", body: withHeader(header("SecurityGroup", nil)), status: 403, code: "ISG_SERVICE_AUTH_FAILURE", says: "SecurityGroup"},
		{name: "other language", body: withHeader(header("NLSLanguage", "GERMAN")), status: 403, code: "ISG_SERVICE_AUTH_FAILURE", says: "NLSLanguage"},
		{name: "Org_Id a number", body: withHeader(header("Org_Id", 204)), status: 403, code: "ISG_SERVICE_AUTH_FAILURE", says: "Org_Id"},
		{name: "OrgId misspelt", body: withHeader(edit(header("Org_Id", nil), "OrgId", "204")), status: 400, code: "ISG_INVALID_PAYLOAD", says: "OrgId"},
		{name: "number input", body: body(map[string]any{"P_ACCOUNT_NUMBER": 1001}), status: 400, code: "ISG_INVALID_PAYLOAD", says: "P_ACCOUNT_NUMBER"},
		{name: "bool input", body: body(map[string]any{"P_ACCOUNT_NUMBER": true}), status: 400, code: "ISG_INVALID_PAYLOAD", says: "P_ACCOUNT_NUMBER"},
		{name: "null input", body: body(map[string]any{"P_ACCOUNT_NUMBER": nil}), status: 400, code: "ISG_INVALID_PAYLOAD", says: "P_ACCOUNT_NUMBER"},
		{name: "unknown input", body: body(map[string]any{"P_ACCOUNT_NUMBER": "C-1", "P_ORG_ID": "204"}), status: 400, code: "ISG_INVALID_PAYLOAD", says: "P_ORG_ID"},
	}
	_, ts := newSim(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.body
			if b == nil {
				b = good
			}
			r := request(ts.URL, "xx_recoup", "find_account", b)
			if c.path != "" {
				r.URL.Path = c.path
			}
			if c.change != nil {
				c.change(r)
			}
			status, out := do(t, nil, r)
			if status != c.status || faultCode(out) != c.code {
				t.Fatalf("got %d %s, want %d %s: %v", status, faultCode(out), c.status, c.code, out)
			}
			msg := out["ISGServiceFault"].(map[string]any)["Message"].(string)
			if !strings.Contains(msg, c.says) {
				t.Errorf("message %q does not say %q", msg, c.says)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Records and tables are checked the same way as top-level inputs.
func TestISGRefusesNestedShapes(t *testing.T) {
	_, ts := newSim(t)
	cases := []struct {
		name, method string
		in           map[string]any
		says         string
	}{
		{"unknown record field", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.PAYMENT_METHOD", "CARD"), "P_PROMISE_REC.PAYMENT_METHOD"},
		{"number in record", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.PROMISE_AMOUNT", 180), "P_PROMISE_REC.PROMISE_AMOUNT"},
		{"number in nested record", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.ATTRIBUTES.ATTRIBUTE15", 7), "ATTRIBUTES.ATTRIBUTE15"},
		{"record sent as string", "create_dispute", edit(disputeIn("k"), "P_DISP_HEADER_REC", "x"), "P_DISP_HEADER_REC"},
		{"table not wrapped", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB", map[string]any{"ITEMS": []any{}}), "P_JTF_NOTE_CONTEXTS_TAB"},
		{"table item a single object", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB",
			map[string]any{"P_JTF_NOTE_CONTEXTS_TAB_ITEM": map[string]any{"NOTE_CONTEXT_TYPE": "PARTY", "NOTE_CONTEXT_TYPE_ID": party1}}), "P_JTF_NOTE_CONTEXTS_TAB"},
		{"number in table item", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB",
			map[string]any{"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []any{map[string]any{"NOTE_CONTEXT_TYPE": "PARTY", "NOTE_CONTEXT_TYPE_ID": 5001}}}), "NOTE_CONTEXT_TYPE_ID"},
	}
	alias := map[string]string{"insert_promise": "iex_promises", "create_dispute": "iex_dispute", "secure_create_note": "jtf_notes"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := do(t, nil, request(ts.URL, alias[c.method], c.method, envelope(c.method, c.in)))
			if status != 400 || faultCode(out) != "ISG_INVALID_PAYLOAD" {
				t.Fatalf("got %d %v", status, out)
			}
			if msg := out["ISGServiceFault"].(map[string]any)["Message"].(string); !strings.Contains(msg, c.says) {
				t.Errorf("message %q does not name %s", msg, c.says)
			}
		})
	}
	if got := applied(t, ts); len(got) != 0 {
		t.Errorf("refused calls created %v", got)
	}
}

// @xmlns, which S3's clients send, is skipped wherever it is.
func TestXMLNSTolerated(t *testing.T) {
	_, ts := newSim(t)
	h := restHeader()
	h["@xmlns"] = "http://xmlns.oracle.com/apps/fnd/rest/header"
	in := promiseIn("k-ns", "2026-11-06")
	in["@xmlns"] = "x"
	in["P_PROMISE_REC"].(map[string]any)["@xmlns"] = "x"
	b := mustJSON(map[string]any{"@xmlns": "x", "INSERT_PROMISE_Input": map[string]any{
		"@xmlns": "http://xmlns.oracle.com/apps/iex/rest/iex_promises/insert_promise/", "RESTHeader": h, "InputParameters": in}})
	status, out := do(t, nil, request(ts.URL, "iex_promises", "insert_promise", b))
	if status != 200 || out["OutputParameters"].(map[string]any)["X_RETURN_STATUS"] != "S" {
		t.Fatalf("got %d %v", status, out)
	}
}

// Every method's happy path, in one run so the ids are the deterministic
// counters.
func TestMethods(t *testing.T) {
	s, ts := newSim(t)
	steps := []struct {
		alias, method string
		in            map[string]any
		want          map[string]any
	}{
		{"xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}, outputs(map[string]any{
			"X_CUST_ACCOUNT_ID": acct1, "X_PARTY_ID": party1, "X_CUST_ACCOUNT_PROFILE_ID": profile1,
			"X_CREDIT_HOLD": "N", "X_OBJECT_VERSION_NUMBER": "1"})},
		{"xx_recoup", "find_transaction", map[string]any{"P_CUST_ACCOUNT_ID": acct1, "P_TRX_NUMBER": "INV-2"}, outputs(map[string]any{
			"X_CUSTOMER_TRX_ID": trx2, "X_DELINQUENCY_ID": delinq2, "X_CURRENCY_CODE": "USD"})},
		{"hz_cust_profile", "update_customer_profile", profileIn("Y", "1"), outputs(map[string]any{"P_OBJECT_VERSION_NUMBER": "2"})},
		{"xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}, outputs(map[string]any{
			"X_CUST_ACCOUNT_ID": acct1, "X_PARTY_ID": party1, "X_CUST_ACCOUNT_PROFILE_ID": profile1,
			"X_CREDIT_HOLD": "Y", "X_OBJECT_VERSION_NUMBER": "2"})},
		{"jtf_notes", "secure_create_note", noteIn("k-note"), outputs(map[string]any{"X_JTF_NOTE_ID": "10001"})},
		{"jtf_tasks", "create_task", taskIn("k-task"), outputs(map[string]any{"X_TASK_ID": "40001"})},
		{"iex_promises", "insert_promise", promiseIn("k-promise", "2026-11-06"), outputs(map[string]any{"X_PRORESP_REC": map[string]any{
			"PROMISE_ID": "50001", "NOTE_ID": "10002", "STATUS": "COLLECTABLE", "STATE": "PROMISE"}})},
		{"iex_promises", "insert_promise", edit(promiseIn("k-promise-2", "2026-11-13"), "P_PROMISE_REC.NOTE", nil), outputs(map[string]any{"X_PRORESP_REC": map[string]any{
			"PROMISE_ID": "50002", "NOTE_ID": "", "STATUS": "COLLECTABLE", "STATE": "PROMISE"}})},
		{"iex_dispute", "create_dispute", disputeIn("k-dispute"), outputs(map[string]any{"X_REQUEST_ID": "60001"})},
		{"xx_recoup", "request_dunning", dunningIn("k-dunning"), outputs(map[string]any{"X_REQUEST_ID": "70001"})},
		{"ar_receipt", "apply", applyIn("k-apply"), outputs(nil)},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-note"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "JTF_NOTE", "X_OBJECT_ID": "10001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-task"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "JTF_TASK", "X_OBJECT_ID": "40001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-promise"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "IEX_PROMISE", "X_OBJECT_ID": "50001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-dispute"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "AR_CM_REQUEST", "X_OBJECT_ID": "60001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-dunning"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "XX_DUNNING", "X_OBJECT_ID": "70001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-apply"}, outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "AR_RECEIVABLE_APP", "X_OBJECT_ID": "80001"})},
		{"xx_recoup", "find_action", map[string]any{"P_KEY": "k-never"}, outputs(map[string]any{"X_FOUND": "N", "X_OBJECT_CODE": "", "X_OBJECT_ID": ""})},
	}
	for i, st := range steps {
		status, got := call(t, ts, st.alias, st.method, st.in)
		if status != 200 {
			t.Fatalf("step %d %s: HTTP %d", i, st.method, status)
		}
		if d := cmp.Diff(st.want, got); d != "" {
			t.Errorf("step %d %s (-want +got):\n%s", i, st.method, d)
		}
	}

	a, _ := s.Account("C-1")
	if a.CreditHold != "Y" || a.ObjectVersionNumber != 2 || a.ProfileUpdates != 1 {
		t.Errorf("profile: hold %s, version %d, updates %d", a.CreditHold, a.ObjectVersionNumber, a.ProfileUpdates)
	}
	counts := []int{len(a.Notes), len(a.Tasks), len(a.Promises), len(a.Disputes), len(a.DunningRequests), len(a.Applications)}
	if d := cmp.Diff([]int{1, 1, 2, 1, 1, 1}, counts); d != "" {
		t.Errorf("objects of C-1 (notes, tasks, promises, disputes, dunning, applications):\n%s", d)
	}
	if a.Disputes[0].TrxNumber != "INV-2" || a.Applications[0].TrxNumber != "INV-1" || a.Notes[0].Inputs["P_NOTE_TYPE"] != "IEX_COLLECTIONS" {
		t.Errorf("stored objects: %+v %+v %+v", a.Disputes[0], a.Applications[0], a.Notes[0])
	}
	want := map[string]int{"k-note": 1, "k-task": 1, "k-promise": 1, "k-promise-2": 1, "k-dispute": 1, "k-dunning": 1, "k-apply": 1}
	if d := cmp.Diff(want, applied(t, ts)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
}

// What the PL/SQL refuses is HTTP 200 with X_RETURN_STATUS E and the
// message in X_MSG_DATA.
func TestBusinessErrors(t *testing.T) {
	long := strings.Repeat("é", 2001)
	cases := []struct {
		name, alias, method string
		in                  map[string]any
		msg                 string // X_MSG_DATA starts with it
	}{
		{"unknown account", "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-404"}, "HZ_API_NO_RECORD: no account C-404"},
		{"empty account number", "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": ""}, "FND_API_MISSING_PARAM: P_ACCOUNT_NUMBER"},
		{"missing account number", "xx_recoup", "find_account", map[string]any{}, "FND_API_MISSING_PARAM: P_ACCOUNT_NUMBER"},
		{"transaction of another account", "xx_recoup", "find_transaction", map[string]any{"P_CUST_ACCOUNT_ID": acct2, "P_TRX_NUMBER": "INV-1"}, "AR_TRX_NOT_FOUND: no transaction INV-1"},
		{"transaction of unknown account id", "xx_recoup", "find_transaction", map[string]any{"P_CUST_ACCOUNT_ID": "999", "P_TRX_NUMBER": "INV-1"}, "HZ_API_NO_RECORD"},
		{"account id not a number", "xx_recoup", "find_transaction", map[string]any{"P_CUST_ACCOUNT_ID": "C-1", "P_TRX_NUMBER": "INV-1"}, "FND_API_INVALID_PARAM: P_CUST_ACCOUNT_ID"},
		{"unknown profile", "hz_cust_profile", "update_customer_profile", edit(profileIn("Y", "1"), "P_CUSTOMER_PROFILE_REC.CUST_ACCOUNT_PROFILE_ID", "7999"), "HZ_API_NO_RECORD: no customer profile 7999"},
		{"hold not Y or N", "hz_cust_profile", "update_customer_profile", profileIn("YES", "1"), "FND_API_INVALID_PARAM: P_CUSTOMER_PROFILE_REC.CREDIT_HOLD"},
		{"init msg list F", "hz_cust_profile", "update_customer_profile", edit(profileIn("Y", "1"), "P_INIT_MSG_LIST", "F"), "FND_API_INVALID_PARAM: P_INIT_MSG_LIST"},
		{"no version", "hz_cust_profile", "update_customer_profile", edit(profileIn("Y", "1"), "P_OBJECT_VERSION_NUMBER", nil), "FND_API_MISSING_PARAM: P_OBJECT_VERSION_NUMBER"},
		{"api version 2.0", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_API_VERSION", "2.0"), "FND_API_INVALID_PARAM: P_API_VERSION"},
		{"commit F", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_COMMIT", "F"), "FND_API_INVALID_PARAM: P_COMMIT"},
		{"source object code", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_SOURCE_OBJECT_CODE", "PARTY"), "FND_API_INVALID_PARAM: P_SOURCE_OBJECT_CODE"},
		{"private note", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_NOTE_STATUS", "E"), "FND_API_INVALID_PARAM: P_NOTE_STATUS"},
		{"other org", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_ORG_ID", "205"), "FND_API_INVALID_PARAM: P_ORG_ID"},
		{"no key", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_ATTRIBUTE15", nil), "FND_API_MISSING_PARAM: P_ATTRIBUTE15"},
		{"key too long", "jtf_notes", "secure_create_note", noteIn(strings.Repeat("k", 151)), "FND_API_INVALID_PARAM: P_ATTRIBUTE15"},
		{"note too long", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_NOTES", long), "FND_API_INVALID_PARAM: P_NOTES"},
		{"detail for a short note", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_NOTES_DETAIL", "short"), "FND_API_INVALID_PARAM: P_NOTES_DETAIL"},
		{"entered date with fraction", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_ENTERED_DATE", "2026-11-02T10:15:00.5Z"), "FND_API_INVALID_PARAM: P_ENTERED_DATE"},
		{"entered date US style", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_ENTERED_DATE", "11/02/2026"), "FND_API_INVALID_PARAM: P_ENTERED_DATE"},
		{"note on unknown account", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_SOURCE_OBJECT_ID", "999"), "HZ_API_NO_RECORD"},
		{"note context of another party", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB", map[string]any{
			"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []any{map[string]any{"NOTE_CONTEXT_TYPE": "PARTY", "NOTE_CONTEXT_TYPE_ID": party2}}}), "HZ_API_NO_RECORD: no party 5002"},
		{"note context not PARTY", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB", map[string]any{
			"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []any{map[string]any{"NOTE_CONTEXT_TYPE": "IEX_ACCOUNT", "NOTE_CONTEXT_TYPE_ID": party1}}}), "FND_API_INVALID_PARAM: P_JTF_NOTE_CONTEXTS_TAB.P_JTF_NOTE_CONTEXTS_TAB_ITEM[0].NOTE_CONTEXT_TYPE"},
		{"no note context", "jtf_notes", "secure_create_note", edit(noteIn("k"), "P_JTF_NOTE_CONTEXTS_TAB", map[string]any{"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []any{}}), "FND_API_MISSING_PARAM: P_JTF_NOTE_CONTEXTS_TAB"},
		{"task name too long", "jtf_tasks", "create_task", edit(taskIn("k"), "P_TASK_NAME", strings.Repeat("x", 81)), "FND_API_INVALID_PARAM: P_TASK_NAME"},
		{"task owner type", "jtf_tasks", "create_task", edit(taskIn("k"), "P_OWNER_TYPE_CODE", "RS_GROUP"), "FND_API_INVALID_PARAM: P_OWNER_TYPE_CODE"},
		{"task for another party", "jtf_tasks", "create_task", edit(taskIn("k"), "P_CUSTOMER_ID", party2), "HZ_API_NO_RECORD: P_CUSTOMER_ID"},
		{"task end date with time", "jtf_tasks", "create_task", edit(taskIn("k"), "P_PLANNED_END_DATE", "2026-11-09T00:00:00"), "FND_API_INVALID_PARAM: P_PLANNED_END_DATE"},
		{"promise on 31 November", "iex_promises", "insert_promise", promiseIn("k", "2026-11-31"), "FND_API_INVALID_PARAM: P_PROMISE_REC.PROMISE_DATE"},
		{"promise amount with comma", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.PROMISE_AMOUNT", "180,00"), "FND_API_INVALID_PARAM: P_PROMISE_REC.PROMISE_AMOUNT"},
		{"promise of zero", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.PROMISE_AMOUNT", "0.00"), "FND_API_INVALID_PARAM: P_PROMISE_REC.PROMISE_AMOUNT"},
		{"promise in another currency", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.CURRENCY_CODE", "EUR"), "FND_API_INVALID_PARAM: P_PROMISE_REC.CURRENCY_CODE"},
		{"promise target ACCOUNTS", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.PROMISE_TARGET", "ACCOUNTS"), "FND_API_INVALID_PARAM: P_PROMISE_REC.PROMISE_TARGET"},
		{"promise on another account's delinquency", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.DELINQUENCY_ID", delinq9), "AR_TRX_NOT_FOUND"},
		{"promise without key", "iex_promises", "insert_promise", edit(promiseIn("k", "2026-11-06"), "P_PROMISE_REC.ATTRIBUTES", nil), "FND_API_MISSING_PARAM: P_PROMISE_REC.ATTRIBUTES"},
		{"dispute asking a debit", "iex_dispute", "create_dispute", edit(disputeIn("k"), "P_DISP_HEADER_REC.LINE_AMT", "25.50"), "FND_API_INVALID_PARAM: P_DISP_HEADER_REC.LINE_AMT"},
		{"dispute line credit", "iex_dispute", "create_dispute", edit(disputeIn("k"), "P_DISP_HEADER_REC.LINE_CREDIT_FLAG", "Y"), "FND_API_INVALID_PARAM: P_DISP_HEADER_REC.LINE_CREDIT_FLAG"},
		{"dispute of unknown transaction", "iex_dispute", "create_dispute", edit(disputeIn("k"), "P_DISP_HEADER_REC.CUST_TRX_ID", "29999"), "AR_TRX_NOT_FOUND: no transaction id 29999"},
		{"dispute with another delinquency", "iex_dispute", "create_dispute", edit(disputeIn("k"), "P_DISP_HEADER_REC.DELINQUENCY_ID", delinq1), "AR_TRX_NOT_FOUND: delinquency 30001"},
		{"dunning for unknown account", "xx_recoup", "request_dunning", edit(dunningIn("k"), "P_CUST_ACCOUNT_ID", "999"), "HZ_API_NO_RECORD"},
		{"dunning without subject", "xx_recoup", "request_dunning", edit(dunningIn("k"), "P_SUBJECT", ""), "FND_API_MISSING_PARAM: P_SUBJECT"},
		{"apply in other org", "ar_receipt", "apply", edit(applyIn("k"), "P_ORG_ID", "205"), "FND_API_INVALID_PARAM: P_ORG_ID"},
		{"apply to unknown transaction", "ar_receipt", "apply", edit(applyIn("k"), "P_CUSTOMER_TRX_ID", "29999"), "AR_TRX_NOT_FOUND"},
		{"apply a negative amount", "ar_receipt", "apply", edit(applyIn("k"), "P_AMOUNT_APPLIED", "-1.00"), "FND_API_INVALID_PARAM: P_AMOUNT_APPLIED"},
	}
	_, ts := newSim(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := call(t, ts, c.alias, c.method, c.in)
			if status != 200 || out["X_RETURN_STATUS"] != "E" || out["X_MSG_COUNT"] != "1" {
				t.Fatalf("got %d %v", status, out)
			}
			if msg, _ := out["X_MSG_DATA"].(string); !strings.HasPrefix(msg, c.msg) {
				t.Errorf("X_MSG_DATA %q, want it to start with %q", msg, c.msg)
			}
		})
	}
	if got := applied(t, ts); len(got) != 0 {
		t.Errorf("refused calls created %v", got)
	}
}

// A note longer than 2,000 characters goes as its first 2,000 in P_NOTES
// and the whole text in P_NOTES_DETAIL.
func TestLongNote(t *testing.T) {
	_, ts := newSim(t)
	text := strings.Repeat("üabc", 625)
	in := edit(noteIn("k-long"), "P_NOTES", string([]rune(text)[:2000]))
	in["P_NOTES_DETAIL"] = text
	if _, out := call(t, ts, "jtf_notes", "secure_create_note", in); out["X_RETURN_STATUS"] != "S" {
		t.Fatalf("got %v", out)
	}
	in = edit(noteIn("k-long-2"), "P_NOTES", string([]rune(text)[1:2001]))
	in["P_NOTES_DETAIL"] = text
	if _, out := call(t, ts, "jtf_notes", "secure_create_note", in); out["X_RETURN_STATUS"] != "E" {
		t.Fatalf("P_NOTES not the detail's start: got %v", out)
	}
}

func TestObjectVersionConflict(t *testing.T) {
	s, ts := newSim(t)
	if _, out := call(t, ts, "hz_cust_profile", "update_customer_profile", profileIn("Y", "1")); out["P_OBJECT_VERSION_NUMBER"] != "2" {
		t.Fatalf("first update: %v", out)
	}
	_, out := call(t, ts, "hz_cust_profile", "update_customer_profile", profileIn("N", "1"))
	if msg, _ := out["X_MSG_DATA"].(string); out["X_RETURN_STATUS"] != "E" || !strings.HasPrefix(msg, "HZ_API_RECORD_CHANGED") {
		t.Fatalf("stale version: %v", out)
	}
	if _, has := out["P_OBJECT_VERSION_NUMBER"]; has {
		t.Errorf("a refused update answers a version: %v", out)
	}
	a, _ := s.Account("C-1")
	if a.CreditHold != "Y" || a.ObjectVersionNumber != 2 || a.ProfileUpdates != 1 {
		t.Errorf("after the conflict: hold %s, version %d, updates %d", a.CreditHold, a.ObjectVersionNumber, a.ProfileUpdates)
	}
}

func TestPromiseDateUniquePerDelinquency(t *testing.T) {
	s, ts := newSim(t)
	if _, out := call(t, ts, "iex_promises", "insert_promise", promiseIn("k-1", "2026-11-06")); out["X_RETURN_STATUS"] != "S" {
		t.Fatalf("first promise: %v", out)
	}
	_, out := call(t, ts, "iex_promises", "insert_promise", promiseIn("k-2", "2026-11-06"))
	if msg, _ := out["X_MSG_DATA"].(string); out["X_RETURN_STATUS"] != "E" || !strings.Contains(msg, "2026-11-06") {
		t.Fatalf("same date again: %v", out)
	}
	other := promiseIn("k-3", "2026-11-06")
	other["P_PROMISE_REC"].(map[string]any)["DELINQUENCY_ID"] = delinq2
	if _, out := call(t, ts, "iex_promises", "insert_promise", other); out["X_RETURN_STATUS"] != "S" {
		t.Fatalf("same date, other delinquency: %v", out)
	}
	if a, _ := s.Account("C-1"); len(a.Promises) != 2 {
		t.Errorf("%d promises, want 2", len(a.Promises))
	}
	if d := cmp.Diff(map[string]int{"k-1": 1, "k-3": 1}, applied(t, ts)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
}

// The ERP has no uniqueness on ATTRIBUTE15: a second create with a used key
// is applied and counted, so a test sees the duplicate; find_action finds
// the first.
func TestDuplicateKeyIsAppliedAndCounted(t *testing.T) {
	s, ts := newSim(t)
	for range 2 {
		if _, out := call(t, ts, "jtf_notes", "secure_create_note", noteIn("k-dup")); out["X_RETURN_STATUS"] != "S" {
			t.Fatalf("create: %v", out)
		}
	}
	if _, out := call(t, ts, "xx_recoup", "request_dunning", dunningIn("k-dup")); out["X_RETURN_STATUS"] != "S" {
		t.Fatalf("dunning: %v", out)
	}
	if d := cmp.Diff(map[string]int{"k-dup": 3}, applied(t, ts)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	_, out := call(t, ts, "xx_recoup", "find_action", map[string]any{"P_KEY": "k-dup"})
	if d := cmp.Diff(outputs(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": "JTF_NOTE", "X_OBJECT_ID": "10001"}), out); d != "" {
		t.Errorf("find_action (-want +got):\n%s", d)
	}
	if a, _ := s.Account("C-1"); len(a.Notes) != 2 {
		t.Errorf("%d notes, want 2", len(a.Notes))
	}
}

func TestTokenLoginExpiryAndRelogin(t *testing.T) {
	s, ts := newSim(t)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	s.mu.Lock()
	s.now = func() time.Time { return now }
	s.mu.Unlock()
	advance := func(d time.Duration) {
		s.mu.Lock()
		now = now.Add(d)
		s.mu.Unlock()
	}

	login := func() string {
		r, _ := http.NewRequest(http.MethodGet, ts.URL+restPrefix+"login", nil)
		r.SetBasicAuth("RECOUP_ISG", "welcome1")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Response struct {
				Data map[string]string `json:"data"`
			} `json:"response"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("login: %d %v", resp.StatusCode, err)
		}
		d := out.Response.Data
		tok := d["accessToken"]
		if d := cmp.Diff(map[string]string{"accessToken": tok, "accessTokenName": "EBSAccessToken", "ebsVersion": "12.2.12", "userName": "RECOUP_ISG"}, d); d != "" || tok == "" {
			t.Errorf("login data (-want +got):\n%s", d)
		}
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "EBSAccessToken" {
				cookie = c.Value
			}
		}
		if cookie != tok {
			t.Errorf("cookie %q, token %q", cookie, tok)
		}
		return tok
	}
	withToken := func(tok string) int {
		r := request(ts.URL, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}))
		r.Header.Del("Authorization")
		r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: tok})
		status, out := do(t, nil, r)
		if status == 401 && faultCode(out) != "FND_SOA_AUTHENTICATION_FAILURE" {
			t.Errorf("401 with %v", out)
		}
		return status
	}

	tok := login()
	if got := withToken(tok); got != 200 {
		t.Fatalf("fresh token: %d", got)
	}
	advance(14 * time.Minute)
	if got := withToken(tok); got != 200 {
		t.Fatalf("token at 14 min: %d", got)
	}
	advance(time.Minute)
	if got := withToken(tok); got != 401 {
		t.Fatalf("token at 15 min: %d, want 401", got)
	}
	tok2 := login()
	if tok2 == tok {
		t.Fatal("re-login answered the expired token")
	}
	if got := withToken(tok2); got != 200 {
		t.Fatalf("after re-login: %d", got)
	}

	r, _ := http.NewRequest(http.MethodGet, ts.URL+restPrefix+"logout", nil)
	r.AddCookie(&http.Cookie{Name: "EBSAccessToken", Value: tok2})
	if status, _ := do(t, nil, r); status != 200 {
		t.Fatalf("logout: %d", status)
	}
	if got := withToken(tok2); got != 401 {
		t.Fatalf("after logout: %d, want 401", got)
	}

	r, _ = http.NewRequest(http.MethodGet, ts.URL+restPrefix+"login", nil)
	r.SetBasicAuth("RECOUP_ISG", "wrong")
	if status, out := do(t, nil, r); status != 401 || faultCode(out) != "FND_SOA_AUTHENTICATION_FAILURE" {
		t.Fatalf("login with a wrong password: %d %v", status, out)
	}
	r, _ = http.NewRequest(http.MethodPost, ts.URL+restPrefix+"login", nil)
	r.SetBasicAuth("RECOUP_ISG", "welcome1")
	if status, _ := do(t, nil, r); status != 405 {
		t.Fatalf("POST login: %d", status)
	}
}

func TestConfigContext(t *testing.T) {
	s := New(Config{User: "U", Password: "P", Context: RESTHeader{OrgID: "81"}})
	if _, err := s.Seed([]AccountSeed{{Number: "C-1"}}); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, s)
	h := restHeader()
	h["Org_Id"] = "81"
	b := mustJSON(map[string]any{"FIND_ACCOUNT_Input": map[string]any{"RESTHeader": h, "InputParameters": map[string]any{"P_ACCOUNT_NUMBER": "C-1"}}})
	r := request(ts, "xx_recoup", "find_account", b)
	r.SetBasicAuth("U", "P")
	if status, out := do(t, nil, r); status != 200 {
		t.Fatalf("configured user and org: %d %v", status, out)
	}
	r = request(ts, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"}))
	r.SetBasicAuth("U", "P")
	if status, _ := do(t, nil, r); status != 403 {
		t.Fatalf("default org against org 81: %d, want 403", status)
	}
}

// The request log says which call and how it ended, never the inputs.
func TestLogHasNoInputs(t *testing.T) {
	var buf bytes.Buffer
	s := New(Config{Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	if _, err := s.Seed([]AccountSeed{{Number: "C-1", Transactions: []string{"INV-1"}}}); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, s)
	in := edit(noteIn("k-secret-key"), "P_NOTES", "SECRET-NOTE-TEXT")
	if status, _ := do(t, nil, request(ts, "jtf_notes", "secure_create_note", envelope("secure_create_note", in))); status != 200 {
		t.Fatal(status)
	}
	do(t, nil, request(ts, "xx_recoup", "find_account", envelope("find_account", map[string]any{"P_ACCOUNT_NUMBER": "C-1"})))
	var line map[string]any
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"alias": "jtf_notes", "method": "secure_create_note", "status": float64(200), "outcome": "S"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	for _, secret := range []string{"SECRET", "k-secret-key", "C-1", acct1} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, buf.String())
		}
	}
}
