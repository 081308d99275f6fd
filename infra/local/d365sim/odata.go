package d365sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is a property's EDM type as far as the simulator checks it.
type kind int

const (
	kString   kind = iota
	kMemo          // a long text: never in $filter (WIRE.md)
	kInt64         // Edm.Int64, bare in keys and filters
	kGUID          // Edm.Guid, bare in keys
	kEnum          // an enum member's name, as a JSON string
	kDateTime      // Edm.DateTimeOffset, RFC 3339 UTC with seconds
	kDecimal       // Edm.Decimal, a JSON number
)

// property is one field of an entity type.
type property struct {
	kind kind
	enum []string // kEnum's members
	max  int      // kString's maximum length in characters; 0 for none
}

// entity describes one entity set: its key, its properties, and which
// requests WIRE.md makes of it.
type entity struct {
	set, typ string
	keys     []string
	props    map[string]property
	// get, post and patch say which requests exist: GET by key or of the
	// collection, POST to the collection, PATCH by key.
	getKey, getCollection, post, patch bool
	// postFields and patchFields are the body WIRE.md sends: required,
	// then optional.
	postFields, patchFields [2][]string
}

// Enum members (D6).
var (
	custVendorBlocked     = []string{"No", "Invoice", "All", "Payment", "Requisition", "Never", "PurchOrder"}
	smmActivityCategory   = []string{"Appointment", "Task", "Action", "Event"}
	noYes                 = []string{"No", "Yes"}
	custVendDisputeStatus = []string{"None", "Disputed", "PromiseToPay", "Resolved", "PromiseToPayBroken", "PromiseToPayKept"}
)

var entities = map[string]*entity{
	"CustomersV3": {set: "CustomersV3", typ: "CustomerV3", keys: []string{"dataAreaId", "CustomerAccount"},
		props: map[string]property{"dataAreaId": {kind: kString}, "CustomerAccount": {kind: kString},
			"OnHoldStatus": {kind: kEnum, enum: custVendorBlocked}, "SalesCurrencyCode": {kind: kString}},
		getKey: true, patch: true, patchFields: [2][]string{{"OnHoldStatus"}, nil}},
	"CustomerAttachments": {set: "CustomerAttachments", typ: "CustomerAttachment", keys: []string{"dataAreaId", "DocumentId"},
		props: map[string]property{"dataAreaId": {kind: kString}, "DocumentId": {kind: kGUID},
			"CustomerAccountNumber": {kind: kString}, "TypeId": {kind: kString}, "Name": {kind: kString, max: 60}, "Notes": {kind: kMemo}},
		getCollection: true, post: true,
		postFields: [2][]string{{"dataAreaId", "CustomerAccountNumber", "TypeId", "Name", "Notes"}, nil}},
	"Activities": {set: "Activities", typ: "Activity", keys: []string{"dataAreaId", "ActivityNumber"},
		props: map[string]property{"dataAreaId": {kind: kString}, "ActivityNumber": {kind: kString},
			"Category": {kind: kEnum, enum: smmActivityCategory}, "Purpose": {kind: kString, max: 60}, "Notes": {kind: kMemo},
			"StartDateTime": {kind: kDateTime}, "EndDateTime": {kind: kDateTime}, "Closed": {kind: kEnum, enum: noYes}},
		getCollection: true, post: true,
		postFields: [2][]string{{"dataAreaId", "Category", "Purpose", "Notes", "StartDateTime", "EndDateTime", "Closed"}, nil}},
	"CustTransactions": {set: "CustTransactions", typ: "CustTransaction", keys: []string{"dataAreaId", "SysRecId"},
		props: map[string]property{"dataAreaId": {kind: kString}, "SysRecId": {kind: kInt64}, "AccountNum": {kind: kString},
			"Invoice": {kind: kString}, "CurrencyCode": {kind: kString}},
		getCollection: true},
	"CustDisputes": {set: "CustDisputes", typ: "CustDispute", keys: []string{"dataAreaId", "SysRecId"},
		props: map[string]property{"dataAreaId": {kind: kString}, "SysRecId": {kind: kInt64}, "CustTrans": {kind: kInt64},
			"Status": {kind: kEnum, enum: custVendDisputeStatus}, "FollowUpDate": {kind: kDateTime}, "Note": {kind: kMemo},
			"AmountCur": {kind: kDecimal}},
		getCollection: true, post: true, patch: true,
		postFields:  [2][]string{{"dataAreaId", "CustTrans", "Status", "Note"}, {"FollowUpDate", "AmountCur"}},
		patchFields: [2][]string{{"Status", "Note"}, {"FollowUpDate", "AmountCur"}}},
}

// apiError is a refusal the simulator answers as an OData error.
type apiError struct {
	status            int
	code, msg, detail string
}

func (e *apiError) Error() string { return e.msg + ": " + e.detail }

func badRequest(msg, detail string, args ...any) *apiError {
	return &apiError{status: 400, msg: msg, detail: fmt.Sprintf(detail, args...)}
}

func syntaxError(detail string, args ...any) *apiError {
	return badRequest("Bad Request - Error in query syntax.", detail, args...)
}

