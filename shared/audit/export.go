package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Format is an export format.
type Format string

// Export formats.
const (
	// JSONL writes one JSON object per record and line. It is lossless:
	// ReadJSONL reads it back and Verify checks it.
	JSONL Format = "jsonl"
	// CSV writes a header row and one row per record, for people. Rules are
	// joined with ";" and a cell starting with = + - @ or a tab gets a
	// leading apostrophe so a spreadsheet never runs it as a formula; use
	// JSONL to verify.
	CSV Format = "csv"
)

// ParseFormat reads a format name ("jsonl" or "csv").
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case JSONL, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown audit export format %q: want jsonl or csv", s)
}

// CSVHeader is the header row of a CSV export; JSONL uses the same names.
var CSVHeader = []string{"tenant", "seq", "at", "kind", "account", "debt", "decision", "rules",
	"policy_version", "reason", "inputs", "content", "prev_hash", "hash"}

// jsonRecord is a record's JSONL form.
type jsonRecord struct {
	Tenant        ledger.TenantID `json:"tenant"`
	Seq           uint64          `json:"seq"`
	At            string          `json:"at"`
	Kind          Kind            `json:"kind"`
	Account       string          `json:"account,omitempty"`
	Debt          string          `json:"debt,omitempty"`
	Decision      string          `json:"decision,omitempty"`
	Rules         []string        `json:"rules,omitempty"`
	PolicyVersion string          `json:"policy_version,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Inputs        json.RawMessage `json:"inputs,omitempty"`
	Content       json.RawMessage `json:"content,omitempty"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// Writer writes records in one export format.
type Writer struct {
	format Format
	w      io.Writer
	enc    *json.Encoder
	csv    *csv.Writer
	n      int
}

// NewWriter returns a writer of format f to w; call Flush at the end.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	ew := &Writer{format: f, w: w}
	switch f {
	case JSONL:
		ew.enc = json.NewEncoder(w)
		ew.enc.SetEscapeHTML(false)
	case CSV:
		ew.csv = csv.NewWriter(w)
		if err := ew.csv.Write(CSVHeader); err != nil {
			return nil, fmt.Errorf("write audit export header: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown audit export format %q: want jsonl or csv", f)
	}
	return ew, nil
}

// Write writes one record.
func (ew *Writer) Write(r Record) error {
	ew.n++
	switch ew.format {
	case JSONL:
		// Invalid JSON in Inputs or Content (a damaged record) cannot be
		// embedded as JSON; it is written as a JSON string instead.
		in, content := r.Inputs, r.Content
		if len(in) > 0 && !json.Valid(in) {
			in, _ = json.Marshal(string(in))
		}
		if len(content) > 0 && !json.Valid(content) {
			content, _ = json.Marshal(string(content))
		}
		err := ew.enc.Encode(jsonRecord{Tenant: r.Tenant, Seq: r.Seq, At: FormatTime(r.At), Kind: r.Kind,
			Account: r.Account, Debt: r.Debt, Decision: r.Decision, Rules: r.Rules,
			PolicyVersion: r.PolicyVersion, Reason: r.Reason, Inputs: in, Content: content,
			PrevHash: r.PrevHash, Hash: r.Hash})
		if err != nil {
			return fmt.Errorf("write audit record seq %d: %w", r.Seq, err)
		}
	case CSV:
		row := []string{string(r.Tenant), strconv.FormatUint(r.Seq, 10), FormatTime(r.At), string(r.Kind),
			r.Account, r.Debt, r.Decision, strings.Join(r.Rules, ";"), r.PolicyVersion, r.Reason,
			string(compactJSON(r.Inputs)), string(compactJSON(r.Content)), r.PrevHash, r.Hash}
		for i, cell := range row {
			row[i] = defuseCell(cell)
		}
		if err := ew.csv.Write(row); err != nil {
			return fmt.Errorf("write audit record seq %d: %w", r.Seq, err)
		}
	}
	return nil
}

// Count returns how many records were written.
func (ew *Writer) Count() int { return ew.n }

// Flush writes out anything buffered.
func (ew *Writer) Flush() error {
	if ew.csv != nil {
		ew.csv.Flush()
		if err := ew.csv.Error(); err != nil {
			return fmt.Errorf("write audit export: %w", err)
		}
	}
	return nil
}

// defuseCell keeps a spreadsheet from reading a cell as a formula.
func defuseCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Export writes records to w in format f. Filtering (by tenant, always, and
// by account and time) happens before, in the store's query or with Filter.
func Export(w io.Writer, records []Record, f Format) error {
	ew, err := NewWriter(w, f)
	if err != nil {
		return err
	}
	for _, r := range records {
		if err := ew.Write(r); err != nil {
			return err
		}
	}
	return ew.Flush()
}

// Filter selects records for an export. The zero Filter selects everything.
type Filter struct {
	// Account, when set, selects the records of one customer.
	Account string
	// From (inclusive) and To (exclusive) bound At; zero means unbounded.
	From, To time.Time
}

// Match reports whether r passes the filter.
func (f Filter) Match(r Record) bool {
	if f.Account != "" && r.Account != f.Account {
		return false
	}
	if !f.From.IsZero() && r.At.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !r.At.Before(f.To) {
		return false
	}
	return true
}

// ReadJSONL reads records written by a JSONL export, one per line, in order.
// A line that does not decode yields an error naming its line number, and
// reading goes on with the next line.
func ReadJSONL(rd io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 0, 64<<10), 4*MaxJSONBytes)
		for line := 1; sc.Scan(); line++ {
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			r, err := decodeJSONLine(b)
			if err != nil {
				err = fmt.Errorf("audit export line %d: %w", line, err)
			}
			if !yield(r, err) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Record{}, fmt.Errorf("read audit export: %w", err))
		}
	}
}

func decodeJSONLine(b []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var jr jsonRecord
	if err := dec.Decode(&jr); err != nil {
		return Record{}, err
	}
	if dec.More() {
		return Record{}, errors.New("more than one JSON value on the line")
	}
	at, err := ParseTime(jr.At)
	if err != nil {
		return Record{}, fmt.Errorf("seq %d: bad time: %w", jr.Seq, err)
	}
	return Record{Tenant: jr.Tenant, Seq: jr.Seq, At: at, Kind: jr.Kind, Account: jr.Account, Debt: jr.Debt,
		Decision: jr.Decision, Rules: jr.Rules, PolicyVersion: jr.PolicyVersion, Reason: jr.Reason,
		Inputs: jr.Inputs, Content: jr.Content, PrevHash: jr.PrevHash, Hash: jr.Hash}, nil
}
