package jsonschema

import (
	"errors"
	"strings"
	"testing"
)

// compile builds a schema document around one subschema under "$defs/s".
func compile(t *testing.T, sub string) *Schema {
	t.Helper()
	s, err := Compile([]byte(`{"$schema": "` + Draft + `", "$ref": "#/$defs/s", "$defs": {"s": ` + sub + `}}`))
	if err != nil {
		t.Fatalf("Compile(%s): %v", sub, err)
	}
	return s
}

func TestKeywords(t *testing.T) {
	tests := []struct {
		schema, instance string
		valid            bool
	}{
		{`{"type": "string"}`, `"x"`, true},
		{`{"type": "string"}`, `1`, false},
		{`{"type": ["string", "null"]}`, `null`, true},
		{`{"type": "integer"}`, `1.0`, true}, // 2020-12: a number with no fraction is an integer
		{`{"type": "integer"}`, `1.5`, false},
		{`{"type": "integer"}`, `1e500`, true},
		{`{"maximum": 1e400}`, `1e401`, false},
		{`{"type": "number"}`, `"1"`, false},
		{`{"type": "object"}`, `[]`, false},
		{`{"type": "array"}`, `{}`, false},
		{`{"type": "boolean"}`, `0`, false},
		{`{"enum": ["a", 1]}`, `1.0`, true},
		{`{"enum": ["a", 1]}`, `"b"`, false},
		{`{"enum": [{"a": [1, 2]}]}`, `{"a": [1, 2]}`, true},
		{`{"enum": [{"a": [1, 2]}]}`, `{"a": [2, 1]}`, false},
		{`{"const": "1"}`, `"1"`, true},
		{`{"const": "1"}`, `1`, false},
		{`{"const": false}`, `0`, false},
		{`{"const": null}`, `null`, true},
		{`{"required": ["a"]}`, `{"a": null}`, true},
		{`{"required": ["a"]}`, `{"b": 1}`, false},
		{`{"required": ["a"]}`, `"not an object"`, true}, // assertions apply to their own type only
		{`{"properties": {"a": {"type": "string"}}}`, `{"a": 1}`, false},
		{`{"properties": {"a": {"type": "string"}}}`, `{"b": 1}`, true},
		{`{"properties": {"a": true}, "additionalProperties": false}`, `{"a": 1}`, true},
		{`{"properties": {"a": true}, "additionalProperties": false}`, `{"a": 1, "b": 2}`, false},
		{`{"additionalProperties": {"type": "integer"}}`, `{"a": 1, "b": "x"}`, false},
		{`{"minLength": 2, "maxLength": 3}`, `"é€"`, true}, // code points, not bytes
		{`{"minLength": 2}`, `"é"`, false},
		{`{"maxLength": 3}`, `"abcd"`, false},
		{`{"maxLength": 1}`, `"😀"`, true},
		{`{"pattern": "^[a-z]+$"}`, `"abc"`, true},
		{`{"pattern": "^[a-z]+$"}`, `"abC"`, false},
		{`{"pattern": "b"}`, `"abc"`, true}, // unanchored, as in ECMA-262
		{`{"pattern": "^[a-z]+$"}`, `12`, true},
		{`{"minimum": 0, "maximum": 10}`, `10`, true},
		{`{"minimum": 0, "maximum": 10}`, `10.5`, false},
		{`{"minimum": 0}`, `-1e-400`, false},
		{`{"minimum": 0}`, `"-1"`, true},
		{`{"minItems": 1, "maxItems": 2}`, `[]`, false},
		{`{"minItems": 1, "maxItems": 2}`, `[1, 2, 3]`, false},
		{`{"uniqueItems": true}`, `[1, "1", 1.0]`, false},
		{`{"uniqueItems": true}`, `[1, "1", {"a": 1}, {"a": 2}]`, true},
		{`{"items": {"type": "string"}}`, `["a", 2]`, false},
		{`{"allOf": [{"minLength": 1}, {"maxLength": 2}]}`, `"abc"`, false},
		{`{"anyOf": [{"type": "string"}, {"type": "integer"}]}`, `true`, false},
		{`{"anyOf": [{"type": "string"}, {"type": "integer"}]}`, `3`, true},
		{`{"oneOf": [{"type": "integer"}, {"minimum": 2}]}`, `3`, false}, // both match
		{`{"oneOf": [{"type": "integer"}, {"minimum": 2}]}`, `1`, true},
		{`{"not": {"pattern": "^0$"}}`, `"0"`, false},
		{`{"not": {"pattern": "^0$"}}`, `"1"`, true},
		{`{"if": {"const": 1}, "then": {"type": "integer"}, "else": {"type": "string"}}`, `true`, false},
		{`{"if": {"const": 1}, "then": {"type": "integer"}, "else": {"type": "string"}}`, `"x"`, true},
		{`{"if": {"required": ["a"]}, "then": {"required": ["b"]}}`, `{"a": 1}`, false},
		{`{"if": {"required": ["a"]}, "then": {"required": ["b"]}}`, `{"c": 1}`, true},
		{`false`, `1`, false},
		{`true`, `1`, true},
		{`{"format": "date-time"}`, `"2025-03-04T15:04:05Z"`, true},
		{`{"format": "date-time"}`, `"2025-03-04t15:04:05.5+05:30"`, true},
		{`{"format": "date-time"}`, `"2025-02-30T15:04:05Z"`, false},
		{`{"format": "date-time"}`, `"2025-03-04T24:00:00Z"`, false},
		{`{"format": "date-time"}`, `"2025-03-04 15:04:05Z"`, false},
		{`{"format": "date-time"}`, `"2016-12-31T23:59:60Z"`, true},
		{`{"format": "date-time"}`, `"2016-12-31T15:59:60-08:00"`, true},
		{`{"format": "date-time"}`, `"2016-12-31T22:59:60Z"`, false},
		{`{"format": "date-time"}`, `"1998-12-31T15:59:60.123-08:00"`, true}, // 23:59:60 in UTC
		{`{"format": "date-time"}`, `"1998-12-31T23:58:60Z"`, false},
		{`{"format": "date-time"}`, `"1990-12-31T15:59:59-24:00"`, false},
		{`{"format": "date-time"}`, `"1985-04-12T00:59:59.999999999999999Z"`, true},
		{`{"format": "date-time"}`, `"1963-06-1৪T00:00:00Z"`, false}, // a Bengali digit
		{`{"format": "date-time"}`, `"+11963-06-19T08:30:06Z"`, false},
		{`{"format": "date-time"}`, `12`, true}, // formats apply to strings only
		{`{"enum": [false]}`, `0`, false},
		{`{"enum": [[0]]}`, `[false]`, false},
		{`{"enum": [1]}`, `true`, false},
		{`{"enum": ["a\u0000b"]}`, `"ab"`, false},
		{`{"enum": ["a\u0000b"]}`, `"a\u0000b"`, true},
		{`{"format": "date"}`, `"2024-02-29"`, true},
		{`{"format": "date"}`, `"2025-02-29"`, false},
		{`{"format": "date"}`, `"+025-02-01"`, false},
	}
	for _, tt := range tests {
		err := compile(t, tt.schema).Validate([]byte(tt.instance))
		if (err == nil) != tt.valid {
			t.Errorf("schema %s, instance %s: valid = %v, want %v (%v)", tt.schema, tt.instance, err == nil, tt.valid, err)
		}
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Errorf("schema %s, instance %s: error %v is not a *ValidationError", tt.schema, tt.instance, err)
		}
	}
}

