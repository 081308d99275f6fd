package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// sample is the i-th record a test chain is built from.
func sample(tenant ledger.TenantID, i int) Record {
	decision, rules := "allow", []string{"fdcpa-hours", "regf-7in7"}
	if i%3 == 2 {
		decision, rules = "block", []string{"regf-7in7"}
	}
	return Record{
		Tenant: tenant, At: t0.Add(time.Duration(i) * time.Minute), Kind: KindDecision,
		Account: fmt.Sprintf("C%d", i%4), Debt: fmt.Sprintf("INV-%d", i), Decision: decision, Rules: rules,
		PolicyVersion: "2026.11.1", Reason: "within hours; 2 of 7 attempts this week",
		Inputs: json.RawMessage(fmt.Sprintf(`{ "attempt": {"channel": "sms", "n": %d},
			"history": [1, 2] }`, i)),
	}
}

// chain builds a valid chain of n records for tenant.
func chain(tenant ledger.TenantID, n int) []Record {
	out := make([]Record, 0, n)
	var prev *Record
	for i := range n {
		r := Next(prev, sample(tenant, i))
		out = append(out, r)
		prev = &r
	}
	return out
}

func TestGenesis(t *testing.T) {
	sum := sha256.Sum256([]byte("recoup-audit-genesis:acme"))
	if got, want := Genesis("acme"), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Genesis(acme) = %s, want %s", got, want)
	}
	if Genesis("acme") == Genesis("acme2") {
		t.Error("two tenants share a genesis hash")
	}
	if h := GenesisHead("acme"); h.Seq != 0 || h.Hash != Genesis("acme") || h.Tenant != "acme" {
		t.Errorf("GenesisHead(acme) = %+v", h)
	}
}

// specEncoding implements the encoding from the package documentation
// independently of CanonicalEncoding, so the two cannot drift apart.
func specEncoding(r Record, inputs, content string) []byte {
	var b []byte
	s := func(v string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
		b = append(b, v...)
	}
	s("recoup-audit/v1")
	s(string(r.Tenant))
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	s(r.At.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	s(string(r.Kind))
	s(r.Account)
	s(r.Debt)
	s(r.Decision)
	b = binary.BigEndian.AppendUint64(b, uint64(len(r.Rules)))
	for _, id := range r.Rules {
		s(id)
	}
	s(r.PolicyVersion)
	s(r.Reason)
	s(inputs)
	s(content)
	s(r.PrevHash)
	return b
}

func TestCanonicalEncodingMatchesTheDocumentedSpec(t *testing.T) {
	r := Next(nil, Record{Tenant: "acme", At: time.Date(2026, 3, 8, 6, 59, 59, 120, time.FixedZone("EST", -5*3600)),
		Kind: KindSend, Account: "C1", Debt: "INV-1", Decision: "sent", Rules: []string{"a", "b"},
		PolicyVersion: "v1", Reason: "ok", Inputs: json.RawMessage("{\"a\" : [1, 2]}"),
		Content: json.RawMessage(`{"channel":"email","body":"<p>Hi & bye</p>"}`)})
	want := specEncoding(r, `{"a":[1,2]}`, `{"channel":"email","body":"<p>Hi & bye</p>"}`)
	if got := CanonicalEncoding(r); string(got) != string(want) {
		t.Errorf("CanonicalEncoding =\n%x\nwant\n%x", got, want)
	}
	sum := sha256.Sum256(want)
	if r.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("Hash = %s, want SHA-256 of the encoding %x", r.Hash, sum)
	}
	if got := FormatTime(r.At); got != "2026-03-08T11:59:59.000000120Z" {
		t.Errorf("At is stored as %s", got)
	}
}

// TestHashIsStable pins version 1: if this hash changes, every stored chain
// stops verifying. Change the encoding only under a new Version. The value
// was also computed by a separate Python implementation of the documented
// encoding.
func TestHashIsStable(t *testing.T) {
	r := Next(nil, sample("acme", 0))
	const want = "f5822d46d71d517a8874d98770c5701324c26f37785013fba26c273cc7ad51ca"
	if r.Hash != want {
		t.Errorf("hash of the sample record = %s, want %s", r.Hash, want)
	}
}

