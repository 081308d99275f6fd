package dynamics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
)

// str is an OData string literal inside a key: quoted, a quote doubled,
// then escaped as a path segment so '/', '#', '?' and ',' cannot end it.
func str(v string) string {
	return "'" + url.PathEscape(strings.ReplaceAll(v, "'", "''")) + "'"
}

// lit is an OData string literal inside a $filter (the query string is
// escaped as a whole by query).
func lit(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// query encodes OData query options in order, spaces as %20: OData reads
// '+' literally in some stacks, and "$filter" reads better unescaped.
func query(opts ...[2]string) string {
	var b strings.Builder
	for i, o := range opts {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(o[0])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(o[1]), "+", "%20"))
	}
	return b.String()
}

// odataError is the OData JSON error body.
type odataError struct {
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"innererror"`
	} `json:"error"`
}

// message reads an error answer's code and text: the OData message, then
// innererror.message (where F&O puts the Infolog) when it says more.
func message(status int, body []byte) (code, msg string) {
	code, msg = strconv.Itoa(status), clip(strings.TrimSpace(string(body)), 300)
	var e odataError
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		if msg == "" {
			msg = http.StatusText(status)
		}
		return code, msg
	}
	if e.Error.Code != "" {
		code = clip(e.Error.Code, 100)
	}
	msg = e.Error.Message
	if in := e.Error.InnerError; in != nil && in.Message != "" && in.Message != msg {
		if msg != "" {
			msg += ": "
		}
		msg += in.Message
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return code, clip(msg, 1000)
}

// check classifies an answer. It returns nil for a 2xx whose body decodes
// into out (when out is not nil) and passes ok (when ok is not nil). what
// names the request in messages; write says whether it could have changed
// anything, which decides whether a lost or spoilt answer leaves the
// action in doubt.
func check(what string, r reply, write bool, out any, ok func() bool) *erp.Error {
	if r.status >= 200 && r.status < 300 {
		if out == nil {
			// No answer is needed (a PATCH's 204), but one that came
			// spoilt may not be F&O's: in doubt rather than taken.
			if b := bytes.TrimSpace(r.body); len(b) > 0 && !json.Valid(b) {
				return &erp.Error{Class: erp.ClassTransient, Code: "malformed_response", NotSent: !write,
					Message: fmt.Sprintf("%s: HTTP %d with an answer that is not JSON (%d bytes)", what, r.status, len(r.body))}
			}
			return nil
		}
		if err := json.Unmarshal(r.body, out); err != nil || (ok != nil && !ok()) {
			return &erp.Error{Class: erp.ClassTransient, Code: "malformed_response", NotSent: !write,
				Message: fmt.Sprintf("%s: HTTP %d with an answer that does not decode (%d bytes)", what, r.status, len(r.body))}
		}
		return nil
	}
	code, msg := message(r.status, r.body)
	msg = fmt.Sprintf("%s: HTTP %d: %s", what, r.status, msg)
	switch {
	case r.status == http.StatusTooManyRequests:
		// Throttling refuses a request before it runs (D3).
		if wait, found := retryAfter(r.header.Get("Retry-After")); found {
			msg += fmt.Sprintf(" (retry after %s)", wait)
		}
		return &erp.Error{Class: erp.ClassTransient, Code: "429", Message: msg, NotSent: true}
	case r.status == http.StatusPreconditionFailed:
		// The ETag no longer matches: the PATCH was refused.
		return &erp.Error{Class: erp.ClassTransient, Code: "412", Message: msg, NotSent: true}
	case r.status >= 500 || r.status == http.StatusRequestTimeout:
		return &erp.Error{Class: erp.ClassTransient, Code: code, Message: msg, NotSent: !write}
	}
	return &erp.Error{Class: erp.ClassPermanent, Code: code, Message: msg}
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(h string) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 && n < 1<<20 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t).Round(time.Second), 0), true
	}
	return 0, false
}

// etagOf is an entity's ETag: @odata.etag in the body, else the header.
func etagOf(body string, r reply) string {
	if body != "" {
		return body
	}
	return r.header.Get("ETag")
}

// customer is what the adapter reads of CustomersV3.
type customer struct {
	ETag         string `json:"@odata.etag"`
	Account      string `json:"CustomerAccount"`
	OnHoldStatus string `json:"OnHoldStatus"`
}

// attachment is a CustomerAttachments row.
type attachment struct {
	DocumentID string `json:"DocumentId"`
	Account    string `json:"CustomerAccountNumber"`
	Name       string `json:"Name"`
}

// activity is an Activities row.
type activity struct {
	Number  string `json:"ActivityNumber"`
	Purpose string `json:"Purpose"`
}

// custTrans is a CustTransactions row.
type custTrans struct {
	RecID    json.Number `json:"SysRecId"`
	Account  string      `json:"AccountNum"`
	Invoice  string      `json:"Invoice"`
	Currency string      `json:"CurrencyCode"`
}

// dispute is a CustDisputes row.
type dispute struct {
	ETag      string      `json:"@odata.etag"`
	RecID     json.Number `json:"SysRecId"`
	CustTrans json.Number `json:"CustTrans"`
	Status    string      `json:"Status"`
	Note      string      `json:"Note"`
}

// collection is an OData collection answer; Value stays nil when the
// answer has no "value", which check reports as malformed.
type collection[T any] struct {
	Value *[]T `json:"value"`
}

// recID reads an Int64 key, refusing anything but plain digits so it is
// safe to put bare in a key or a filter.
func recID(n json.Number) (string, bool) {
	s := n.String()
	v, err := strconv.ParseInt(s, 10, 64)
	return s, err == nil && v > 0 && strconv.FormatInt(v, 10) == s
}