// splitPath splits what follows /data/ into the entity set and the text
// of its key, if any.
func splitPath(rest string) (set, key string, keyed bool, err *apiError) {
	i := strings.IndexByte(rest, '(')
	if i < 0 {
		if strings.ContainsAny(rest, "/)'") {
			return rest, "", false, syntaxError("the path %q is not an entity set", clip(rest))
		}
		return rest, "", false, nil
	}
	set = rest[:i]
	if !strings.HasSuffix(rest, ")") {
		return set, "", true, syntaxError("the key of %s is not closed by ')' at the end of the path", set)
	}
	return set, rest[i+1 : len(rest)-1], true, nil
}

// keyValue is one parsed key or filter literal.
type keyValue struct {
	text   string // a string's value (quotes removed), or the bare token
	quoted bool
}

var (
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	bareRe  = regexp.MustCompile(`^-?[0-9A-Za-z][0-9A-Za-z-]*`)
	guidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	int64Re = regexp.MustCompile(`^(0|[1-9][0-9]{0,18})$`)
)

// literal reads a quoted string (a doubled quote inside is one quote) or
// a bare token at the start of s, and answers it with what follows.
func literal(s string) (keyValue, string, bool) {
	if strings.HasPrefix(s, "'") {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return keyValue{text: b.String(), quoted: true}, s[i+1:], true
		}
		return keyValue{}, s, false // unterminated
	}
	tok := bareRe.FindString(s)
	if tok == "" {
		return keyValue{}, s, false
	}
	return keyValue{text: tok}, s[len(tok):], true
}

// parseKey reads "name=value,…": every key field of e, each once, typed.
func parseKey(text string, e *entity) (map[string]string, *apiError) {
	out := map[string]string{}
	s := text
	for {
		name := identRe.FindString(s)
		if name == "" {
			return nil, syntaxError("key of %s: expected a property name at %q (keys are name=value pairs)", e.set, clip(s))
		}
		s = s[len(name):]
		if !strings.HasPrefix(s, "=") {
			return nil, syntaxError("key of %s: expected '=' after %s", e.set, name)
		}
		v, rest, ok := literal(s[1:])
		if !ok {
			return nil, syntaxError("key of %s: the value of %s is not a literal (strings are single-quoted)", e.set, name)
		}
		s = rest
		if !slices.Contains(e.keys, name) {
			return nil, syntaxError("key of %s: %s is not a key property (the key is %s)", e.set, name, strings.Join(e.keys, ", "))
		}
		if _, dup := out[name]; dup {
			return nil, syntaxError("key of %s: %s is given twice", e.set, name)
		}
		if msg := checkLiteral(e.props[name], v); msg != "" {
			return nil, syntaxError("key of %s: %s %s", e.set, name, msg)
		}
		out[name] = v.text
		if s == "" {
			break
		}
		if !strings.HasPrefix(s, ",") {
			return nil, syntaxError("key of %s: expected ',' or ')' after the value of %s", e.set, name)
		}
		s = s[1:]
	}
	for _, k := range e.keys {
		if _, ok := out[k]; !ok {
			return nil, syntaxError("key of %s: %s is missing (the key is %s)", e.set, k, strings.Join(e.keys, ", "))
		}
	}
	return out, nil
}

// checkLiteral checks a key or filter literal against its property's
// type, answering what is wrong or "".
func checkLiteral(p property, v keyValue) string {
	switch p.kind {
	case kString:
		if !v.quoted {
			return "is a string: quote it"
		}
		if !utf8.ValidString(v.text) {
			return "is not UTF-8"
		}
	case kInt64:
		if v.quoted || !int64Re.MatchString(v.text) {
			return "is an Int64: write it bare, in digits"
		}
		if _, err := strconv.ParseInt(v.text, 10, 64); err != nil {
			return "is out of the Int64 range"
		}
	case kGUID:
		if v.quoted || !guidRe.MatchString(v.text) {
			return "is a Guid: write it bare, 8-4-4-4-12 hex digits"
		}
	default:
		return "cannot be used here by the simulator (WIRE.md uses strings, Int64 and Guid keys)"
	}
	return ""
}

// clause is one "Field eq literal" of a $filter.
type clause struct {
	field string
	value string
}

