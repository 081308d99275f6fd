package audit

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// FuzzVerify checks that Verify never panics on any sequence of records, and
// that tampering it must detect is detected. The fuzz input is a program:
// the first byte sizes a valid chain, then each 3-byte instruction either
// tampers with it (delete, swap, edit, duplicate, renumber, foreign record)
// or, from the raw mode on, appends an arbitrary record made of fuzz bytes.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{5})
	f.Add([]byte{10, 0, 3, 0})          // delete seq 4
	f.Add([]byte{10, 1, 2, 3})          // swap
	f.Add([]byte{10, 2, 9, 0})          // edit the last record
	f.Add([]byte{10, 3, 4, 0})          // duplicate
	f.Add([]byte{10, 4, 4, 200})        // renumber
	f.Add([]byte{10, 5, 1, 0})          // foreign tenant
	f.Add([]byte{3, 6, 255, 255, 7, 0}) // raw records
	f.Add([]byte{0, 6, 0, 0, 6, 1, 1})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) == 0 {
			return
		}
		n := int(prog[0]) % 40
		good := chain("acme", n)
		recs := clone(good)
		tampered := false
		for i := 1; i+2 < len(prog); i += 3 {
			op, a, b := prog[i]%7, int(prog[i+1]), int(prog[i+2])
			if op == 6 {
				recs = append(recs, rawRecord(prog[i+1:]))
				tampered = true
				continue
			}
			if len(recs) == 0 {
				continue
			}
			a %= len(recs)
			switch op {
			case 0: // delete
				recs = append(recs[:a:a], recs[a+1:]...)
			case 1: // swap two different positions
				if b %= len(recs); a == b {
					continue
				}
				recs[a], recs[b] = recs[b], recs[a]
			case 2: // edit a field, keeping the stored hash
				recs[a].Decision += "x"
			case 3: // duplicate
				recs = append(recs[:a+1:a+1], recs[a:]...)
			case 4: // renumber to a different seq
				if uint64(b) == recs[a].Seq {
					continue
				}
				recs[a].Seq = uint64(b)
			case 5: // a record of another tenant in its place
				recs[a].Tenant = "other"
			}
			tampered = true
		}
		head := ptr(GenesisHead("acme"))
		if n > 0 {
			head = ptr(HeadOf(good[n-1]))
		}
		ps := Verify("acme", recs, Options{Head: head})
		if !tampered && len(ps) != 0 {
			t.Fatalf("an untouched chain of %d records has problems: %v", n, ps)
		}
		if tampered && len(ps) == 0 && !equalChains(good, recs) {
			t.Fatalf("tampering %x went unseen", prog)
		}
		for i := 1; i < len(ps); i++ {
			if ps[i].Seq < ps[i-1].Seq {
				t.Fatalf("problems not sorted by seq: %v", ps)
			}
		}
		// A range verification from any point must not panic either.
		if len(recs) > 1 {
			after := HeadOf(recs[0])
			Verify("acme", recs[1:], Options{After: &after, Head: head})
		}
	})
}

// rawRecord makes an arbitrary record from fuzz bytes.
func rawRecord(b []byte) Record {
	var buf [16]byte
	copy(buf[:], b)
	seq := binary.BigEndian.Uint64(buf[:8])
	if len(b) < 8 {
		seq = uint64(buf[0]) // small seqs collide with the chain more often
	}
	r := Record{Tenant: ledger.TenantID([]string{"acme", "other", ""}[buf[1]%3]), Seq: seq,
		At: time.Unix(int64(binary.BigEndian.Uint64(buf[8:])), 0), Kind: Kind(b),
		Inputs: json.RawMessage(b), Content: json.RawMessage(`{"a":` + string(b)),
		PrevHash: string(b), Hash: string(b)}
	if buf[2]%2 == 0 {
		r = GenesisHead(r.Tenant).Next(r)
		r.Seq = seq
	}
	return r
}

func equalChains(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Tenant != b[i].Tenant || a[i].Seq != b[i].Seq || a[i].Hash != b[i].Hash || a[i].ComputeHash() != b[i].ComputeHash() {
			return false
		}
	}
	return true
}
