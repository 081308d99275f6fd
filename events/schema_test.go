package events

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The schema file and the Go types are two statements of one contract. These
// tests read the schema as plain JSON and hold each of its lists against the
// Go side, so adding a field, a type or an enum value to one alone fails.

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("schema/engagement-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a path of object keys.
func at(t *testing.T, node any, path ...string) any {
	t.Helper()
	for _, k := range path {
		m, ok := node.(map[string]any)
		if !ok {
			t.Fatalf("schema: %v is not an object at %q", path, k)
		}
		node, ok = m[k]
		if !ok {
			return nil
		}
	}
	return node
}

func strs(v any) []string {
	var s []string
	for _, x := range v.([]any) {
		s = append(s, x.(string))
	}
	return s
}

func keys(v any) []string {
	var s []string
	for k := range v.(map[string]any) {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

func sorted[T ~string](vs []T) []string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	sort.Strings(s)
	return s
}

func wireNames(fs []wireField, requiredOnly bool) []string {
	var s []string
	for _, f := range fs {
		if f.required || !requiredOnly {
			s = append(s, f.name)
		}
	}
	sort.Strings(s)
	return s
}

func sameSet(t *testing.T, what string, schema, code []string) {
	t.Helper()
	s, c := slices.Clone(schema), slices.Clone(code)
	if len(s) == 0 && len(c) == 0 {
		return
	}
	sort.Strings(s)
	sort.Strings(c)
	if diff := cmp.Diff(s, c); diff != "" {
		t.Errorf("%s: schema and Go disagree (-schema +Go):\n%s", what, diff)
	}
}

func TestSchemaEnvelopeMatchesGo(t *testing.T) {
	s := readSchema(t)
	sameSet(t, "envelope properties", keys(at(t, s, "properties")), wireNames(envelopeFields, false))
	sameSet(t, "envelope required", strs(at(t, s, "required")), wireNames(envelopeFields, true))
	if v := at(t, s, "properties", "schema_version", "const"); v != SchemaVersion {
		t.Errorf("schema_version const = %v, want %q", v, SchemaVersion)
	}
	sameSet(t, "type enum", strs(at(t, s, "properties", "type", "enum")), sorted(allTypes))
	sameSet(t, "channel enum", strs(at(t, s, "properties", "channel", "enum")), sorted(allChannels))
	var consentable []Channel
	for _, c := range allChannels {
		if c.consentable() {
			consentable = append(consentable, c)
		}
	}
	sameSet(t, "consent_channel enum", strs(at(t, s, "$defs", "consent_channel", "enum")), sorted(consentable))
	if p := at(t, s, "$defs", "email", "pattern"); p != emailPattern {
		t.Errorf("$defs/email/pattern = %v, want Go's emailPattern %q", p, emailPattern)
	}
	if p := at(t, s, "$defs", "email", "not", "pattern"); p != emailDots {
		t.Errorf("$defs/email/not/pattern = %v, want Go's emailDots %q", p, emailDots)
	}
}

func TestSchemaPayloadsMatchGo(t *testing.T) {
	s := readSchema(t)
	branches := map[string]map[string]any{}
	for _, b := range at(t, s, "allOf").([]any) {
		if c := at(t, b, "if", "properties", "type", "const"); c != nil {
			branches[c.(string)] = at(t, b, "then").(map[string]any)
		}
	}
	sameSet(t, "if/then branches", keys(anyMap(branches)), sorted(allTypes))
	for _, typ := range allTypes {
		spec := registry[typ]
		def := at(t, s, "$defs", string(typ))
		if def == nil {
			t.Errorf("%s: no $defs entry", typ)
			continue
		}
		if at(t, def, "additionalProperties") != false {
			t.Errorf("%s: payload allows additional properties", typ)
		}
		sameSet(t, string(typ)+" properties", keys(at(t, def, "properties")), wireNames(spec.fields, false))
		var req []string
		if r := at(t, def, "required"); r != nil {
			req = strs(r)
		}
		sameSet(t, string(typ)+" required", req, wireNames(spec.fields, true))

		then := branches[string(typ)]
		if ref := at(t, then, "properties", "payload", "$ref"); ref != "#/$defs/"+string(typ) {
			t.Errorf("%s: branch points payload at %v", typ, ref)
		}
		var chans []string
		switch c := at(t, then, "properties", "channel"); {
		case c == nil:
		case at(t, c, "const") != nil:
			chans = []string{at(t, c, "const").(string)}
		default:
			chans = strs(at(t, c, "enum"))
		}
		sameSet(t, string(typ)+" channels", chans, sorted(spec.rule.channels))
		contact := false
		if r := at(t, then, "required"); r != nil {
			contact = slices.Contains(strs(r), "contact_point")
		}
		if contact != spec.rule.contact {
			t.Errorf("%s: schema requires contact_point = %v, Go = %v", typ, contact, spec.rule.contact)
		}
	}
}

func TestSchemaEnumsMatchGo(t *testing.T) {
	s := readSchema(t)
	for _, tt := range []struct {
		path []string
		want []string
	}{
		{[]string{"call.outcome", "properties", "outcome", "enum"}, sorted(allOutcomes)},
		{[]string{"consent.revoked", "properties", "via", "enum"}, sorted(allVias)},
		{[]string{"email.bounced", "properties", "bounce_type", "enum"},
			sorted([]BounceType{BouncePermanent, BounceTransient, BounceUndetermined})},
		{[]string{"consent.given", "properties", "source", "enum"},
			sorted([]ConsentSource{ConsentDirect, ConsentApplication, ConsentWritten})},
	} {
		sameSet(t, tt.path[0]+" "+tt.path[2], strs(at(t, s, append([]string{"$defs"}, tt.path...)...)), tt.want)
	}
}

func anyMap[V any](m map[string]V) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestRegistry: every type has a payload whose Type() names it, so Decode
// can never hand back a payload of another type.
func TestRegistry(t *testing.T) {
	if len(registry) != len(allTypes) {
		t.Errorf("registry has %d types, Types() %d", len(registry), len(allTypes))
	}
	for _, typ := range allTypes {
		spec, ok := registry[typ]
		if !ok {
			t.Errorf("%s is not registered", typ)
			continue
		}
		p, ok := reflect.New(spec.goType).Elem().Interface().(Payload)
		if !ok || p.Type() != typ {
			t.Errorf("%s is registered with payload %s", typ, spec.goType)
		}
	}
}