// parseFilter reads the $filter WIRE.md sends: "and"-joined "Field eq
// literal" clauses on string and Int64 properties, one of which names the
// company.
func parseFilter(text string, e *entity) ([]clause, string, *apiError) {
	bad := func(detail string, args ...any) ([]clause, string, *apiError) {
		return nil, "", badRequest("The query specified in the URI is not valid.", "$filter: "+detail, args...)
	}
	var out []clause
	s := text
	for {
		name := identRe.FindString(s)
		if name == "" {
			return bad("expected a property name at %q", clip(s))
		}
		s = s[len(name):]
		p, known := e.props[name]
		if !known {
			return bad("Could not find a property named '%s' on type 'Microsoft.Dynamics.DataEntities.%s'", clip(name), e.typ)
		}
		rest, ok := strings.CutPrefix(s, " eq ")
		if !ok {
			return bad("only 'Field eq literal' clauses are supported by the simulator (WIRE.md), at %q", clip(s))
		}
		v, rest, ok := literal(rest)
		if !ok {
			return bad("the value of %s is not a literal", name)
		}
		s = rest
		switch p.kind {
		case kString, kInt64:
			if msg := checkLiteral(p, v); msg != "" {
				return bad("%s %s", name, msg)
			}
		case kMemo:
			return bad("%s is a memo field: WIRE.md keeps memo fields out of $filter", name)
		default:
			return bad("the simulator filters only on string and Int64 properties, not %s", name)
		}
		out = append(out, clause{field: name, value: v.text})
		if s == "" {
			break
		}
		rest, ok = strings.CutPrefix(s, " and ")
		if !ok {
			return bad("clauses are joined by ' and ' (WIRE.md), at %q", clip(s))
		}
		s = rest
	}
	company := ""
	for _, c := range out {
		if c.field == "dataAreaId" {
			if company != "" || strings.Contains(c.value, "*") {
				return bad("dataAreaId must be named once, without a wildcard")
			}
			company = c.value
		}
	}
	if company == "" {
		return bad("every collection read filters on dataAreaId (WIRE.md, cross-company rules)")
	}
	return out, company, nil
}

// matches applies F&O's string comparison: case-insensitive, '*' a
// wildcard. Int64 values are compared as text, both being canonical.
func matches(pattern, v string) bool {
	p, s := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(v))
	// Iterative glob match with backtracking to the last '*'.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// parseSelect reads $select: properties of e, comma-separated.
func parseSelect(text string, e *entity) ([]string, *apiError) {
	var out []string
	for f := range strings.SplitSeq(text, ",") {
		f = strings.TrimSpace(f)
		if _, ok := e.props[f]; !ok {
			return nil, badRequest("The query specified in the URI is not valid.",
				"$select: Could not find a property named '%s' on type 'Microsoft.Dynamics.DataEntities.%s'", clip(f), e.typ)
		}
		out = append(out, f)
	}
	return out, nil
}

var decimalRe = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$`)

// parseBody checks a write's JSON body against the fields WIRE.md sends,
// and answers the values as text (numbers as written).
func parseBody(b []byte, e *entity, fields [2][]string) (map[string]string, *apiError) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, badRequest("The request body is not a valid JSON object.", "%v", errText(err))
	}
	required, optional := fields[0], fields[1]
	out := map[string]string{}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range raw {
			if !yield(k) {
				return
			}
		}
	}) {
		p, known := e.props[name]
		if !known {
			return nil, badRequest("An error has occurred.", "The property '%s' does not exist on type 'Microsoft.Dynamics.DataEntities.%s'. Make sure to only use property names that are defined by the type.", clip(name), e.typ)
		}
		if !slices.Contains(required, name) && !slices.Contains(optional, name) {
			return nil, badRequest("An error has occurred.", "%s is not written by the adapter (WIRE.md sends %s)", name, strings.Join(append(slices.Clone(required), optional...), ", "))
		}
		v, msg := bodyValue(p, raw[name])
		if msg != "" {
			return nil, badRequest("An error has occurred.", "%s: %s", name, msg)
		}
		out[name] = v
	}
	for _, name := range required {
		if _, ok := out[name]; !ok {
			return nil, badRequest("An error has occurred.", "%s is required (WIRE.md)", name)
		}
	}
	return out, nil
}

func errText(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

// bodyValue checks one body value against its property's type.
func bodyValue(p property, raw json.RawMessage) (string, string) {
	var s string
	isString := json.Unmarshal(raw, &s) == nil
	switch p.kind {
	case kString, kMemo:
		if !isString {
			return "", "want a JSON string"
		}
		if strings.TrimSpace(s) == "" {
			return "", "must not be empty"
		}
		if p.max > 0 && utf8.RuneCountInString(s) > p.max {
			return "", fmt.Sprintf("%d characters, the field holds %d", utf8.RuneCountInString(s), p.max)
		}
		return s, ""
	case kEnum:
		if !isString || !slices.Contains(p.enum, s) {
			return "", fmt.Sprintf("Requested value '%s' was not found: want one of %v", clip(strings.Trim(string(raw), `"`)), p.enum)
		}
		return s, ""
	case kDateTime:
		t, err := time.Parse(time.RFC3339, s)
		if !isString || err != nil || len(s) != len("2006-01-02T15:04:05Z") || !strings.HasSuffix(s, "Z") || t.Year() < 1900 {
			return "", "want an RFC 3339 UTC date-time with seconds, 2026-11-06T12:00:00Z"
		}
		return s, ""
	case kInt64:
		n := strings.TrimSpace(string(raw))
		if !int64Re.MatchString(n) {
			return "", "want an Int64 as a JSON number"
		}
		if _, err := strconv.ParseInt(n, 10, 64); err != nil {
			return "", "out of the Int64 range"
		}
		return n, ""
	case kDecimal:
		n := strings.TrimSpace(string(raw))
		if !decimalRe.MatchString(n) {
			return "", "want a positive decimal as a JSON number, 45.00"
		}
		return n, ""
	}
	return "", "cannot be written"
}
