package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// exportChain is a short chain with the awkward cases an export must carry:
// HTML in content, non-ASCII text, quotes, commas and newlines, a reason
// that looks like a spreadsheet formula, and a record with no JSON at all.
func exportChain() []Record {
	recs := []Record{
		{Tenant: "acme", At: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), Kind: KindDecision,
			Account: "C1", Debt: "INV-1", Decision: "allow", Rules: []string{"fdcpa-hours", "regf-7in7"},
			PolicyVersion: "2026.11.1", Reason: "within hours, 2 of 7 attempts",
			Inputs: json.RawMessage(`{"attempt": {"channel": "sms", "to": "tel:+16175550123"}, "history": []}`)},
		{Tenant: "acme", At: time.Date(2026, 11, 25, 14, 0, 1, 500, time.UTC), Kind: KindSend,
			Account: "C1", Debt: "INV-1", Decision: "sent", Rules: []string{"fdcpa-hours"}, PolicyVersion: "2026.11.1",
			Reason: "sent \"reminder\"\nsecond line", Content: json.RawMessage(`{"channel":"email","body":"<p>Grüße & bye</p>"}`)},
		{Tenant: "acme", At: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC), Kind: KindConsent,
			Account: "C2", Decision: "revoked", Reason: `=HYPERLINK("http://x")`},
		{Tenant: "acme", At: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Kind: KindImport, Reason: "-12 rows rejected"},
	}
	var prev *Record
	for i := range recs {
		recs[i] = Next(prev, recs[i])
		prev = &recs[i]
	}
	return recs
}

func TestExportGolden(t *testing.T) {
	recs := exportChain()
	for _, f := range []Format{JSONL, CSV} {
		var buf bytes.Buffer
		if err := Export(&buf, recs, f); err != nil {
			t.Fatalf("Export %s: %v", f, err)
		}
		golden := filepath.Join("testdata", "export."+string(f))
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if diff := cmp.Diff(string(want), buf.String()); diff != "" {
			t.Errorf("%s export differs from %s (-want +got):\n%s", f, golden, diff)
		}
	}
}

func TestJSONLRoundTripVerifies(t *testing.T) {
	recs := exportChain()
	var buf bytes.Buffer
	if err := Export(&buf, recs, JSONL); err != nil {
		t.Fatal(err)
	}
	exported := buf.String()
	var got []Record
	for r, err := range ReadJSONL(strings.NewReader(exported)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("records read back (-want +got):\n%s", diff)
	}
	head := HeadOf(recs[len(recs)-1])
	if ps := Verify("acme", got, Options{Head: &head}); len(ps) != 0 {
		t.Errorf("an exported chain read back does not verify: %v", ps)
	}

	// An export edited by hand is caught, and the edit is named.
	edited := strings.Replace(exported, `"decision":"revoked"`, `"decision":"granted"`, 1)
	if edited == exported {
		t.Fatal("the edit did not apply")
	}
	got = got[:0]
	for r, err := range ReadJSONL(strings.NewReader(edited)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	ps := Verify("acme", got, Options{Head: &head})
	if len(ps) != 1 || ps[0].Kind != ProblemEdited || ps[0].Seq != 3 {
		t.Errorf("hand-edited export: problems %v, want seq 3 edited", ps)
	}
}

func TestReadJSONLErrors(t *testing.T) {
	in := `{"tenant":"acme","seq":1,"at":"2026-11-25T14:00:00.000000000Z","kind":"decision","prev_hash":"","hash":""}

{"tenant":"acme","seq":2,"at":"yesterday","kind":"decision","prev_hash":"","hash":""}
{"tenant":"acme","seq":3,"surprise":1}
not json
{"tenant":"acme","seq":4,"at":"2026-11-25T14:00:00Z","kind":"x","prev_hash":"","hash":""} {}
`
	var lines []string
	n := 0
	for r, err := range ReadJSONL(strings.NewReader(in)) {
		if err != nil {
			lines = append(lines, strings.SplitN(err.Error(), ":", 2)[0])
			continue
		}
		n++
		if r.Seq != 1 {
			t.Errorf("read seq %d as valid", r.Seq)
		}
	}
	want := []string{"audit export line 3", "audit export line 4", "audit export line 5", "audit export line 6"}
	if diff := cmp.Diff(want, lines); diff != "" || n != 1 {
		t.Errorf("%d good records; errors (-want +got):\n%s", n, diff)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"jsonl": JSONL, "CSV": CSV, " csv ": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "json", "xlsx"} {
		if _, err := ParseFormat(in); err == nil {
			t.Errorf("ParseFormat(%q) accepted", in)
		}
	}
	if err := Export(&bytes.Buffer{}, nil, "xml"); err == nil {
		t.Error("Export in an unknown format succeeded")
	}
}

func TestFilter(t *testing.T) {
	r := Record{Account: "C1", At: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"no filter", Filter{}, true},
		{"its account", Filter{Account: "C1"}, true},
		{"another account", Filter{Account: "C2"}, false},
		{"its day", Filter{From: day(25), To: day(26)}, true},
		{"from its exact instant", Filter{From: r.At}, true},
		{"to its exact instant (exclusive)", Filter{To: r.At}, false},
		{"the day before", Filter{From: day(24), To: day(25)}, false},
		{"from the next day", Filter{From: day(26)}, false},
		{"its account and day", Filter{Account: "C1", From: day(25), To: day(26)}, true},
	}
	for _, tt := range tests {
		if got := tt.f.Match(r); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}
