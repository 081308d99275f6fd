package ebssim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeJSON decodes one JSON value, keeping numbers as json.Number so a
// number can be told from a string, and refusing duplicate keys, which
// encoding/json would silently collapse to the last one.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

const maxDepth = 32

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deep")
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return t, nil // string, json.Number, bool or nil
	}
	switch d {
	case '{':
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			if m[k], err = decodeValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// xmlns is the namespace key ISG's XML heritage lets clients send on any
// object; it carries nothing in JSON, so it is skipped wherever it is.
const xmlns = "@xmlns"

// parseEnvelope checks the body down to the InputParameters object: what
// ISG itself checks before it calls the PL/SQL.
func (s *Server) parseEnvelope(body []byte, m *method) (map[string]any, *isgFault) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, errPayload("the body is not valid JSON: %v", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, errPayload("the body is not a JSON object")
	}
	want := m.upper() + "_Input"
	for k := range top {
		if k != want && k != xmlns {
			return nil, errPayload("unexpected top-level key %q: the body is {%q: {...}}", k, want)
		}
	}
	in, ok := top[want].(map[string]any)
	if !ok {
		return nil, errPayload("%q is missing or not an object", want)
	}
	for k := range in {
		if k != "RESTHeader" && k != "InputParameters" && k != xmlns {
			return nil, errPayload("unexpected key %q in %s: only RESTHeader and InputParameters", k, want)
		}
	}
	if f := s.checkHeader(in["RESTHeader"]); f != nil {
		return nil, f
	}
	params, ok := in["InputParameters"].(map[string]any)
	if !ok {
		return nil, errPayload("%s.InputParameters is missing or not an object", want)
	}
	if f := checkShape(params, m.inputs, ""); f != nil {
		return nil, f
	}
	return params, nil
}

// checkHeader wants the five context fields, as strings equal to the
// configured grant: ISG sets the apps context from them and refuses a
// responsibility the user has no grant for.
func (s *Server) checkHeader(v any) *isgFault {
	if v == nil {
		return errGrant("RESTHeader is missing: it carries Responsibility, RespApplication, SecurityGroup, NLSLanguage and Org_Id")
	}
	h, ok := v.(map[string]any)
	if !ok {
		return errPayload("RESTHeader is not an object")
	}
	c := s.cfg.Context
	want := []struct{ name, value string }{
		{"Responsibility", c.Responsibility}, {"RespApplication", c.RespApplication},
		{"SecurityGroup", c.SecurityGroup}, {"NLSLanguage", c.NLSLanguage}, {"Org_Id", c.OrgID},
	}
	known := map[string]bool{xmlns: true}
	for _, f := range want {
		known[f.name] = true
	}
	for k := range h {
		if !known[k] {
			return errPayload("unexpected RESTHeader field %q", k)
		}
	}
	for _, f := range want {
		got, present := h[f.name]
		sv, isString := got.(string)
		switch {
		case !present:
			return errGrant("RESTHeader.%s is missing", f.name)
		case !isString:
			return errGrant("RESTHeader.%s is not a JSON string", f.name)
		case sv != f.value:
			return errGrant("RESTHeader.%s %q has no grant for this user (want %q)", f.name, sv, f.value)
		}
	}
	return nil
}

// kind is a parameter's PL/SQL type as the contract sends it.
type kind int

const (
	text     kind = iota
	number        // an integer id or version: digits only
	amount        // a decimal: "180.00", "-25.5"
	date          // YYYY-MM-DD
	datetime      // YYYY-MM-DD, or with THH:MM:SS and an optional zone
	record        // an object of fields
	table         // {"<NAME>_ITEM": [records]}
)

// field is an input parameter, or a field of a record or table item.
type field struct {
	name     string
	kind     kind
	optional bool
	constant string   // the one value the contract allows
	oneOf    []string // the values the contract allows
	max      int      // characters
	fields   []field  // of a record, or of a table's items
}

