package d365sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every request of WIRE.md, as the adapter makes it, and what the state
// shows afterwards.
func TestWireRequests(t *testing.T) {
	s, ts := newSim(t)
	tok := newToken(t, ts.URL)

	status, out := do(t, request(ts.URL, tok, "GET", customer1+"?$select=CustomerAccount,OnHoldStatus", nil))
	if status != 200 || out["OnHoldStatus"] != "No" || out["@odata.etag"] != `W/"1"` || out["SalesCurrencyCode"] != nil {
		t.Fatalf("read customer: %d %v", status, out)
	}
	r := request(ts.URL, tok, "PATCH", customer1, map[string]any{"OnHoldStatus": "All"})
	r.Header.Set("If-Match", `W/"1"`)
	if status, out := do(t, r); status != 204 || out != nil {
		t.Fatalf("hold: %d %v", status, out)
	}

	if status, out := do(t, request(ts.URL, tok, "POST", "CustomerAttachments", noteBody(markerA))); status != 201 || out["DocumentId"] == "" {
		t.Fatalf("note: %d %v", status, out)
	}
	status, out = do(t, request(ts.URL, tok, "GET", "CustomerAttachments?$filter="+
		filter("dataAreaId eq 'usmf' and CustomerAccountNumber eq 'C-1' and Name eq '"+markerA+"'")+"&$select=DocumentId,Name", nil))
	if rows, _ := out["value"].([]any); status != 200 || len(rows) != 1 {
		t.Fatalf("find note: %d %v", status, out)
	}

	if status, out := do(t, request(ts.URL, tok, "POST", "Activities", activityBody(markerB))); status != 201 || out["ActivityNumber"] != "ACT-000001" {
		t.Fatalf("activity: %d %v", status, out)
	}
	status, out = do(t, request(ts.URL, tok, "GET", "Activities?$filter="+filter("dataAreaId eq 'usmf' and Purpose eq '"+markerB+"*'"), nil))
	if rows, _ := out["value"].([]any); status != 200 || len(rows) != 1 {
		t.Fatalf("find activity: %d %v", status, out)
	}

	status, out = do(t, request(ts.URL, tok, "GET", "CustTransactions?$filter="+
		filter("dataAreaId eq 'usmf' and AccountNum eq 'C-1' and Invoice eq 'INV-1'")+"&$select=SysRecId,AccountNum,Invoice,CurrencyCode", nil))
	rows, _ := out["value"].([]any)
	if status != 200 || len(rows) != 1 || rows[0].(map[string]any)["SysRecId"] != float64(5637144576) {
		t.Fatalf("find transaction: %d %v", status, out)
	}
	status, out = do(t, request(ts.URL, tok, "POST", "CustDisputes", disputeBody(markerA[:7]+strings.Repeat("c", 40))))
	if status != 201 || out["SysRecId"] != float64(5637200001) || out["@odata.etag"] != `W/"1"` {
		t.Fatalf("dispute: %d %v", status, out)
	}
	r = request(ts.URL, tok, "PATCH", "CustDisputes(dataAreaId='usmf',SysRecId=5637200001)",
		map[string]any{"Status": "PromiseToPay", "Note": "old\nnew " + markerB, "FollowUpDate": "2026-11-13T12:00:00Z"})
	r.Header.Set("If-Match", `W/"1"`)
	if status, out := do(t, r); status != 204 {
		t.Fatalf("update dispute: %d %v", status, out)
	}

	c1, _ := s.Customer("usmf", "c-1") // keys compare without case
	want := Customer{Company: "usmf", Account: "C-1", OnHoldStatus: "All", Currency: "USD", Version: 2, HoldUpdates: 1,
		Transactions: []Transaction{
			{RecID: 5637144576, Invoice: "INV-1", Currency: "USD", Dispute: &Dispute{RecID: 5637200001, CustTrans: 5637144576,
				Status: "PromiseToPay", FollowUpDate: "2026-11-13T12:00:00Z", AmountCur: "45.50", Note: "old\nnew " + markerB, Version: 2, Updates: 1}},
			{RecID: 5637144577, Invoice: "INV-2", Currency: "USD"}},
		Attachments: []Attachment{{DocumentID: "00000001-0000-4000-8000-00000000d365", TypeID: "Note", Name: markerA, Notes: "Left a voicemail."}}}
	if d := cmp.Diff(want, c1); d != "" {
		t.Errorf("C-1 (-want +got):\n%s", d)
	}
	// markerB twice (the activity, the dispute's new line); the first
	// dispute marker once; markerA once.
	if d := cmp.Diff(map[string]int{markerA[7:]: 1, markerB[7:]: 2, strings.Repeat("c", 40): 1}, s.Applied()); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"GET CustomersV3": 1, "PATCH CustomersV3": 1, "POST CustomerAttachments": 1, "GET CustomerAttachments": 1,
		"POST Activities": 1, "GET Activities": 1, "GET CustTransactions": 1, "POST CustDisputes": 1, "PATCH CustDisputes": 1}, s.Stats().Requests); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

