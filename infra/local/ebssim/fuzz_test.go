package ebssim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Whatever the body, a service call answers JSON with a status the
// contract knows, and never panics. Faults are off (malformed answers
// would be invalid on purpose).
func FuzzServe(f *testing.F) {
	var methods []*method
	for _, svc := range services {
		for _, m := range svc {
			methods = append(methods, m)
		}
	}
	slices.SortFunc(methods, func(a, b *method) int { return strings.Compare(a.alias+a.name, b.alias+b.name) })

	s := New(Config{})
	seed := []AccountSeed{{Number: "C-1", Currency: "USD", Transactions: []string{"INV-1", "INV-2"}}}
	for i, m := range methods {
		in := map[string]any{}
		switch m.name {
		case "secure_create_note":
			in = noteIn("k")
		case "create_task":
			in = taskIn("k")
		case "insert_promise":
			in = promiseIn("k", "2026-11-06")
		case "create_dispute":
			in = disputeIn("k")
		case "apply":
			in = applyIn("k")
		case "request_dunning":
			in = dunningIn("k")
		case "update_customer_profile":
			in = profileIn("Y", "1")
		}
		f.Add(uint8(i), envelope(m.name, in))
	}
	f.Add(uint8(0), []byte(`{"FIND_ACCOUNT_Input":{"RESTHeader":{"Org_Id":{}},"InputParameters":[]}}`))
	f.Add(uint8(0), []byte(`{"@xmlns":1,"FIND_ACCOUNT_Input":null}`))
	f.Add(uint8(5), []byte(`{"INSERT_PROMISE_Input":{"InputParameters":{"P_PROMISE_REC":{"ATTRIBUTES":[1]}}}}`))
	f.Add(uint8(3), []byte("\xff\xfe{"))
	f.Add(uint8(2), []byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))

	known := []int{200, 400, 403}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		m := methods[int(which)%len(methods)]
		s.Reset() // accepted writes would pile up across inputs
		if _, err := s.Seed(seed); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, servicePath(m.alias, m.name), bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json")
		r.SetBasicAuth("RECOUP_ISG", "welcome1")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if !slices.Contains(known, w.Code) {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
		}
		_, isOut := out["OutputParameters"]
		_, isFault := out["ISGServiceFault"]
		if isOut == isFault || isOut != (w.Code == 200) {
			t.Fatalf("status %d with %s", w.Code, w.Body)
		}
	})
}
