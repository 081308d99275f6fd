package shadow

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// TeamHeader is the only header ReadTeamCSV accepts, in this order.
var TeamHeader = []string{"customer", "at", "action", "channel", "by", "note"}

// ReadOptions say whose actions a file holds and where it came from.
type ReadOptions struct {
	Tenant ledger.TenantID
	// Source names the file in each action's Source ("csv:" + Source).
	Source string
	// Now, when set, refuses actions dated after it: the team cannot have
	// done them yet, so the time is wrong.
	Now time.Time
}

// FieldError is one field's problem in one row. It never quotes the
// field's value: a note may hold what a customer said.
type FieldError struct {
	Row    int    // 1-based data row (the header is row 0)
	Line   int    // 1-based line of the file where the row starts
	Field  string // a header column, or "record" for the row as a whole
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("row %d (line %d): %s: %s", e.Row, e.Line, e.Field, e.Reason)
}

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Reject is a row that was not accepted, with every reason.
type Reject struct {
	Row  int
	Line int
	// Record is the row as read (fewer or more than six cells when that
	// is what was wrong; nil when the row could not be parsed as CSV).
	Record   []string
	Problems []*FieldError
}

// Err returns the row's problems as one error.
func (r Reject) Err() error {
	errs := make([]error, len(r.Problems))
	for i, p := range r.Problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// ReadTeamCSV reads team actions: a header that is exactly TeamHeader, then
// one action per row, times in RFC 3339 with an offset (stored in UTC).
// Every row is either accepted or returned as a Reject naming its row,
// line and fields; the error is for the file as a whole (no or a wrong
// header, an unreadable stream) and comes with nothing accepted.
func ReadTeamCSV(r io.Reader, opts ReadOptions) ([]TeamAction, []Reject, error) {
	if err := opts.Tenant.Validate(); err != nil {
		return nil, nil, fmt.Errorf("read team actions: %w", err)
	}
	if opts.Source == "" {
		return nil, nil, errors.New("read team actions: no source name")
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short or long row is one reject, not the end of the file
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("%w: %s is empty: want the header %s", ErrInvalid, opts.Source, strings.Join(TeamHeader, ","))
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %s: header: %w", ErrInvalid, opts.Source, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF") // spreadsheets save a byte order mark
	}
	if !slices.Equal(header, TeamHeader) {
		return nil, nil, fmt.Errorf("%w: %s: header %q, want exactly %s", ErrInvalid, opts.Source, strings.Join(header, ","), strings.Join(TeamHeader, ","))
	}
	var (
		accepted []TeamAction
		rejects  []Reject
		seen     = map[string]int{} // id -> row
	)
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// encoding/csv resumes after the broken line, so the rest of
			// the file is still read.
			rejects = append(rejects, Reject{Row: row, Line: pe.StartLine,
				Problems: []*FieldError{{Row: row, Line: pe.StartLine, Field: "record", Reason: "not valid CSV: " + pe.Err.Error()}}})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: row %d: %w", opts.Source, row, err)
		}
		line, _ := cr.FieldPos(0)
		a, probs := parseTeamRow(rec, opts)
		if len(probs) == 0 {
			if first, dup := seen[a.ID]; dup {
				probs = append(probs, fieldProblem{"record", "", fmt.Sprintf("the same customer, at, action, channel and by as row %d", first)})
			}
		}
		if len(probs) > 0 {
			rj := Reject{Row: row, Line: line, Record: rec}
			for _, p := range probs {
				rj.Problems = append(rj.Problems, &FieldError{Row: row, Line: line, Field: p.field, Value: p.value, Reason: p.reason})
			}
			rejects = append(rejects, rj)
			continue
		}
		seen[a.ID] = row
		accepted = append(accepted, a)
	}
	return accepted, rejects, nil
}

// parseTeamRow reads one row; with problems the action is incomplete.
func parseTeamRow(rec []string, opts ReadOptions) (TeamAction, []fieldProblem) {
	if len(rec) != len(TeamHeader) {
		return TeamAction{}, []fieldProblem{{"record", "", fmt.Sprintf("has %d fields, want %d (%s)", len(rec), len(TeamHeader), strings.Join(TeamHeader, ","))}}
	}
	a := TeamAction{Tenant: opts.Tenant, Customer: rec[0], Action: strategy.Action(rec[2]), Channel: consent.Channel(rec[3]),
		By: rec[4], Note: rec[5], Source: "csv:" + opts.Source}
	var timeProblem *fieldProblem
	switch at, err := time.Parse(time.RFC3339, rec[1]); {
	case !rfc3339.MatchString(rec[1]) || err != nil:
		timeProblem = &fieldProblem{"at", rec[1], "is not an RFC 3339 time with an offset (2025-06-02T09:30:00Z)"}
	case !opts.Now.IsZero() && at.After(opts.Now):
		timeProblem = &fieldProblem{"at", rec[1], "is in the future (now is " + opts.Now.UTC().Format(time.RFC3339) + ")"}
	default:
		a.At = at.UTC()
	}
	var probs []fieldProblem
	for _, p := range a.problems() {
		if p.field == "at" && timeProblem != nil {
			continue // the parse said it better
		}
		probs = append(probs, p)
	}
	if timeProblem != nil {
		probs = append(probs, *timeProblem)
	}
	slices.SortStableFunc(probs, func(x, y fieldProblem) int { return columnOf(x.field) - columnOf(y.field) })
	if len(probs) > 0 {
		return a, probs
	}
	a.ID = TeamActionID(a)
	return a, nil
}

// rfc3339 is the shape of an RFC 3339 time. time.Parse alone is lenient
// (a one-digit hour, a comma before the fraction), and a strict reader
// refuses what another system might read differently.
var rfc3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`)

func columnOf(field string) int { return slices.Index(TeamHeader, field) }

// RejectsHeader heads WriteRejectsCSV's file: where and why, then the row
// as read, so a person can fix it in place.
var RejectsHeader = append([]string{"row", "line", "fields", "reasons"}, TeamHeader...)

// WriteRejectsCSV writes one line per rejected row.
func WriteRejectsCSV(w io.Writer, rejects []Reject) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RejectsHeader); err != nil {
		return err
	}
	for _, r := range rejects {
		fields := make([]string, 0, len(r.Problems))
		reasons := make([]string, 0, len(r.Problems))
		for _, p := range r.Problems {
			if !slices.Contains(fields, p.Field) {
				fields = append(fields, p.Field)
			}
			reasons = append(reasons, p.Field+": "+p.Reason)
		}
		cells := make([]string, len(TeamHeader))
		copy(cells, r.Record)
		if len(r.Record) > len(cells) { // keep what did not fit, in the last cell
			cells[len(cells)-1] = strings.Join(r.Record[len(cells)-1:], ",")
		}
		out := append([]string{strconv.Itoa(r.Row), strconv.Itoa(r.Line), strings.Join(fields, " "), strings.Join(reasons, "; ")}, cells...)
		for i, c := range out {
			out[i] = safeCell(strings.ToValidUTF8(c, "\uFFFD"))
		}
		if err := cw.Write(out); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formula injection (OWASP CSV injection):
// the rejects file is opened in a spreadsheet, and its cells are the
// file's own, untrusted content.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
