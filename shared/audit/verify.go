package audit

import (
	"fmt"
	"sort"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// ProblemKind names what is wrong with a chain.
type ProblemKind string

// Problem kinds Verify reports.
const (
	// ProblemEdited: a record's content does not match its own hash; it was
	// changed after it was written.
	ProblemEdited ProblemKind = "edited"
	// ProblemBrokenLink: a record's PrevHash is not the hash of the record
	// before it (or the genesis hash): the record before was changed and
	// re-hashed, or this one was replaced.
	ProblemBrokenLink ProblemKind = "broken_link"
	// ProblemMissing: sequence numbers Seq..To were never seen; those
	// records were deleted.
	ProblemMissing ProblemKind = "missing"
	// ProblemOutOfOrder: a record comes after one with a higher sequence
	// number (records reordered), or before the start of the range verified.
	ProblemOutOfOrder ProblemKind = "out_of_order"
	// ProblemDuplicate: a sequence number appears more than once.
	ProblemDuplicate ProblemKind = "duplicate"
	// ProblemForeignTenant: a record of another tenant is in the chain.
	ProblemForeignTenant ProblemKind = "foreign_tenant"
	// ProblemTruncated: the head says the chain goes on to seq To, but the
	// records stop before it; the tail Seq..To was deleted.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemBeyondHead: records Seq..To exist past the head; they were
	// written without advancing the head.
	ProblemBeyondHead ProblemKind = "beyond_head"
	// ProblemHeadMismatch: the record at the head's seq does not have the
	// head's hash (the last record was replaced, or the head edited).
	ProblemHeadMismatch ProblemKind = "head_mismatch"
	// ProblemUnreadable: a stored record could not be decoded at all.
	ProblemUnreadable ProblemKind = "unreadable"
)

// Problem is one thing wrong with a chain. Problems from Verify are sorted by
// Seq, so the first names the first bad record.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	// Seq is the sequence number concerned; for a range (missing, truncated,
	// beyond_head) the first one, with To the last.
	Seq uint64 `json:"seq"`
	To  uint64 `json:"to"`
	// Index is the record's position in the input (0-based), or -1 when the
	// problem is about records that are not there.
	Index int `json:"index"`
	// Detail says what is wrong in words, naming sequence numbers and hashes
	// but no personal data.
	Detail string `json:"detail"`
}

// String returns the problem's detail.
func (p Problem) String() string { return p.Detail }

// Options tell Verify where the records sit in the chain.
type Options struct {
	// After is the head just before the first record: verification of a
	// range starting at seq n uses the (seq, hash) of record n-1, checked
	// earlier. Nil means the records start at seq 1, after the genesis hash.
	After *Head
	// Head is the chain head the store holds. Given, Verify also detects a
	// truncated tail, records past the head, and a replaced last record.
	Head *Head
}

// Verify checks records of one tenant, which should be its chain in
// sequence order from Options.After (or the start), and returns every problem
// found, sorted by sequence number; none means the chain is intact.
func Verify(tenant ledger.TenantID, records []Record, opts Options) []Problem {
	v := NewVerifier(tenant, opts)
	for _, r := range records {
		v.Add(r)
	}
	return v.Finish()
}

// Verifier checks a chain one record at a time, so a chain of any length is
// verified in memory proportional to its damage, not its length.
type Verifier struct {
	tenant   ledger.TenantID
	opts     Options
	anchor   Head
	prevSeq  uint64 // last record added, in input order
	prevHash string
	prevOK   bool   // prevSeq/prevHash can be linked to
	max      uint64 // highest seq seen (or the anchor's)
	maxHash  string
	maxOK    bool
	seen     seqSet
	lastSeq  uint64 // seq of the last record in input order, of any kind
	lastOK   bool
	index    int
	headHash string // stored hash of the record at opts.Head.Seq, once seen
	headSeen bool
	problems []Problem
}

// NewVerifier returns a verifier for the chain of tenant.
func NewVerifier(tenant ledger.TenantID, opts Options) *Verifier {
	anchor := GenesisHead(tenant)
	if opts.After != nil {
		anchor = *opts.After
	}
	return &Verifier{tenant: tenant, opts: opts, anchor: anchor,
		prevSeq: anchor.Seq, prevHash: anchor.Hash, prevOK: true,
		max: anchor.Seq, maxHash: anchor.Hash, maxOK: true}
}

