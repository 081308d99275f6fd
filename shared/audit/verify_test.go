package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// p is a problem as the tests compare it (Detail checked separately).
func p(kind ProblemKind, seq, to uint64, index int) Problem {
	return Problem{Kind: kind, Seq: seq, To: to, Index: index}
}

func TestVerify(t *testing.T) {
	const n = 10
	good := chain("acme", n)
	head := HeadOf(good[n-1])
	other := chain("other", n)
	// rehash recomputes a record's own hash after an edit, as a forger would.
	rehash := func(r Record) Record { r.Hash = r.ComputeHash(); return r }
	// edit returns the chain with record seq changed by f (hash kept).
	edit := func(seq int, f func(*Record)) []Record {
		rs := clone(good)
		f(&rs[seq-1])
		return rs
	}
	without := func(seqs ...int) []Record {
		var rs []Record
		for _, r := range good {
			drop := false
			for _, s := range seqs {
				drop = drop || r.Seq == uint64(s)
			}
			if !drop {
				rs = append(rs, r)
			}
		}
		return rs
	}
	after4 := HeadOf(good[3])
	twoEdits := clone(good)
	twoEdits[7].Reason, twoEdits[1].Reason = "x", "y"

	tests := []struct {
		name    string
		records []Record
		opts    Options
		want    []Problem
	}{
		{"a clean chain", good, Options{}, nil},
		{"a clean chain with its head", good, Options{Head: &head}, nil},
		{"an empty chain with the genesis head", nil, Options{Head: ptr(GenesisHead("acme"))}, nil},
		{"a clean range after a verified record", good[4:], Options{After: &after4, Head: &head}, nil},
		{"whitespace-only edit of stored inputs", edit(3, func(r *Record) {
			r.Inputs = json.RawMessage(" {\n \"attempt\": {\"channel\":\"sms\",\"n\":2},\n \"history\": [1,2]\n}")
		}), Options{Head: &head}, nil},

		{"an edited decision", edit(4, func(r *Record) { r.Decision = "route_to_human" }), Options{Head: &head},
			[]Problem{p(ProblemEdited, 4, 4, 3)}},
		{"an edited rule list", edit(6, func(r *Record) { r.Rules = nil }), Options{},
			[]Problem{p(ProblemEdited, 6, 6, 5)}},
		{"edited inputs JSON", edit(3, func(r *Record) {
			r.Inputs = json.RawMessage(`{"attempt":{"channel":"sms","n":2},"history":[1]}`)
		}), Options{}, []Problem{p(ProblemEdited, 3, 3, 2)}},
		{"edited content", edit(7, func(r *Record) { r.Content = json.RawMessage(`"a different letter"`) }), Options{},
			[]Problem{p(ProblemEdited, 7, 7, 6)}},
		{"two edits: the first bad comes first", twoEdits, Options{},
			[]Problem{p(ProblemEdited, 2, 2, 1), p(ProblemEdited, 8, 8, 7)}},
		{"an edited and re-hashed record breaks the next link", edit(4, func(r *Record) { r.Decision = "route_to_human"; *r = rehash(*r) }),
			Options{Head: &head}, []Problem{p(ProblemBrokenLink, 5, 5, 4)}},
		{"an edited and re-hashed last record differs from the head", edit(n, func(r *Record) { r.Decision = "x"; *r = rehash(*r) }),
			Options{Head: &head}, []Problem{p(ProblemHeadMismatch, n, n, -1)}},
		{"a first record not starting from the genesis hash", edit(1, func(r *Record) { r.PrevHash = Genesis("other"); *r = rehash(*r) }),
			Options{}, []Problem{p(ProblemBrokenLink, 1, 1, 0), p(ProblemBrokenLink, 2, 2, 1)}},

		{"a deleted middle record", without(5), Options{Head: &head}, []Problem{p(ProblemMissing, 5, 5, -1)}},
		{"three deleted records", without(4, 5, 6), Options{Head: &head}, []Problem{p(ProblemMissing, 4, 6, -1)}},
		{"a deleted first record", without(1), Options{}, []Problem{p(ProblemMissing, 1, 1, -1)}},
		{"a deleted last record, head given", without(n), Options{Head: &head}, []Problem{p(ProblemTruncated, n, n, -1)}},
		{"a deleted tail, head given", without(8, 9, 10), Options{Head: &head}, []Problem{p(ProblemTruncated, 8, 10, -1)}},
		{"every record deleted, head given", nil, Options{Head: &head}, []Problem{p(ProblemTruncated, 1, n, -1)}},
		{"a deleted last record without the head goes unseen", without(n), Options{}, nil},

		{"two swapped records", swap(good, 2, 3), Options{Head: &head}, []Problem{p(ProblemOutOfOrder, 3, 3, 3)}},
		{"a record moved to the end", append(without(2), good[1]), Options{Head: &head}, []Problem{p(ProblemOutOfOrder, 2, 2, 9)}},
		{"reversed", reversed(good[:3]), Options{}, []Problem{p(ProblemOutOfOrder, 1, 1, 2), p(ProblemOutOfOrder, 2, 2, 1)}},
		{"a duplicate", insert(good, 6, good[5]), Options{Head: &head}, []Problem{p(ProblemDuplicate, 6, 6, 6)}},
		{"a duplicate with other content", insert(good, 6, rehash(withReason(good[5], "forged"))), Options{Head: &head},
			[]Problem{p(ProblemDuplicate, 6, 6, 6)}},
		{"a record renumbered into a gap", edit(5, func(r *Record) { r.Seq = 11 }), Options{},
			[]Problem{p(ProblemMissing, 5, 5, -1), p(ProblemOutOfOrder, 6, 6, 5), p(ProblemEdited, 11, 11, 4)}},

		{"another tenant's record inserted", insert(good, 3, other[3]), Options{Head: &head},
			[]Problem{p(ProblemForeignTenant, 4, 4, 3)}},
		{"another tenant's record in place of one", replace(good, 4, other[4]), Options{Head: &head},
			[]Problem{p(ProblemForeignTenant, 5, 5, 4), p(ProblemMissing, 5, 5, -1)}},
		{"another tenant's whole chain", other, Options{},
			func() []Problem {
				var ps []Problem
				for i := range n {
					ps = append(ps, p(ProblemForeignTenant, uint64(i+1), uint64(i+1), i))
				}
				return ps
			}()},

		{"records past the head", good, Options{Head: ptr(HeadOf(good[6]))}, []Problem{p(ProblemBeyondHead, 8, n, -1)}},
		{"records before the range verified", good[2:], Options{After: &after4}, []Problem{p(ProblemOutOfOrder, 3, 3, 0), p(ProblemOutOfOrder, 4, 4, 1)}},
		{"a range after the wrong record", good[4:], Options{After: ptr(HeadOf(good[2]))},
			[]Problem{p(ProblemMissing, 4, 4, -1)}},
		{"a range after a forged anchor", good[4:], Options{After: &Head{Tenant: "acme", Seq: 4, Hash: "00"}},
			[]Problem{p(ProblemBrokenLink, 5, 5, 0)}},
		{"a head of another tenant", good, Options{Head: ptr(HeadOf(other[n-1]))}, []Problem{p(ProblemHeadMismatch, n, n, -1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Verify("acme", tt.records, tt.opts)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Problem{}, "Detail"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%s", diff, details(got))
			}
			for _, pr := range got {
				if !strings.Contains(pr.Detail, fmt.Sprint(pr.Seq)) {
					t.Errorf("detail %q does not name seq %d", pr.Detail, pr.Seq)
				}
				for _, r := range good {
					if strings.Contains(pr.Detail, r.Reason) || strings.Contains(pr.Detail, "INV-") {
						t.Errorf("detail %q repeats record content", pr.Detail)
					}
				}
			}
		})
	}
}

