package erp

import (
	"encoding/json"
	"errors"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for _, k := range Kinds {
		b, _ := json.Marshal(valid(k))
		f.Add(b)
	}
	f.Add([]byte(`{"tenant":"acme","kind":"note","extra":1}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("decoded an invalid action: %v", err)
		}
		// What decodes re-encodes to an action that decodes the same.
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(b)
		if err != nil || again.Key != a.Key {
			t.Fatalf("re-decode: %v, key %s vs %s", err, again.Key, a.Key)
		}
	})
}