func str(name string) field    { return field{name: name, kind: text} }
func num(name string) field    { return field{name: name, kind: number} }
func amt(name string) field    { return field{name: name, kind: amount} }
func day(name string) field    { return field{name: name, kind: date} }
func moment(name string) field { return field{name: name, kind: datetime} }
func fixed(name, v string) field {
	return field{name: name, kind: text, constant: v}
}
func enum(name string, vs ...string) field { return field{name: name, kind: text, oneOf: vs} }
func rec(name string, fs ...field) field   { return field{name: name, kind: record, fields: fs} }
func tbl(name string, fs ...field) field   { return field{name: name, kind: table, fields: fs} }
func upTo(n int, f field) field            { f.max = n; return f }
func opt(f field) field                    { f.optional = true; return f }

// keyField is an ATTRIBUTE15 (or P_KEY): the descriptive flexfield columns
// are VARCHAR2(150).
func keyField(name string) field { return upTo(150, str(name)) }

func (f field) item() string { return f.name + "_ITEM" }

// checkShape is ISG's own check of the InputParameters against the
// service's schema: names must be known, scalars must be JSON strings,
// records objects and tables {"X_ITEM": [...]}. A failure is a 400.
func checkShape(obj map[string]any, fields []field, path string) *isgFault {
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	for k, v := range obj {
		if k == xmlns {
			continue
		}
		f, ok := byName[k]
		if !ok {
			return errPayload("unknown input parameter %s%s", path, k)
		}
		name := path + k
		switch f.kind {
		case record:
			m, ok := v.(map[string]any)
			if !ok {
				return errPayload("input parameter %s is a record: a JSON object", name)
			}
			if e := checkShape(m, f.fields, name+"."); e != nil {
				return e
			}
		case table:
			m, ok := v.(map[string]any)
			if !ok {
				return errPayload("input parameter %s is a table: {%q: [...]}", name, f.item())
			}
			for ik, iv := range m {
				if ik == xmlns {
					continue
				}
				items, ok := iv.([]any)
				if ik != f.item() || !ok {
					return errPayload("input parameter %s is a table: {%q: [...]}", name, f.item())
				}
				for i, it := range items {
					im, ok := it.(map[string]any)
					if !ok {
						return errPayload("%s.%s[%d] is not a JSON object", name, ik, i)
					}
					if e := checkShape(im, f.fields, fmt.Sprintf("%s.%s[%d].", name, ik, i)); e != nil {
						return e
					}
				}
			}
		default:
			if _, ok := v.(string); !ok {
				return errPayload("input parameter %s is not a JSON string (every scalar is sent as a string)", name)
			}
		}
	}
	return nil
}