func (v *Verifier) report(k ProblemKind, seq, to uint64, index int, format string, args ...any) {
	v.problems = append(v.problems, Problem{Kind: k, Seq: seq, To: to, Index: index, Detail: fmt.Sprintf(format, args...)})
}

// Add checks the next record.
func (v *Verifier) Add(r Record) {
	i := v.index
	v.index++
	if r.Tenant != v.tenant {
		v.report(ProblemForeignTenant, r.Seq, r.Seq, i,
			"record %d (seq %d) belongs to tenant %q, not %q", i, r.Seq, r.Tenant, v.tenant)
		return
	}
	if got := r.ComputeHash(); got != r.Hash {
		v.report(ProblemEdited, r.Seq, r.Seq, i,
			"seq %d was edited: its content hashes to %s, not to its stored hash %s", r.Seq, short(got), short(r.Hash))
	}
	switch {
	case r.Seq <= v.anchor.Seq:
		v.report(ProblemOutOfOrder, r.Seq, r.Seq, i,
			"seq %d is out of order: it comes before the start of the chain verified (seq %d)", r.Seq, v.anchor.Seq+1)
		return
	case v.seen.has(r.Seq):
		v.report(ProblemDuplicate, r.Seq, r.Seq, i, "seq %d appears more than once (again at record %d)", r.Seq, i)
		return
	}
	v.seen.add(r.Seq)
	if v.opts.Head != nil && r.Seq == v.opts.Head.Seq {
		v.headHash, v.headSeen = r.Hash, true
	}
	if v.lastOK && r.Seq < v.lastSeq {
		v.report(ProblemOutOfOrder, r.Seq, r.Seq, i,
			"seq %d is out of order: it comes after seq %d (records reordered)", r.Seq, v.lastSeq)
	}
	v.lastSeq, v.lastOK = r.Seq, true
	// Link to the record before in input order or, after a reordering, to
	// the highest record seen, whichever has seq r.Seq-1.
	switch {
	case v.prevOK && r.Seq == v.prevSeq+1:
		v.checkLink(r, i, v.prevSeq, v.prevHash)
	case v.maxOK && r.Seq == v.max+1:
		v.checkLink(r, i, v.max, v.maxHash)
	}
	v.prevSeq, v.prevHash, v.prevOK = r.Seq, r.Hash, true
	if r.Seq > v.max {
		v.max, v.maxHash, v.maxOK = r.Seq, r.Hash, true
	}
}

func (v *Verifier) checkLink(r Record, i int, prevSeq uint64, prevHash string) {
	switch {
	case r.PrevHash == prevHash:
	case prevSeq == 0 && v.opts.After == nil:
		v.report(ProblemBrokenLink, r.Seq, r.Seq, i,
			"seq 1 does not start from the tenant's genesis hash (prev_hash %s, want %s)", short(r.PrevHash), short(prevHash))
	default:
		v.report(ProblemBrokenLink, r.Seq, r.Seq, i,
			"seq %d does not follow seq %d: its prev_hash %s is not the hash of seq %d (%s); seq %d was changed and re-hashed, or seq %d was replaced",
			r.Seq, prevSeq, short(r.PrevHash), prevSeq, short(prevHash), prevSeq, r.Seq)
	}
}

// AddUnreadable records that the stored record with sequence number seq
// exists but could not be decoded; why must not hold personal data.
func (v *Verifier) AddUnreadable(seq uint64, why string) {
	i := v.index
	v.index++
	v.report(ProblemUnreadable, seq, seq, i, "seq %d cannot be read: %s", seq, why)
	v.lastSeq, v.lastOK = seq, true
	if seq > v.anchor.Seq && !v.seen.has(seq) {
		v.seen.add(seq)
		if seq > v.max {
			v.max, v.maxOK = seq, false
		}
	}
	v.prevOK = false
}