func TestNext(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	first := Next(nil, Record{Tenant: "acme", At: time.Date(2026, 11, 25, 9, 0, 0, 0, ny), Kind: KindDecision,
		Inputs: json.RawMessage("{\n  \"a\": 1\n}\n")})
	second := Next(&first, Record{At: t0, Kind: KindSend, Content: json.RawMessage(`"hello"`)})
	third := HeadOf(second).Next(Record{Tenant: "acme", At: t0, Kind: KindConsent})

	tests := []struct {
		name     string
		r        Record
		seq      uint64
		prevHash string
	}{
		{"the first record follows the genesis hash", first, 1, Genesis("acme")},
		{"the second follows the first", second, 2, first.Hash},
		{"a head is enough to follow", third, 3, second.Hash},
	}
	for _, tt := range tests {
		if tt.r.Seq != tt.seq || tt.r.PrevHash != tt.prevHash {
			t.Errorf("%s: seq %d prev %s, want seq %d prev %s", tt.name, tt.r.Seq, tt.r.PrevHash, tt.seq, tt.prevHash)
		}
		if tt.r.Hash != tt.r.ComputeHash() || len(tt.r.Hash) != 64 {
			t.Errorf("%s: hash %q is not the record's hash", tt.name, tt.r.Hash)
		}
		if tt.r.Tenant != "acme" {
			t.Errorf("%s: tenant %q, want acme", tt.name, tt.r.Tenant)
		}
		if tt.r.At.Location() != time.UTC {
			t.Errorf("%s: At in %s, want UTC", tt.name, tt.r.At.Location())
		}
	}
	if string(first.Inputs) != `{"a":1}` {
		t.Errorf("Next stored inputs %q, want them compacted", first.Inputs)
	}
	if !first.At.Equal(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("At = %s", first.At)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	base := Next(nil, sample("acme", 1))
	edits := []struct {
		name string
		edit func(*Record)
	}{
		{"tenant", func(r *Record) { r.Tenant = "acme2" }},
		{"seq", func(r *Record) { r.Seq++ }},
		{"at, by a nanosecond", func(r *Record) { r.At = r.At.Add(time.Nanosecond) }},
		{"kind", func(r *Record) { r.Kind = KindSend }},
		{"account", func(r *Record) { r.Account = "C9" }},
		{"debt", func(r *Record) { r.Debt = "INV-9" }},
		{"decision", func(r *Record) { r.Decision = "allow " }},
		{"a rule id", func(r *Record) { r.Rules = []string{"fdcpa-hours", "regf-7in8"} }},
		{"rule order", func(r *Record) { r.Rules = []string{r.Rules[1], r.Rules[0]} }},
		{"a dropped rule", func(r *Record) { r.Rules = r.Rules[:1] }},
		{"rule boundaries", func(r *Record) { r.Rules = []string{"fdcpa-hoursregf-7in7"} }},
		{"policy version", func(r *Record) { r.PolicyVersion = "2026.11.2" }},
		{"reason", func(r *Record) { r.Reason = "" }},
		{"an inputs value", func(r *Record) { r.Inputs = json.RawMessage(strings.Replace(string(r.Inputs), "2]", "3]", 1)) }},
		{"inputs key order", func(r *Record) {
			r.Inputs = json.RawMessage(`{"history":[1,2],"attempt":{"channel":"sms","n":1}}`)
		}},
		{"a number's spelling in inputs", func(r *Record) { r.Inputs = json.RawMessage(`{"attempt":{"channel":"sms","n":1.0},"history":[1,2]}`) }},
		{"content", func(r *Record) { r.Content = json.RawMessage(`{}`) }},
		{"prev hash", func(r *Record) { r.PrevHash = Genesis("other") }},
		{"inputs moved to content", func(r *Record) { r.Content, r.Inputs = r.Inputs, nil }},
		{"text moved between fields", func(r *Record) { r.Account, r.Debt = r.Account+r.Debt[:1], r.Debt[1:] }},
	}
	for _, e := range edits {
		r := base
		r.Rules = append([]string(nil), base.Rules...)
		e.edit(&r)
		if r.ComputeHash() == base.Hash {
			t.Errorf("editing %s leaves the hash unchanged", e.name)
		}
	}

	same := []struct {
		name string
		edit func(*Record)
	}{
		{"inputs re-indented", func(r *Record) {
			r.Inputs = json.RawMessage("{\n\t\"attempt\" : { \"channel\" : \"sms\" , \"n\" : 1 } ,\r\n \"history\" : [ 1 , 2 ]\n}\n")
		}},
		{"at in another zone", func(r *Record) { r.At = r.At.In(time.FixedZone("X", 3600)) }},
	}
	for _, e := range same {
		r := base
		e.edit(&r)
		if r.ComputeHash() != base.Hash {
			t.Errorf("%s changes the hash", e.name)
		}
	}
	none := Next(nil, Record{Tenant: "acme", At: t0, Kind: KindImport})
	empty := none
	empty.Rules, empty.Inputs = []string{}, json.RawMessage{}
	if empty.ComputeHash() != none.Hash {
		t.Error("empty rules and inputs hash differently from none (a store may not keep the difference)")
	}
}

func TestValidate(t *testing.T) {
	ok := sample("acme", 0)
	tests := []struct {
		name string
		edit func(*Record)
		bad  string // a word the error must contain; "" for valid
	}{
		{"a full record", func(*Record) {}, ""},
		{"an import with no account", func(r *Record) { r.Account, r.Debt, r.Rules, r.Inputs = "", "", nil, nil }, ""},
		{"no tenant", func(r *Record) { r.Tenant = "" }, "tenant"},
		{"a tenant with the key separator", func(r *Record) { r.Tenant = "a#b" }, "tenant"},
		{"no kind", func(r *Record) { r.Kind = "" }, "kind"},
		{"no time", func(r *Record) { r.At = time.Time{} }, "time"},
		{"a time past year 9999", func(r *Record) { r.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "year"},
		{"an account with the key separator", func(r *Record) { r.Account = "C#1" }, "account"},
		{"an empty rule id", func(r *Record) { r.Rules = []string{"a", ""} }, "rule"},
		{"inputs that are not JSON", func(r *Record) { r.Inputs = json.RawMessage(`{"a":`) }, "inputs"},
		{"content that is not JSON", func(r *Record) { r.Content = json.RawMessage(`hello`) }, "content"},
		{"content too large for one item", func(r *Record) {
			r.Content = json.RawMessage(`"` + strings.Repeat("x", MaxJSONBytes) + `"`)
		}, "bytes"},
	}
	for _, tt := range tests {
		r := ok
		tt.edit(&r)
		err := Validate(r)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.bad != "" && err == nil:
			t.Errorf("%s: valid, want an error", tt.name)
		case tt.bad != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%s: error %q, want ErrInvalid mentioning %q", tt.name, err, tt.bad)
		}
		if err != nil && strings.Contains(err.Error(), "C#1") {
			t.Errorf("%s: error %q repeats the account id", tt.name, err)
		}
	}
}
