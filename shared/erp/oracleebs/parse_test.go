package oracleebs

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		class   erp.Class // "" for success
		code    string
		notSent bool
		creds   bool // the credentials were refused
	}{
		{name: "success", status: 200, body: `{"OutputParameters":{"X_RETURN_STATUS":"S","X_MSG_COUNT":"0","X_JTF_NOTE_ID":"10001"}}`},
		{name: "business error keeps the message's code", status: 200,
			body:  `{"OutputParameters":{"X_RETURN_STATUS":"E","X_MSG_COUNT":"1","X_MSG_DATA":"GL_PERIOD_CLOSED: the period is closed"}}`,
			class: erp.ClassPermanent, code: "GL_PERIOD_CLOSED"},
		{name: "business error in words", status: 200,
			body:  `{"OutputParameters":{"X_RETURN_STATUS":"E","X_MSG_COUNT":"1","X_MSG_DATA":"Invalid account"}}`,
			class: erp.ClassPermanent, code: "E"},
		{name: "stale profile version is retried", status: 200,
			body:  `{"OutputParameters":{"X_RETURN_STATUS":"E","X_MSG_DATA":"HZ_API_RECORD_CHANGED: changed by another user"}}`,
			class: erp.ClassTransient, code: "HZ_API_RECORD_CHANGED", notSent: true},
		{name: "unexpected error", status: 200, body: `{"OutputParameters":{"X_RETURN_STATUS":"U","X_MSG_DATA":"ORA-00054"}}`,
			class: erp.ClassTransient, code: "U"},
		{name: "200 with a fault inside, no OutputParameters", status: 200, body: `{"ISGServiceFault":{"Code":"X"}}`,
			class: erp.ClassTransient, code: "malformed_response"},
		{name: "truncated JSON", status: 200, body: `{"OutputParameters":{"X_RETURN_ST`, class: erp.ClassTransient, code: "malformed_response"},
		{name: "status missing", status: 200, body: `{"OutputParameters":{}}`, class: erp.ClassTransient, code: "malformed_response"},
		{name: "authentication", status: 401, body: `{"ISGServiceFault":{"Code":"FND_SOA_AUTHENTICATION_FAILURE","Message":"bad user"}}`,
			class: erp.ClassPermanent, code: "FND_SOA_AUTHENTICATION_FAILURE", notSent: true, creds: true},
		{name: "no grant", status: 403, body: `{"ISGServiceFault":{"Code":"ISG_SERVICE_AUTH_FAILURE","Message":"no grant"}}`,
			class: erp.ClassPermanent, code: "ISG_SERVICE_AUTH_FAILURE"},
		{name: "database down", status: 500, body: `{"ISGServiceFault":{"Code":"ISG_DB_CONNECTION_ERROR","Message":"down"}}`,
			class: erp.ClassTransient, code: "ISG_DB_CONNECTION_ERROR"},
		{name: "proxy page", status: 502, body: `<html>Bad Gateway</html>`, class: erp.ClassTransient, code: "502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := parse("a", "m", tt.status, []byte(tt.body))
			if tt.class == "" {
				if err != nil || out.str("X_JTF_NOTE_ID") != "10001" {
					t.Fatalf("%v %v", out, err)
				}
				return
			}
			var e *erp.Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v is not an erp.Error", err)
			}
			if e.Class != tt.class || e.Code != tt.code || e.NotSent != tt.notSent || e.Credentials != tt.creds {
				t.Errorf("got %s %s notSent=%v credentials=%v, want %s %s %v %v", e.Class, e.Code, e.NotSent, e.Credentials,
					tt.class, tt.code, tt.notSent, tt.creds)
			}
			if !strings.Contains(e.Message, "a/m") {
				t.Errorf("message %q does not name the service", e.Message)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	// A port nothing listens on: the request never left.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{BaseURL: "http://" + addr, User: "u", Password: "p", Resource: "100",
		Context: Context{"R", "AR", "STANDARD", "AMERICAN", "204"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.call(context.Background(), "xx_recoup", "find_account", map[string]any{"P_ACCOUNT_NUMBER": "C"})
	var e *erp.Error
	if !errors.As(err, &e) || e.Class != erp.ClassTransient || !e.NotSent {
		t.Fatalf("refused connection: %+v", err)
	}
}

func TestNewNamesMissingConfig(t *testing.T) {
	_, err := New(Config{BaseURL: "http://x", User: "u"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, f := range []string{"Password", "Context.Responsibility", "Context.OrgID", "Resource"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(200, []byte(`{"OutputParameters":{"X_RETURN_STATUS":"S"}}`))
	f.Add(200, []byte(`{"OutputParameters":{"X_RETURN_STATUS":"E","X_MSG_DATA":"A: b"}}`))
	f.Add(500, []byte(`{"ISGServiceFault":{"Code":"ISG_DB_CONNECTION_ERROR"}}`))
	f.Add(401, []byte(`not json`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		out, err := parse("a", "m", status, body)
		if err == nil {
			if status != http.StatusOK || out.str("X_RETURN_STATUS") != "S" {
				t.Fatalf("success from status %d, %v", status, out)
			}
			return
		}
		var e *erp.Error
		if !errors.As(err, &e) || (e.Class != erp.ClassPermanent && e.Class != erp.ClassTransient) || e.Code == "" {
			t.Fatalf("unclassified: %#v", err)
		}
	})
}