// Finish reports the problems only the whole input shows (missing records,
// the head) and returns every problem, sorted by sequence number. Call it
// once, after the last Add.
func (v *Verifier) Finish() []Problem {
	// Gaps between the anchor and the highest seq seen.
	next := v.anchor.Seq + 1 // the lowest seq not yet accounted for
	for _, run := range v.seen.runs {
		if run.lo > next {
			v.reportMissing(next, run.lo-1)
		}
		if run.hi == ^uint64(0) { // nothing can follow; next would wrap
			break
		}
		next = run.hi + 1
	}
	if h := v.opts.Head; h != nil {
		switch {
		case h.Tenant != "" && h.Tenant != v.tenant:
			v.report(ProblemHeadMismatch, h.Seq, h.Seq, -1, "the head given (seq %d) belongs to tenant %q, not %q", h.Seq, h.Tenant, v.tenant)
		case h.Seq < v.anchor.Seq:
			v.report(ProblemHeadMismatch, h.Seq, h.Seq, -1, "the head (seq %d) is before the start of the chain verified (seq %d)", h.Seq, v.anchor.Seq+1)
		case h.Seq == v.anchor.Seq && h.Hash != v.anchor.Hash:
			v.report(ProblemHeadMismatch, h.Seq, h.Seq, -1, "the head (seq %d, hash %s) does not match the start of the chain (hash %s)", h.Seq, short(h.Hash), short(v.anchor.Hash))
		case h.Seq > v.max:
			if h.Seq == v.max+1 {
				v.report(ProblemTruncated, v.max+1, h.Seq, -1, "the chain is truncated: seq %d, the head, is missing", h.Seq)
			} else {
				v.report(ProblemTruncated, v.max+1, h.Seq, -1, "the chain is truncated: seqs %d to %d (the head) are missing", v.max+1, h.Seq)
			}
		case v.headSeen && v.headHash != h.Hash:
			v.report(ProblemHeadMismatch, h.Seq, h.Seq, -1, "seq %d is not the record the head points to: its hash %s, the head's %s (the last record was replaced, or the head edited)", h.Seq, short(v.headHash), short(h.Hash))
		}
		if h.Seq < v.max && h.Seq >= v.anchor.Seq {
			v.report(ProblemBeyondHead, h.Seq+1, v.max, -1, "records from seq %d to %d exist past the head at seq %d: written without advancing the head", h.Seq+1, v.max, h.Seq)
		}
	}
	sort.SliceStable(v.problems, func(a, b int) bool { return v.problems[a].Seq < v.problems[b].Seq })
	return v.problems
}

func (v *Verifier) reportMissing(lo, hi uint64) {
	if lo == hi {
		v.report(ProblemMissing, lo, hi, -1, "seq %d is missing (deleted)", lo)
		return
	}
	v.report(ProblemMissing, lo, hi, -1, "seqs %d to %d are missing (deleted)", lo, hi)
}

// short abbreviates a hash for messages; the full value is in the records.
func short(h string) string {
	if h == "" {
		return `""`
	}
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// seqSet is a set of sequence numbers kept as sorted, disjoint,
// non-adjacent runs: a chain in order is one run.
type seqSet struct{ runs []seqRun }

type seqRun struct{ lo, hi uint64 }

// find returns the index of the first run with hi >= x.
func (s *seqSet) find(x uint64) int {
	return sort.Search(len(s.runs), func(i int) bool { return s.runs[i].hi >= x })
}

func (s *seqSet) has(x uint64) bool {
	i := s.find(x)
	return i < len(s.runs) && s.runs[i].lo <= x
}

// add inserts x, which must not be in the set.
func (s *seqSet) add(x uint64) {
	if n := len(s.runs); n > 0 && s.runs[n-1].hi < x { // the common case: appending
		if s.runs[n-1].hi+1 == x {
			s.runs[n-1].hi = x
		} else {
			s.runs = append(s.runs, seqRun{x, x})
		}
		return
	}
	i := s.find(x) // runs[i] is the first run after x (x is not inside it)
	joinLeft := i > 0 && s.runs[i-1].hi+1 == x
	joinRight := i < len(s.runs) && x+1 == s.runs[i].lo
	switch {
	case joinLeft && joinRight:
		s.runs[i-1].hi = s.runs[i].hi
		s.runs = append(s.runs[:i], s.runs[i+1:]...)
	case joinLeft:
		s.runs[i-1].hi = x
	case joinRight:
		s.runs[i].lo = x
	default:
		s.runs = append(s.runs, seqRun{})
		copy(s.runs[i+1:], s.runs[i:])
		s.runs[i] = seqRun{x, x}
	}
}
