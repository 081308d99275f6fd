package d365sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Whatever the path, query, body and If-Match, a data request answers an
// OData error or a success with a status the contract knows, and never
// panics. Faults are off (malformed answers would be invalid on purpose).
func FuzzServe(f *testing.F) {
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete}
	add := func(m int, path, q string, body any, ifMatch string) {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		f.Add(uint8(m), path, q, b, ifMatch)
	}
	sel := url.Values{"$select": {"CustomerAccount,OnHoldStatus"}}.Encode()
	add(0, customer1, sel, nil, "")
	add(2, customer1, "", map[string]any{"OnHoldStatus": "All"}, `W/"1"`)
	add(1, "CustomerAttachments", "", noteBody(markerA), "")
	add(0, "CustomerAttachments", "$filter="+filter("dataAreaId eq 'usmf' and Name eq '"+markerA+"'"), nil, "")
	add(1, "Activities", "", activityBody(markerA), "")
	add(0, "Activities", "$filter="+filter("dataAreaId eq 'usmf' and Purpose eq '"+markerA+"*'"), nil, "")
	add(0, "CustTransactions", "$filter="+filter("dataAreaId eq 'usmf' and AccountNum eq 'C-1' and Invoice eq 'INV-1'"), nil, "")
	add(1, "CustDisputes", "", disputeBody(markerA), "")
	add(2, "CustDisputes(dataAreaId='usmf',SysRecId=5637200001)", "", map[string]any{"Status": "Disputed", "Note": "x"}, `W/"1"`)
	add(0, "CustDisputes", "$filter="+filter("dataAreaId eq 'usmf' and CustTrans eq "+rec1), nil, "")
	add(0, "CustomersV3(dataAreaId='us''mf',CustomerAccount='C-1'", "", nil, "")
	add(0, "CustomersV3(dataAreaId='usmf',CustomerAccount=''''')", "", nil, "")
	add(0, "Activities", "$filter="+filter("dataAreaId eq 'usmf' and Purpose eq '**'''"), nil, "")
	add(1, "CustDisputes", "", map[string]any{"dataAreaId": "usmf", "CustTrans": 1e300, "Status": "Disputed", "Note": "x"}, "")
	add(2, customer1, "", nil, "*")
	f.Add(uint8(1), "Activities", "", []byte(`{"Purpose":"\ud800"}`), "")
	f.Add(uint8(1), "Activities", "%zz", []byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`), "")

	s := New(Config{})
	seed := []CustomerSeed{{Account: "C-1", Invoices: []string{"INV-1"}}, {Account: "C-2", OnHoldStatus: "All"}}
	tok := fuzzToken(f, s)
	known := []int{200, 201, 204, 400, 404, 405, 406, 412, 415, 428}
	f.Fuzz(func(t *testing.T, m uint8, path, query string, body []byte, ifMatch string) {
		s.mu.Lock()
		s.st = newState(s.cfg.NoteTypes) // accepted writes would pile up across inputs
		s.mu.Unlock()
		if _, err := s.Seed(seed); err != nil {
			t.Fatal(err)
		}
		method := methods[int(m)%len(methods)]
		r := httptest.NewRequest(method, "/", bytes.NewReader(body))
		r.URL.Path, r.URL.RawQuery = dataPrefix+path, "cross-company=true"
		if query != "" {
			r.URL.RawQuery += "&" + query
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("OData-Version", "4.0")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if !slices.Contains(known, w.Code) {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if w.Code == http.StatusNoContent {
			if w.Body.Len() != 0 {
				t.Fatalf("204 with a body: %s", w.Body)
			}
			return
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer %d is not JSON: %v: %s", w.Code, err, w.Body)
		}
		e, isError := out["error"].(map[string]any)
		if isError != (w.Code >= 400) {
			t.Fatalf("status %d with %s", w.Code, w.Body)
		}
		if msg, _ := e["message"].(string); isError && strings.TrimSpace(msg) == "" {
			t.Fatalf("error without a message: %s", w.Body)
		}
	})
}

func fuzzToken(f *testing.F, s *Server) string {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"recoup-d365"}, "client_secret": {"recoup-secret"},
		"scope": {"http://example.com/.default"}}
	r := httptest.NewRequest(http.MethodPost, "/recoup-sim/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out struct {
		Token string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Token == "" {
		f.Fatalf("token: %d %s", w.Code, w.Body)
	}
	return out.Token
}