var (
	digits      = regexp.MustCompile(`^[0-9]+$`)
	decimal     = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	dateOnly    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	dateAndTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$`)
)

// checkValues is what the PL/SQL API checks once it runs: required
// parameters, the values the contract fixes, formats and lengths. It
// answers the first problem as X_MSG_DATA, as the API would (empty when
// there is none). Shapes were checked by checkShape.
func checkValues(obj map[string]any, fields []field, path string) string {
	for _, f := range fields {
		name := path + f.name
		v, present := obj[f.name]
		switch f.kind {
		case record:
			if !present {
				if f.optional {
					continue
				}
				return missing(name)
			}
			if msg := checkValues(v.(map[string]any), f.fields, name+"."); msg != "" {
				return msg
			}
			continue
		case table:
			items, _ := params(obj).table(f.name)
			if len(items) == 0 {
				if f.optional {
					continue
				}
				return missing(name)
			}
			for i, it := range items {
				if msg := checkValues(it, f.fields, fmt.Sprintf("%s.%s[%d].", name, f.item(), i)); msg != "" {
					return msg
				}
			}
			continue
		}
		s, _ := v.(string)
		if s == "" { // PL/SQL reads "" as NULL
			if f.optional {
				continue
			}
			return missing(name)
		}
		if msg := checkScalar(f, name, s); msg != "" {
			return msg
		}
	}
	return ""
}

func checkScalar(f field, name, s string) string {
	switch {
	case f.constant != "" && s != f.constant:
		return invalid("%s must be %q, not %q", name, f.constant, clip(s))
	case f.oneOf != nil && !contains(f.oneOf, s):
		return invalid("%s must be one of %q, not %q", name, f.oneOf, clip(s))
	case f.max > 0 && utf8.RuneCountInString(s) > f.max:
		return invalid("%s is %d characters, more than %d", name, utf8.RuneCountInString(s), f.max)
	}
	switch f.kind {
	case number:
		if _, err := strconv.ParseInt(s, 10, 64); err != nil || !digits.MatchString(s) {
			return invalid("%s %q is not a number", name, clip(s))
		}
	case amount:
		if !decimal.MatchString(s) {
			return invalid("%s %q is not a decimal amount", name, clip(s))
		}
	case date:
		if _, err := time.Parse(time.DateOnly, s); err != nil || !dateOnly.MatchString(s) {
			return invalid("%s %q is not a date YYYY-MM-DD", name, clip(s))
		}
	case datetime:
		if !parseMoment(s) {
			return invalid("%s %q is not a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[zone]", name, clip(s))
		}
	}
	return ""
}

func parseMoment(s string) bool {
	switch {
	case dateOnly.MatchString(s):
		_, err := time.Parse(time.DateOnly, s)
		return err == nil
	case !dateAndTime.MatchString(s):
		return false
	case len(s) == len("2006-01-02T15:04:05"):
		_, err := time.Parse("2006-01-02T15:04:05", s)
		return err == nil
	default:
		_, err := time.Parse(time.RFC3339, s)
		return err == nil
	}
}

func contains(vs []string, s string) bool {
	for _, v := range vs {
		if v == s {
			return true
		}
	}
	return false
}

// clip keeps an echoed value short: a message is for a person reading a
// dead letter, not a copy of the input.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

func missing(name string) string {
	return "FND_API_MISSING_PARAM: " + name + " is required"
}

func invalid(format string, args ...any) string {
	return "FND_API_INVALID_PARAM: " + fmt.Sprintf(format, args...)
}

// params reads InputParameters after checkShape and checkValues passed.
type params map[string]any

func (p params) str(name string) string { s, _ := p[name].(string); return s }

func (p params) id(name string) int64 {
	n, _ := strconv.ParseInt(p.str(name), 10, 64)
	return n
}

func (p params) rec(name string) params { m, _ := p[name].(map[string]any); return m }

func (p params) table(name string) ([]map[string]any, bool) {
	m, ok := p[name].(map[string]any)
	if !ok {
		return nil, false
	}
	items, _ := m[name+"_ITEM"].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if im, ok := it.(map[string]any); ok {
			out = append(out, im)
		}
	}
	return out, true
}

// sign is -1, 0 or 1 for a decimal checkValues accepted.
func sign(s string) int {
	f, _ := strconv.ParseFloat(s, 64)
	switch {
	case f < 0:
		return -1
	case f > 0:
		return 1
	}
	return 0
}

// isgFault is ISG's own refusal, before or instead of the PL/SQL call.
type isgFault struct {
	status                    int
	code, message, resolution string
}

func (f *isgFault) body() any {
	return map[string]any{"ISGServiceFault": map[string]string{
		"Code": f.code, "Message": f.message, "Resolution": f.resolution}}
}

// errPayload is a request ISG cannot map onto the service's schema. ISG's
// code for it is not in the stored docs; ISG_INVALID_PAYLOAD is ours.
func errPayload(format string, args ...any) *isgFault {
	return &isgFault{status: http.StatusBadRequest, code: "ISG_INVALID_PAYLOAD", message: fmt.Sprintf(format, args...),
		resolution: "Send the body as WIRE.md describes: {\"<METHOD>_Input\": {\"RESTHeader\": {...}, \"InputParameters\": {...}}} with string scalars."}
}

func errGrant(format string, args ...any) *isgFault {
	return &isgFault{status: http.StatusForbidden, code: "ISG_SERVICE_AUTH_FAILURE", message: fmt.Sprintf(format, args...),
		resolution: "Send the responsibility context the service was granted for."}
}

func errAuth(message string) *isgFault {
	return &isgFault{status: http.StatusUnauthorized, code: "FND_SOA_AUTHENTICATION_FAILURE", message: message,
		resolution: "Check the user name and password, or log in again for a new access token."}
}

func errDB() *isgFault {
	return &isgFault{status: http.StatusInternalServerError, code: "ISG_DB_CONNECTION_ERROR",
		message:    "Unable to get a database connection (simulated fault).",
		resolution: "Retry; the request may or may not have been applied."}
}