// F&O compares strings without case and reads '*' as a wildcard; the
// adapter re-checks what it asked for, so the simulator must not be kinder.
func TestFilterSemantics(t *testing.T) {
	_, ts := newSim(t)
	tok := newToken(t, ts.URL)
	tests := []struct {
		filter string
		n      int
	}{
		{"dataAreaId eq 'usmf' and AccountNum eq 'C-1' and Invoice eq 'inv-1'", 1},
		{"dataAreaId eq 'usmf' and Invoice eq 'INV-*'", 3},
		{"dataAreaId eq 'usmf' and Invoice eq '*9'", 1},
		{"dataAreaId eq 'usmf' and AccountNum eq 'C-1' and Invoice eq 'INV-'", 0},
		{"dataAreaId eq 'USMF' and SysRecId eq " + rec2, 1},
		{"dataAreaId eq 'demf'", 0},
	}
	for _, tt := range tests {
		status, out := do(t, request(ts.URL, tok, "GET", "CustTransactions?$filter="+filter(tt.filter), nil))
		if rows, _ := out["value"].([]any); status != 200 || len(rows) != tt.n {
			t.Errorf("%s: %d with %v, want %d rows", tt.filter, status, out, tt.n)
		}
	}
}

// Every shape WIRE.md does not send is refused with an OData error, and
// changes nothing.
func TestRejectsWrongShapes(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		edit   func(*http.Request)
		status int
		says   string
	}{
		{name: "no OData-Version", method: "GET", path: customer1, edit: func(r *http.Request) { r.Header.Del("OData-Version") },
			status: 400, says: "OData-Version"},
		{name: "OData-Version 3.0", method: "GET", path: customer1, edit: func(r *http.Request) { r.Header.Set("OData-Version", "3.0") },
			status: 400, says: "OData-Version"},
		{name: "Accept XML", method: "GET", path: customer1, edit: func(r *http.Request) { r.Header.Set("Accept", "application/xml") }, status: 406},
		{name: "body as text", method: "POST", path: "Activities", body: activityBody(markerA),
			edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, status: 415},
		{name: "no cross-company", method: "GET", path: customer1, edit: func(r *http.Request) { r.URL.RawQuery = "" }, status: 400, says: "cross-company"},
		{name: "unknown entity set", method: "GET", path: "Customers(dataAreaId='usmf',CustomerAccount='C-1')", status: 404, says: "Customers"},
		{name: "unquoted string key", method: "GET", path: "CustomersV3(dataAreaId=usmf,CustomerAccount='C-1')", status: 400, says: "quote it"},
		{name: "positional key", method: "GET", path: "CustomersV3('usmf','C-1')", status: 400, says: "property name"},
		{name: "key without the company", method: "GET", path: "CustomersV3(CustomerAccount='C-1')", status: 400, says: "dataAreaId is missing"},
		{name: "key with another field", method: "GET", path: "CustomersV3(dataAreaId='usmf',CustomerAccount='C-1',Name='x')", status: 400, says: "not a key property"},
		{name: "key given twice", method: "GET", path: "CustomersV3(dataAreaId='usmf',dataAreaId='usmf',CustomerAccount='C-1')", status: 400, says: "twice"},
		{name: "unterminated key string", method: "GET", path: "CustomersV3(dataAreaId='usmf,CustomerAccount='C-1')", status: 400},
		{name: "quoted Int64 key", method: "PATCH", path: "CustDisputes(dataAreaId='usmf',SysRecId='1')", body: map[string]any{"Status": "Disputed", "Note": "x"},
			edit: ifMatch(`W/"1"`), status: 400, says: "Int64"},
		{name: "unknown customer", method: "GET", path: "CustomersV3(dataAreaId='usmf',CustomerAccount='C-404')", status: 404, says: "CustomersV3"},
		{name: "bad hold value", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": "Yes"}, edit: ifMatch(`W/"1"`), status: 400, says: "Requested value 'Yes'"},
		{name: "hold as a number", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": 2}, edit: ifMatch(`W/"1"`), status: 400},
		{name: "hold without If-Match", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": "All"}, status: 428, says: "If-Match"},
		{name: "If-Match *", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": "All"}, edit: ifMatch("*"), status: 428},
		{name: "stale If-Match", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": "All"}, edit: ifMatch(`W/"0"`), status: 412},
		{name: "another field on a hold", method: "PATCH", path: customer1, body: map[string]any{"OnHoldStatus": "All", "SalesCurrencyCode": "EUR"},
			edit: ifMatch(`W/"1"`), status: 400, says: "not written by the adapter"},
		{name: "unknown property", method: "POST", path: "CustomerAttachments", body: merge(noteBody(markerA), "Restriction", "Internal"),
			status: 400, says: "The property 'Restriction' does not exist on type 'Microsoft.Dynamics.DataEntities.CustomerAttachment'"},
		{name: "note without its marker field", method: "POST", path: "CustomerAttachments", body: merge(noteBody(markerA), "Name", nil),
			status: 400, says: "Name is required"},
		{name: "unknown note type", method: "POST", path: "CustomerAttachments", body: merge(noteBody(markerA), "TypeId", "Memo"),
			status: 400, says: "document type does not exist"},
		{name: "note for an unknown customer", method: "POST", path: "CustomerAttachments", body: merge(noteBody(markerA), "CustomerAccountNumber", "C-404"),
			status: 400, says: "customer account does not exist"},
		{name: "bad activity category", method: "POST", path: "Activities", body: merge(activityBody(markerA), "Category", "Letter"), status: 400, says: "Category"},
		{name: "purpose too long", method: "POST", path: "Activities", body: merge(activityBody(markerA), "Purpose", strings.Repeat("x", 61)),
			status: 400, says: "61 characters"},
		{name: "date without a zone", method: "POST", path: "Activities", body: merge(activityBody(markerA), "EndDateTime", "2026-11-06T12:00:00"),
			status: 400, says: "RFC 3339"},
		{name: "end before start", method: "POST", path: "Activities", body: merge(activityBody(markerA), "EndDateTime", "2026-11-01T12:00:00Z"),
			status: 400, says: "before the start"},
		{name: "amount as a string", method: "POST", path: "CustDisputes", body: merge(disputeBody(markerA), "AmountCur", "45.50"), status: 400, says: "AmountCur"},
		{name: "amount as a float", method: "POST", path: "CustDisputes", body: merge(disputeBody(markerA), "AmountCur", json.Number("4.55e1")), status: 400},
		{name: "bad dispute status", method: "POST", path: "CustDisputes", body: merge(disputeBody(markerA), "Status", "Promised"), status: 400, says: "Promised"},
		{name: "dispute of an unknown transaction", method: "POST", path: "CustDisputes", body: merge(disputeBody(markerA), "CustTrans", json.Number("1")),
			status: 400, says: "transaction does not exist"},
		{name: "not a JSON object", method: "POST", path: "Activities", body: []int{1}, status: 400},
		{name: "filter without the company", method: "GET", path: "CustTransactions?$filter=" + filter("AccountNum eq 'C-1'"), status: 400, says: "dataAreaId"},
		{name: "filter on a memo", method: "GET", path: "CustDisputes?$filter=" + filter("dataAreaId eq 'usmf' and Note eq '*x*'"), status: 400, says: "memo"},
		{name: "filter with or", method: "GET", path: "CustTransactions?$filter=" + filter("dataAreaId eq 'usmf' or Invoice eq 'x'"), status: 400, says: "and"},
		{name: "filter with contains", method: "GET", path: "Activities?$filter=" + filter("dataAreaId eq 'usmf' and contains(Purpose,'x')"), status: 400},
		{name: "filter on an unknown field", method: "GET", path: "CustTransactions?$filter=" + filter("dataAreaId eq 'usmf' and Foo eq 'x'"),
			status: 400, says: "Could not find a property named 'Foo'"},
		{name: "collection read without a filter", method: "GET", path: "Activities", status: 400, says: "$filter"},
		{name: "select of an unknown field", method: "GET", path: customer1 + "?$select=CreditRating", status: 400, says: "CreditRating"},
		{name: "$top", method: "GET", path: customer1 + "?$top=1", status: 400, says: "$top"},
		{name: "delete", method: "DELETE", path: customer1, status: 405},
		{name: "POST to a key", method: "POST", path: customer1, body: map[string]any{"OnHoldStatus": "All"}, status: 405},
		{name: "GET of customers", method: "GET", path: "CustomersV3?$filter=" + filter("dataAreaId eq 'usmf'"), status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := newSim(t)
			before := s.State()
			r := request(ts.URL, newToken(t, ts.URL), tt.method, tt.path, tt.body)
			if tt.edit != nil {
				tt.edit(r)
			}
			status, out := do(t, r)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, out)
			}
			if _, ok := out["error"].(map[string]any); !ok {
				t.Fatalf("answer is not an OData error: %v", out)
			}
			if !strings.Contains(errorText(out), tt.says) {
				t.Errorf("%q does not say %q", errorText(out), tt.says)
			}
			if d := cmp.Diff(before, s.State()); d != "" {
				t.Errorf("a refused request changed the state (-before +after):\n%s", d)
			}
		})
	}
}

func ifMatch(v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("If-Match", v) }
}

