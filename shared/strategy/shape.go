package strategy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

var configType = reflect.TypeFor[Config]()

// checkShape walks the JSON against the Go type before decoding, so that
// every field the strategy does not know, a field given twice (encoding/json
// silently keeps the last one), a field spelt in another case (which
// encoding/json would accept) and a value of the wrong type is an error that
// names its path, such as segments[1].steps[0].wait_days. A config is policy:
// a typo must not quietly become a default.
func checkShape(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := shapeWalker{dec: dec}
	if err := w.value(t, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return &ConfigError{Msg: fmt.Sprintf("data after the config object at byte %d", dec.InputOffset())}
	}
	return nil
}

type shapeWalker struct{ dec *json.Decoder }

func (w shapeWalker) fail(path, format string, args ...any) error {
	return &ConfigError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (w shapeWalker) token(path string) (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			where := path
			if where == "" {
				where = "the config"
			}
			return nil, &ConfigError{Msg: fmt.Sprintf("malformed JSON in %s near byte %d: %v", where, w.dec.InputOffset(), err)}
		}
		return nil, &ConfigError{Path: path, Msg: err.Error()}
	}
	return tok, nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

func (w shapeWalker) value(t reflect.Type, path string) error {
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	if t.Kind() == reflect.Pointer {
		if tok == nil {
			return nil
		}
		t = t.Elem()
	}
	where := path
	if where == "" {
		where = "the config"
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.fail(path, "want an object, got %s", describe(tok))
		}
		fields := jsonFields(t)
		seen := make(map[string]bool, len(fields))
		for w.dec.More() {
			key, err := w.key(path)
			if err != nil {
				return err
			}
			ft, ok := fields[key]
			if !ok {
				return w.fail(join(path, key), "unknown field %q in %s", key, where)
			}
			if seen[key] {
				return w.fail(join(path, key), "field given twice")
			}
			seen[key] = true
			if err := w.value(ft, join(path, key)); err != nil {
				return err
			}
		}
		_, err = w.token(path) // '}'
		return err
	case reflect.Map:
		if tok == nil {
			return nil
		}
		if tok != json.Delim('{') {
			return w.fail(path, "want an object, got %s", describe(tok))
		}
		seen := map[string]bool{}
		for w.dec.More() {
			key, err := w.key(path)
			if err != nil {
				return err
			}
			if seen[strings.ToUpper(key)] {
				return w.fail(join(path, key), "key given twice")
			}
			seen[strings.ToUpper(key)] = true
			if err := w.value(t.Elem(), join(path, key)); err != nil {
				return err
			}
		}
		_, err = w.token(path)
		return err
	case reflect.Slice:
		if tok == nil {
			return nil
		}
		if tok != json.Delim('[') {
			return w.fail(path, "want an array, got %s", describe(tok))
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = w.token(path)
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.fail(path, "want a string, got %s", describe(tok))
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.fail(path, "want true or false, got %s", describe(tok))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := tok.(json.Number)
		if !ok {
			return w.fail(path, "want a whole number, got %s", describe(tok))
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return w.fail(path, "want a whole number that fits %d bits, got %s", t.Bits(), n)
		}
	case reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.fail(path, "want a number, got %s", describe(tok))
		}
		if f, err := strconv.ParseFloat(string(n), 64); err != nil || math.IsInf(f, 0) {
			return w.fail(path, "number %s out of range", n)
		}
	default:
		return w.fail(path, "no JSON form for %s", t)
	}
	return nil
}

func (w shapeWalker) key(path string) (string, error) {
	tok, err := w.token(path)
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", w.fail(path, "want a field name, got %s", describe(tok))
	}
	return key, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps a struct's JSON names to their types, exactly as spelt in
// the tags; unexported and untagged fields have no JSON name here.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		out[name] = f.Type
	}
	return out
}
