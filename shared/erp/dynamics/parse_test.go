package dynamics

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/erp"
)

func TestCheck(t *testing.T) {
	type want struct {
		Class   erp.Class
		Code    string
		NotSent bool
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		write  bool
		decode bool // decode a customer from the answer
		want   *want
		says   string
	}{
		{name: "entity", status: 200, body: `{"@odata.etag":"W/\"1\"","CustomerAccount":"C-1","OnHoldStatus":"No"}`, decode: true},
		{name: "no content", status: 204, write: true},
		{name: "spoilt no-content answer", status: 200, body: `{"@odata.etag":"W/`, write: true,
			want: &want{erp.ClassTransient, "malformed_response", false}},
		{name: "truncated entity on a read", status: 200, body: `{"@odata.etag":"W/\"1\"","Customer`, decode: true,
			want: &want{erp.ClassTransient, "malformed_response", true}},
		{name: "entity without its fields", status: 200, body: `{"value":[]}`, decode: true,
			want: &want{erp.ClassTransient, "malformed_response", true}},
		{name: "F&O error keeps the Infolog", status: 400,
			body: `{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Infolog: Error: Period closed.","type":"X","stacktrace":""}}}`,
			want: &want{erp.ClassPermanent, "400", false}, says: "An error has occurred.: Infolog: Error: Period closed."},
		{name: "OData code", status: 404, body: `{"error":{"code":"NotFound","message":"Resource not found for the segment 'CustomersV3'."}}`,
			want: &want{erp.ClassPermanent, "NotFound", false}, says: "Resource not found"},
		{name: "no innererror", status: 409, body: `{"error":{"code":"","message":"Conflict"}}`, want: &want{erp.ClassPermanent, "409", false}, says: "Conflict"},
		{name: "forbidden", status: 403, body: ``, want: &want{erp.ClassPermanent, "403", false}, says: "Forbidden"},
		{name: "throttled", status: 429, header: http.Header{"Retry-After": {"30"}}, body: `{"error":{"code":"","message":"Number of requests exceeded"}}`,
			write: true, want: &want{erp.ClassTransient, "429", true}, says: "retry after 30s"},
		{name: "stale ETag", status: 412, write: true, want: &want{erp.ClassTransient, "412", true}},
		{name: "5xx on a write is in doubt", status: 500, body: `{"error":{"code":"","message":"An error has occurred."}}`, write: true,
			want: &want{erp.ClassTransient, "500", false}},
		{name: "5xx on a read never sent", status: 503, body: `<html>busy</html>`, want: &want{erp.ClassTransient, "503", true}, says: "busy"},
		{name: "request timeout", status: 408, write: true, want: &want{erp.ClassTransient, "408", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			var cu customer
			var out any
			var ok func() bool
			if tt.decode {
				out, ok = &cu, func() bool { return cu.OnHoldStatus != "" }
			}
			e := check("read customer", reply{status: tt.status, header: h, body: []byte(tt.body)}, tt.write, out, ok)
			if tt.want == nil {
				if e != nil {
					t.Fatalf("err %v", e)
				}
				return
			}
			if e == nil {
				t.Fatal("no error")
			}
			if d := cmp.Diff(*tt.want, want{e.Class, e.Code, e.NotSent}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if !strings.Contains(e.Message, tt.says) || !strings.Contains(e.Message, "read customer") {
				t.Errorf("message %q does not say %q and name the request", e.Message, tt.says)
			}
		})
	}
}

func TestLiterals(t *testing.T) {
	tests := []struct{ in, key, filter string }{
		{"C-1", "'C-1'", "'C-1'"},
		{"O'Brien", "'O%27%27Brien'", "'O''Brien'"},
		{"A/B,C#1?x", "'A%2FB%2CC%231%3Fx'", "'A/B,C#1?x'"},
		{"Ünal 7", "'%C3%9Cnal%207'", "'Ünal 7'"},
	}
	for _, tt := range tests {
		if got := str(tt.in); got != tt.key {
			t.Errorf("str(%q) = %s, want %s", tt.in, got, tt.key)
		}
		if got := lit(tt.in); got != tt.filter {
			t.Errorf("lit(%q) = %s, want %s", tt.in, got, tt.filter)
		}
	}
	if got := query([2]string{"$filter", "dataAreaId eq 'usmf' and Name eq 'a+b'"}, [2]string{"$select", "A,B"}); got !=
		"$filter=dataAreaId%20eq%20%27usmf%27%20and%20Name%20eq%20%27a%2Bb%27&$select=A%2CB" {
		t.Errorf("query: %s", got)
	}
}

// Whatever F&O or a proxy answers, check classifies it: a success only for
// a 2xx that decodes, every failure with a class and a code, no panic.
func FuzzCheck(f *testing.F) {
	f.Add(200, "", []byte(`{"@odata.etag":"W/\"1\"","CustomerAccount":"C-1","OnHoldStatus":"All"}`), false)
	f.Add(201, "", []byte(`{"@odata.etag":"W/\"1\"","SysRecId":5637200001,"CustTrans":5637144576,"Status":"Disputed","Note":"x"}`), true)
	f.Add(200, "", []byte(`{"value":[{"@odata.etag":"W/\"1\"","SysRecId":1,"AccountNum":"C-1","Invoice":"INV-1"}]}`), false)
	f.Add(204, "", []byte(nil), true)
	f.Add(400, "", []byte(`{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Infolog"}}}`), true)
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`{"error":{}}`), true)
	f.Add(429, "-5", []byte(`{"error":null}`), false)
	f.Add(500, "", []byte("<html>"), true)
	f.Add(302, "", []byte(`{"error":{"code":"`+strings.Repeat("x", 300)+`"}}`), false)
	f.Fuzz(func(t *testing.T, status int, retry string, body []byte, write bool) {
		r := reply{status: status, header: http.Header{"Retry-After": {retry}}, body: body}
		for _, decode := range []func() (any, func() bool){
			func() (any, func() bool) { return nil, nil },
			func() (any, func() bool) {
				var cu customer
				return &cu, func() bool { return cu.OnHoldStatus != "" }
			},
			func() (any, func() bool) {
				var d dispute
				return &d, func() bool { _, ok := recID(d.RecID); return ok }
			},
			func() (any, func() bool) {
				var c collection[custTrans]
				return &c, func() bool { return c.Value != nil }
			},
		} {
			out, ok := decode()
			e := check("fuzz", r, write, out, ok)
			if e == nil {
				if status < 200 || status > 299 {
					t.Fatalf("success from status %d", status)
				}
				continue
			}
			if (e.Class != erp.ClassPermanent && e.Class != erp.ClassTransient) || e.Code == "" || !strings.HasPrefix(e.Message, "fuzz: ") {
				t.Fatalf("unclassified: %#v", e)
			}
			if e.Class == erp.ClassTransient && !e.NotSent && !write {
				t.Fatalf("a read left in doubt: %#v", e)
			}
		}
	})
}
