package compliance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// checkKeys walks one JSON value and checks every object key against the
// json names of rt's fields, exactly: encoding/json matches names without
// regard to case even with DisallowUnknownFields, so "adDress" would pass
// and a duplicate key would silently overwrite the first.
func checkKeys(dec *json.Decoder, rt reflect.Type, path string) error {
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null
	}
	switch rt.Kind() {
	case reflect.Struct:
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return skipRest(dec, tok) // a type error; json.Unmarshal reports it
		}
		fields := jsonFields(rt)
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key := kt.(string)
			f, ok := fields[key]
			if !ok {
				return fmt.Errorf("%s: unknown field", join(path, key))
			}
			if seen[key] {
				return fmt.Errorf("%s: field repeats", join(path, key))
			}
			seen[key] = true
			if err := checkKeys(dec, f, join(path, key)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case reflect.Slice:
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return skipRest(dec, tok)
		}
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, rt.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return skipRest(dec, tok)
}

// skipRest consumes the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
	}
	return nil
}

func jsonFields(rt reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, rt.NumField())
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