func TestRefs(t *testing.T) {
	s, err := Compile([]byte(`{"$schema": "` + Draft + `",
		"properties": {"a": {"$ref": "#/$defs/x~1y"}, "b": {"$ref": "#/$defs/pair/anyOf/1"}},
		"$defs": {"x/y": {"type": "string"}, "pair": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"a": "x", "b": 1}`)); err != nil {
		t.Error(err)
	}
	if err := s.Validate([]byte(`{"a": 1, "b": "x"}`)); err == nil {
		t.Error("wrong types through $ref were accepted")
	}
}

func TestRefCycleTerminates(t *testing.T) {
	s, err := Compile([]byte(`{"$schema": "` + Draft + `", "$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`1`)); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("a $ref cycle gave %v, want a depth failure", err)
	}
}

func TestFailuresNamePathAndKeyword(t *testing.T) {
	s := compile(t, `{"properties": {"payload": {"properties": {"amount": {"type": "string"}}}}}`)
	err := s.Validate([]byte(`{"payload": {"amount": 12.5}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Failures) != 1 {
		t.Fatalf("got %v, want one failure", err)
	}
	f := ve.Failures[0]
	if f.Path != "/payload/amount" || !strings.HasSuffix(f.Keyword, "/properties/amount/type") {
		t.Errorf("failure %+v: want path /payload/amount and keyword …/properties/amount/type", f)
	}
}

func TestCompileRefusesWhatItCannotCheck(t *testing.T) {
	for _, sub := range []string{
		`{"minProperties": 1}`,                // a keyword outside the subset
		`{"patternProperties": {}}`,           // ditto
		`{"$ref": "other.json#/x"}`,           // a remote reference
		`{"$ref": "#/$defs/missing"}`,         // a dangling one
		`{"format": "email"}`,                 // a format it does not assert
		`{"pattern": "^\\d+$"}`,               // \d: RE2 and ECMA-262 differ under the u flag
		`{"pattern": "^\\s$"}`,                // \s: Unicode in ECMA-262, ASCII in RE2
		`{"pattern": "^a.b$"}`,                // '.': different line terminators
		`{"pattern": "^(?=a)"}`,               // lookaround
		`{"pattern": "(a)\\1"}`,               // backreference
		`{"pattern": "["}`,                    // not a regex at all
		`{"type": "text"}`,                    // no such type
		`{"minLength": -1}`,                   // not a count
		`{"properties": {"a": 1}}`,            // not a schema
		`{"allOf": []}`,                       // empty applicator
		`{"required": [1]}`,                   // not names
		`{"uniqueItems": "yes"}`,              // not a boolean
		`{"enum": []}`,                        // matches nothing, surely a mistake
		`{"items": {"dependentSchemas": {}}}`, // nested unknown keyword
	} {
		if _, err := Compile([]byte(`{"$schema": "` + Draft + `", "$defs": {"s": ` + sub + `}}`)); err == nil {
			t.Errorf("Compile accepted %s", sub)
		}
	}
	if _, err := Compile([]byte(`{"$schema": "http://json-schema.org/draft-07/schema#"}`)); err == nil {
		t.Error("Compile accepted a draft-07 schema")
	}
}

func TestValidateRefusesNonJSON(t *testing.T) {
	s := compile(t, `true`)
	for _, in := range []string{``, `{`, `{} {}`, `nul`} {
		err := s.Validate([]byte(in))
		var ve *ValidationError
		if err == nil || errors.As(err, &ve) {
			t.Errorf("Validate(%q) = %v, want a parse error", in, err)
		}
	}
}
