// Package jsonschema validates JSON documents against a JSON Schema (draft
// 2020-12) written in a small subset of the vocabulary: the subset the
// engagement event schema uses. It exists so tests can hold every sample
// event, and everything the Go decoder accepts, against the published schema
// file itself, without a third-party module.
//
// Compile refuses a schema that uses any keyword outside the subset, so the
// schema can never lean on a rule this validator silently skips. Supported:
//
//   - applicators: allOf, anyOf, oneOf, not, if/then/else, properties,
//     additionalProperties, items, $ref (local JSON pointers, "#/...");
//   - assertions: type, enum, const, required, minLength, maxLength,
//     pattern, minimum, maximum, minItems, maxItems, uniqueItems, and format
//     "date-time" and "date" (asserted, as the format-assertion vocabulary
//     would: the draft's default only annotates);
//   - annotations, ignored: $schema, $id, $defs, $comment, title,
//     description, examples, default, deprecated.
//
// Patterns are compiled with Go's regexp (RE2), so a schema must keep to
// the syntax RE2 and ECMA-262 (the specification's dialect) read alike:
// character classes, \x escapes, groups, alternation and counted repetition.
// Compile refuses \s, \d, \w, \u, an unescaped '.', lookaround and
// backreferences, which the two read differently or RE2 lacks. Lengths count
// code points, as the specification says.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Draft is the only $schema Compile accepts.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// Schema is a compiled schema document.
type Schema struct {
	root     any
	patterns map[string]*regexp.Regexp
	checked  map[string]bool // $ref targets Compile has checked
}

// Failure is one way an instance breaks the schema.
type Failure struct {
	// Path is a JSON pointer into the instance ("" for the whole document).
	Path string
	// Keyword is the schema keyword that failed, with its location in the
	// schema, e.g. "/$defs/amount/pattern".
	Keyword string
	Message string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s: %s (%s)", orRoot(f.Path), f.Message, f.Keyword)
}

func orRoot(p string) string {
	if p == "" {
		return "(document)"
	}
	return p
}

// ValidationError lists every failure found.
type ValidationError struct{ Failures []Failure }

func (e *ValidationError) Error() string {
	s := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		s[i] = f.String()
	}
	return "schema validation failed: " + strings.Join(s, "; ")
}

var annotations = map[string]bool{"$schema": true, "$id": true, "$defs": true, "$comment": true,
	"title": true, "description": true, "examples": true, "default": true, "deprecated": true}

var keywords = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true,
	"then": true, "else": true, "properties": true, "additionalProperties": true, "items": true, "$ref": true,
	"type": true, "enum": true, "const": true, "required": true, "minLength": true, "maxLength": true,
	"pattern": true, "minimum": true, "maximum": true, "minItems": true, "maxItems": true,
	"uniqueItems": true, "format": true}

var formats = map[string]bool{"date-time": true, "date": true}

var typeNames = map[string]bool{"object": true, "array": true, "string": true, "number": true,
	"integer": true, "boolean": true, "null": true}

// Compile parses a schema document and checks that it keeps to the subset.
func Compile(doc []byte) (*Schema, error) {
	root, err := parse(doc)
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("schema document is not an object")
	}
	if m["$schema"] != Draft {
		return nil, fmt.Errorf("$schema is %v, want %s", m["$schema"], Draft)
	}
	s := &Schema{root: root, patterns: map[string]*regexp.Regexp{}, checked: map[string]bool{}}
	if err := s.check(root, ""); err != nil {
		return nil, err
	}
	return s, nil
}

