package ingest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds adds every testdata file of the given extension.
func fuzzSeeds(f *testing.F, ext string, add func([]byte)) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"+ext))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(data)
	}
}

// checkFuzzResult holds Parse to its contract on arbitrary input: no panic,
// errors are file errors naming the file, otherwise the invariant holds and
// the writers cope with whatever was rejected.
func checkFuzzResult(t *testing.T, name string, b *Batch, err error) {
	if err != nil {
		if !strings.HasPrefix(err.Error(), name+": ") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	checkInvariant(t, b)
	if err := WriteRejectsCSV(io.Discard, b.Rejects); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(io.Discard, b); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseCSV(f *testing.F) {
	fuzzSeeds(f, ".csv", func(d []byte) {
		for i := range Formats() {
			f.Add(d, uint8(i))
		}
	})
	f.Add([]byte(hdrInv+"\"unterminated,C1\n"), uint8(0))
	f.Add([]byte("CLASS,TRX_NUMBER\n\xff,\x00\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		formats := Formats()
		o := opts(formats[int(format)%len(formats)])
		b, err := Parse(context.Background(), o, []File{{Name: "fuzz.csv", R: strings.NewReader(string(data))}},
			newLookup("C1", "C-1001", "C-2000"))
		checkFuzzResult(t, "fuzz.csv", b, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	fuzzSeeds(f, ".json", func(d []byte) { f.Add(d) })
	f.Add([]byte(`{"invoices":[{"invoice_id":"I1","customer_id":"C1","invoice_date":"2026-01-05","due_date":"2026-02-04","amount":1.5,"currency":"USD"}],"payments":null}`))
	f.Add([]byte(`{"contacts":[{"customer_id":"C1","contact_id":"P","kind":"phone","phone":"+1 617 253 1000"}, 3, [], {"a":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(context.Background(), opts(""), []File{{Name: "fuzz.json", R: strings.NewReader(string(data))}},
			newLookup("C1", "C-3001"))
		checkFuzzResult(t, "fuzz.json", b, err)
	})
}