func TestVerifierUnreadable(t *testing.T) {
	good := chain("acme", 5)
	head := HeadOf(good[4])
	v := NewVerifier("acme", Options{Head: &head})
	for _, r := range good {
		if r.Seq == 3 {
			v.AddUnreadable(3, "seq is not a number")
			continue
		}
		v.Add(r)
	}
	want := []Problem{p(ProblemUnreadable, 3, 3, 2)}
	if diff := cmp.Diff(want, v.Finish(), cmpopts.IgnoreFields(Problem{}, "Detail")); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestSeqSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var s seqSet
		in := map[uint64]bool{}
		for range rng.IntN(60) {
			x := uint64(rng.IntN(40))
			if round%7 == 0 {
				x = ^uint64(0) - uint64(rng.IntN(5))
			}
			if in[x] != s.has(x) {
				t.Fatalf("round %d: has(%d) = %v, want %v", round, x, s.has(x), in[x])
			}
			if !in[x] {
				s.add(x)
				in[x] = true
			}
		}
		for i, r := range s.runs {
			if r.lo > r.hi || (i > 0 && s.runs[i-1].hi+1 >= r.lo) {
				t.Fatalf("round %d: runs not sorted, disjoint and apart: %v", round, s.runs)
			}
		}
		for x := range uint64(45) {
			if in[x] != s.has(x) {
				t.Fatalf("round %d: has(%d) = %v, want %v (runs %v)", round, x, s.has(x), in[x], s.runs)
			}
		}
	}
}

func details(ps []Problem) string {
	var b strings.Builder
	for _, pr := range ps {
		fmt.Fprintf(&b, "  %s\n", pr.Detail)
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func clone(rs []Record) []Record { return append([]Record(nil), rs...) }

func swap(rs []Record, i, j int) []Record {
	rs = clone(rs)
	rs[i], rs[j] = rs[j], rs[i]
	return rs
}

func reversed(rs []Record) []Record {
	out := clone(rs)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func insert(rs []Record, at int, r Record) []Record {
	out := append(clone(rs[:at]), r)
	return append(out, rs[at:]...)
}

func replace(rs []Record, at int, r Record) []Record {
	out := clone(rs)
	out[at] = r
	return out
}

func withReason(r Record, reason string) Record { r.Reason = reason; return r }