// check walks every subschema, refusing unknown keywords and malformed
// values, compiling patterns and resolving references.
func (s *Schema) check(node any, at string) error {
	if _, ok := node.(bool); ok {
		return nil
	}
	m, ok := node.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: a schema must be an object or a boolean", orRoot(at))
	}
	for _, k := range sortedKeys(m) {
		v, here := m[k], at+"/"+escape(k)
		switch {
		case k == "$defs" || k == "properties":
			defs, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: want an object of schemas", here)
			}
			for _, name := range sortedKeys(defs) {
				if err := s.check(defs[name], here+"/"+escape(name)); err != nil {
					return err
				}
			}
		case annotations[k]:
		case !keywords[k]:
			return fmt.Errorf("%s: keyword %q is outside the subset this validator implements", here, k)
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return fmt.Errorf("%s: want a non-empty array of schemas", here)
			}
			for i, sub := range list {
				if err := s.check(sub, here+"/"+strconv.Itoa(i)); err != nil {
					return err
				}
			}
		case k == "not" || k == "if" || k == "then" || k == "else" || k == "additionalProperties" || k == "items":
			if err := s.check(v, here); err != nil {
				return err
			}
		case k == "$ref":
			ref, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: want a string", here)
			}
			target, err := s.resolve(ref)
			if err != nil {
				return fmt.Errorf("%s: %w", here, err)
			}
			// The target must itself be a schema of the subset; each
			// target is checked once, so a cycle of references ends.
			if !s.checked[ref] {
				s.checked[ref] = true
				if err := s.check(target, ref[1:]); err != nil {
					return err
				}
			}
		case k == "type":
			if err := checkType(v); err != nil {
				return fmt.Errorf("%s: %w", here, err)
			}
		case k == "enum":
			if list, ok := v.([]any); !ok || len(list) == 0 {
				return fmt.Errorf("%s: want a non-empty array", here)
			}
		case k == "const":
		case k == "required":
			list, ok := v.([]any)
			if !ok {
				return fmt.Errorf("%s: want an array of strings", here)
			}
			for _, x := range list {
				if _, ok := x.(string); !ok {
					return fmt.Errorf("%s: want an array of strings", here)
				}
			}
		case k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems":
			n, ok := v.(json.Number)
			if i, err := strconv.ParseInt(string(n), 10, 64); !ok || err != nil || i < 0 {
				return fmt.Errorf("%s: want a non-negative integer", here)
			}
		case k == "minimum" || k == "maximum":
			if _, ok := v.(json.Number); !ok {
				return fmt.Errorf("%s: want a number", here)
			}
		case k == "uniqueItems":
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("%s: want a boolean", here)
			}
		case k == "pattern":
			p, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: want a string", here)
			}
			if err := portable(p); err != nil {
				return fmt.Errorf("%s: %w", here, err)
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", here, err)
			}
			s.patterns[p] = re
		case k == "format":
			if f, ok := v.(string); !ok || !formats[f] {
				return fmt.Errorf("%s: format %v is outside the subset (want date-time or date)", here, v)
			}
		}
	}
	return nil
}

// portable refuses the regex syntax whose meaning differs between RE2 and
// ECMA-262 (\s and \w cover Unicode in one and not the other, \d differs
// under the u flag, '.' stops at different line terminators, \u is not RE2)
// or that RE2 lacks (lookaround, backreferences).
func portable(p string) error {
	inClass := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			switch e := p[i+1]; e {
			case 's', 'S', 'w', 'W', 'd', 'D', 'b', 'B', 'u', 'p', 'P', 'k', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return fmt.Errorf("pattern %q uses \\%c, which RE2 and ECMA-262 read differently", p, e)
			}
			i++
		case c == '[' && !inClass:
			inClass = true
		case c == ']' && inClass:
			inClass = false
		case c == '.' && !inClass:
			return fmt.Errorf("pattern %q uses '.', which RE2 and ECMA-262 end at different line terminators", p)
		case c == '(' && !inClass && strings.HasPrefix(p[i:], "(?") && !strings.HasPrefix(p[i:], "(?:"):
			return fmt.Errorf("pattern %q uses a (? group other than (?:, which RE2 and ECMA-262 read differently", p)
		}
	}
	return nil
}

func checkType(v any) error {
	switch t := v.(type) {
	case string:
		if !typeNames[t] {
			return fmt.Errorf("unknown type %q", t)
		}
		return nil
	case []any:
		for _, x := range t {
			if err := checkType(x); err != nil {
				return err
			}
			if _, ok := x.(string); !ok {
				return errors.New("want type names")
			}
		}
		return nil
	}
	return errors.New("want a type name or an array of them")
}

// resolve follows a local reference: "#" or "#/a/b" (RFC 6901 pointer).
func (s *Schema) resolve(ref string) (any, error) {
	if ref == "#" {
		return s.root, nil
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q: only local JSON pointers (#/...) are supported", ref)
	}
	node := s.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			next, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
			}
			node = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("$ref %q: no element %q", ref, tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("$ref %q: %q is inside a scalar", ref, tok)
		}
	}
	return node, nil
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// maxDepth bounds $ref chains: a schema that refers to itself without
// consuming the instance would otherwise recurse forever.
const maxDepth = 64