// merge is body with field set, or removed when v is nil.
func merge(body map[string]any, field string, v any) map[string]any {
	if v == nil {
		delete(body, field)
	} else {
		body[field] = v
	}
	return body
}

func TestAuthentication(t *testing.T) {
	_, ts := newSim(t)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"recoup-d365"}, "client_secret": {"recoup-secret"},
		"scope": {ts.URL + "/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong grant", "/recoup-sim/oauth2/v2.0/token", with("grant_type", "password"), 400, "unsupported_grant_type"},
		{"unknown client", "/recoup-sim/oauth2/v2.0/token", with("client_id", "other"), 400, "unauthorized_client"},
		{"wrong secret", "/recoup-sim/oauth2/v2.0/token", with("client_secret", "nope"), 401, "invalid_client"},
		{"wrong scope", "/recoup-sim/oauth2/v2.0/token", with("scope", "https://contoso.operations.dynamics.com/.default"), 400, "invalid_scope"},
		{"scope with a trailing slash", "/recoup-sim/oauth2/v2.0/token", with("scope", ts.URL+"//.default"), 400, "invalid_scope"},
		{"unknown tenant", "/other/oauth2/v2.0/token", good, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := postForm(t, ts.URL+tt.path, tt.form)
			if status != tt.status || out["error"] != tt.code || out["access_token"] != nil {
				t.Errorf("%d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}
	t.Run("secret in a Basic header", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, ts.URL+"/recoup-sim/oauth2/v2.0/token", strings.NewReader(good.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("recoup-d365", "recoup-secret")
		if status, out := do(t, r); status != 400 || out["error"] != "invalid_request" {
			t.Errorf("%d %v", status, out)
		}
	})
	t.Run("a token works and answers its lifetime", func(t *testing.T) {
		status, out := postForm(t, ts.URL+"/recoup-sim/oauth2/v2.0/token", good)
		if status != 200 || out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) {
			t.Fatalf("%d %v", status, out)
		}
	})
	for _, tok := range []string{"", "made-up"} {
		r := request(ts.URL, tok, "GET", customer1, nil)
		if tok == "" {
			r.Header.Del("Authorization")
		}
		if status, _ := do(t, r); status != 401 {
			t.Errorf("token %q: status %d, want 401", tok, status)
		}
	}
	// An expired token is refused.
	s := New(Config{TokenTTL: 1})
	ts2 := serve(t, s)
	tok := newToken(t, ts2)
	if status, _ := do(t, request(ts2, tok, "GET", customer1, nil)); status != 401 {
		t.Errorf("expired token: %d, want 401", status)
	}
}