// Validate checks one JSON document against the schema. It returns nil, a
// *ValidationError listing every failure, or an error when instance is not
// JSON.
func (s *Schema) Validate(instance []byte) error {
	v, err := parse(instance)
	if err != nil {
		return fmt.Errorf("instance is not JSON: %w", err)
	}
	var fs []Failure
	s.validate(s.root, v, "", "", 0, &fs)
	if len(fs) > 0 {
		return &ValidationError{Failures: fs}
	}
	return nil
}

// valid reports whether v matches node, without collecting failures (for
// if, not, anyOf and oneOf, whose subschemas may fail without the whole
// failing).
func (s *Schema) valid(node, v any, at string, depth int) bool {
	var fs []Failure
	s.validate(node, v, "", at, depth, &fs)
	return len(fs) == 0
}

func (s *Schema) validate(node, v any, path, at string, depth int, fs *[]Failure) {
	fail := func(kw, format string, args ...any) {
		*fs = append(*fs, Failure{Path: path, Keyword: at + "/" + kw, Message: fmt.Sprintf(format, args...)})
	}
	if depth > maxDepth {
		fail("$ref", "references nest deeper than %d", maxDepth)
		return
	}
	if b, ok := node.(bool); ok {
		if !b {
			fail("", "the schema false allows nothing")
		}
		return
	}
	m := node.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, _ := s.resolve(ref) // Compile resolved every reference
		s.validate(target, v, path, ref[1:], depth+1, fs)
	}
	if t, ok := m["type"]; ok && !hasType(v, t) {
		fail("type", "want %v, got %s", t, kind(v))
	}
	if e, ok := m["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || equal(v, x)
		}
		if !found {
			fail("enum", "%s is not one of %s", show(v), show(e))
		}
	}
	if c, ok := m["const"]; ok && !equal(v, c) {
		fail("const", "want %s, got %s", show(c), show(v))
	}
	switch x := v.(type) {
	case string:
		s.validateString(m, x, fail)
	case json.Number:
		r := rat(x)
		if lim, ok := m["minimum"].(json.Number); ok && r.Cmp(rat(lim)) < 0 {
			fail("minimum", "%s is less than %s", x, lim)
		}
		if lim, ok := m["maximum"].(json.Number); ok && r.Cmp(rat(lim)) > 0 {
			fail("maximum", "%s is more than %s", x, lim)
		}
	case []any:
		if n, ok := count(m, "minItems"); ok && len(x) < n {
			fail("minItems", "%d items, fewer than %d", len(x), n)
		}
		if n, ok := count(m, "maxItems"); ok && len(x) > n {
			fail("maxItems", "%d items, more than %d", len(x), n)
		}
		if u, _ := m["uniqueItems"].(bool); u {
			for i := range x {
				for j := range i {
					if equal(x[i], x[j]) {
						fail("uniqueItems", "items %d and %d are equal", j, i)
					}
				}
			}
		}
		if items, ok := m["items"]; ok {
			for i, item := range x {
				s.validate(items, item, path+"/"+strconv.Itoa(i), at+"/items", depth, fs)
			}
		}
	case map[string]any:
		if req, ok := m["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					fail("required", "%q is required", r)
				}
			}
		}
		props, _ := m["properties"].(map[string]any)
		for _, k := range sortedKeys(x) {
			if sub, ok := props[k]; ok {
				s.validate(sub, x[k], path+"/"+escape(k), at+"/properties/"+escape(k), depth, fs)
			} else if add, ok := m["additionalProperties"]; ok {
				if b, isBool := add.(bool); isBool && !b {
					fail("additionalProperties", "%q is not allowed", k)
				} else {
					s.validate(add, x[k], path+"/"+escape(k), at+"/additionalProperties", depth, fs)
				}
			}
		}
	}
	if list, ok := m["allOf"].([]any); ok {
		for i, sub := range list {
			s.validate(sub, v, path, at+"/allOf/"+strconv.Itoa(i), depth, fs)
		}
	}
	if list, ok := m["anyOf"].([]any); ok {
		matched := false
		for i, sub := range list {
			matched = matched || s.valid(sub, v, at+"/anyOf/"+strconv.Itoa(i), depth)
		}
		if !matched {
			fail("anyOf", "matches none of %d alternatives", len(list))
		}
	}
	if list, ok := m["oneOf"].([]any); ok {
		n := 0
		for i, sub := range list {
			if s.valid(sub, v, at+"/oneOf/"+strconv.Itoa(i), depth) {
				n++
			}
		}
		if n != 1 {
			fail("oneOf", "matches %d of %d alternatives, want exactly 1", n, len(list))
		}
	}
	if sub, ok := m["not"]; ok && s.valid(sub, v, at+"/not", depth) {
		fail("not", "matches a schema it must not match")
	}
	if cond, ok := m["if"]; ok {
		if s.valid(cond, v, at+"/if", depth) {
			if then, ok := m["then"]; ok {
				s.validate(then, v, path, at+"/then", depth, fs)
			}
		} else if els, ok := m["else"]; ok {
			s.validate(els, v, path, at+"/else", depth, fs)
		}
	}
}

func (s *Schema) validateString(m map[string]any, x string, fail func(kw, format string, args ...any)) {
	n := utf8.RuneCountInString(x)
	if lim, ok := count(m, "minLength"); ok && n < lim {
		fail("minLength", "%d characters, fewer than %d", n, lim)
	}
	if lim, ok := count(m, "maxLength"); ok && n > lim {
		fail("maxLength", "%d characters, more than %d", n, lim)
	}
	if p, ok := m["pattern"].(string); ok && !s.patterns[p].MatchString(x) {
		fail("pattern", "%.60q does not match %s", x, p)
	}
	if f, ok := m["format"].(string); ok {
		var ok bool
		switch f {
		case "date-time":
			ok = dateTime(x)
		case "date":
			ok = date(x)
		}
		if !ok {
			fail("format", "%.60q is not a %s", x, f)
		}
	}
}

var (
	dateTimeRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$`)
	dateRE     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// dateTime is RFC 3339 section 5.6 date-time, with a leap second allowed
// only where one can fall: at 23:59:60 UTC.
func dateTime(s string) bool {
	m := dateTimeRE.FindStringSubmatch(s)
	if m == nil || !date(m[1]) {
		return false
	}
	hh, _ := strconv.Atoi(m[2])
	mm, _ := strconv.Atoi(m[3])
	ss, _ := strconv.Atoi(m[4])
	if hh > 23 || mm > 59 || ss > 60 {
		return false
	}
	if m[7] != "" {
		oh, _ := strconv.Atoi(m[8])
		om, _ := strconv.Atoi(m[9])
		if oh > 23 || om > 59 {
			return false
		}
		if ss == 60 {
			// Shift to UTC; only 23:59 can hold a leap second.
			off := oh*60 + om
			if m[7] == "-" {
				off = -off
			}
			t := ((hh*60+mm-off)%1440 + 1440) % 1440
			return t == 23*60+59
		}
	}
	return ss < 60 || (hh == 23 && mm == 59)
}

func date(s string) bool {
	if !dateRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func count(m map[string]any, k string) (int, bool) {
	n, ok := m[k].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(n))
	return i, err == nil
}

func hasType(v, t any) bool {
	if list, ok := t.([]any); ok {
		for _, x := range list {
			if hasType(v, x) {
				return true
			}
		}
		return false
	}
	switch t {
	case "integer":
		n, ok := v.(json.Number)
		return ok && rat(n).IsInt()
	case "number":
		_, ok := v.(json.Number)
		return ok
	}
	return kind(v) == t
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// rat reads a JSON number exactly. A number with a huge exponent
// ("1e999999999") would take big.Rat forever to expand; such numbers go
// through a wide big.Float instead, exact enough for any schema bound.
func rat(n json.Number) number {
	s := string(n)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || e > 400 || e < -400 {
			f, _, err := big.ParseFloat(s, 10, 4096, big.ToNearestEven)
			if err != nil {
				f = new(big.Float)
			}
			return number{f: f}
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		r = new(big.Rat) // unreachable: the JSON decoder accepted n
	}
	return number{r: r}
}

// number is a JSON number held exactly (r) or, for huge exponents, widely (f).
type number struct {
	r *big.Rat
	f *big.Float
}

func (n number) float() *big.Float {
	if n.f != nil {
		return n.f
	}
	return new(big.Float).SetPrec(4096).SetRat(n.r)
}

// Cmp compares two numbers.
func (n number) Cmp(o number) int {
	if n.r != nil && o.r != nil {
		return n.r.Cmp(o.r)
	}
	return n.float().Cmp(o.float())
}

// IsInt reports whether n is a whole number.
func (n number) IsInt() bool {
	if n.r != nil {
		return n.r.IsInt()
	}
	return n.f.IsInt()
}

// equal is JSON equality: numbers by value (1 equals 1.0), objects
// regardless of member order.
func equal(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && rat(x).Cmp(rat(y)) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return a == b
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// parse reads one JSON document, keeping numbers exact.
func parse(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more data after the document")
	}
	return v, nil
}
