package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BankColumns is the header of the UCI bank-marketing file as shipped in
// ../shared/data (bank-full with an ID column in front, comma separated).
var BankColumns = []string{"ID", "age", "job", "marital", "education", "default", "balance", "housing", "loan",
	"contact", "day", "month", "duration", "campaign", "pdays", "previous", "poutcome", "y"}

// BankFirstYear is the year of the file's first row. The file has a day and
// a month but no year; UCI documents the calls as running from May 2008 to
// November 2010 in the order of the rows, so a month earlier than the row
// before starts the next year.
const BankFirstYear = 2008

// The categories the UCI documentation lists; anything else is refused so a
// different release of the file cannot be read silently as this one.
var (
	bankJobs = []string{"admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired",
		"self-employed", "services", "student", "technician", "unemployed", "unknown"}
	bankMarital   = []string{"divorced", "married", "single"} // divorced includes widowed
	bankEducation = []string{"primary", "secondary", "tertiary", "unknown"}
	// The contact types: the channel the bank logged for the call.
	bankContacts = []string{"cellular", "telephone", "unknown"}
	bankOutcomes = []string{"failure", "other", "success", "unknown"}
	bankMonths   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

// BankContact is one row of the UCI bank-marketing file (Moro et al.,
// 2014): the last call of a term-deposit campaign to one client, and whether
// the client subscribed. Contact is the channel the bank chose; it was not
// randomised.
type BankContact struct {
	Line      int   // line in the file; the header is line 1
	ID        int64 // 0 when the file leaves it empty, as it does from line 35,879 on
	Age       int
	Job       string
	Marital   string
	Education string
	Default   bool  // has credit in default
	Balance   int64 // average yearly balance, whole euros (may be negative)
	Housing   bool  // has a housing loan
	Loan      bool  // has a personal loan
	Contact   string
	// Date is the call's day (UTC midnight), the year inferred from the row
	// order (see BankFirstYear).
	Date time.Time
	// Duration is the call's length in seconds. It is known only once the
	// call is over and all but decides Y (a 0-second call is always a no),
	// so it must never be a feature of anything that chooses before calling.
	Duration int
	Campaign int    // calls to this client in this campaign, this one included
	PDays    int    // days since the client was last called in a previous campaign; -1: never
	Previous int    // calls to this client before this campaign
	POutcome string // previous campaign's outcome: failure, other, success, unknown
	Y        bool   // subscribed a term deposit
}

// ReadBank reads the bank-marketing file: the exact header of BankColumns,
// then one call per line in time order. It is strict: every error names the
// line and the column, and unknown categories, out-of-range numbers,
// impossible dates, repeated IDs and rows out of time order are refused.
func ReadBank(r io.Reader) ([]BankContact, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, to say which line and how many
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty file, want the header %s", ErrFormat, strings.Join(BankColumns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if !slices.Equal(header, BankColumns) {
		return nil, fmt.Errorf("%w: line 1: header %q, want %s", ErrFormat, strings.Join(header, ","), strings.Join(BankColumns, ","))
	}
	var (
		out    []BankContact
		seen   = map[int64]int{}
		year   = BankFirstYear
		before time.Time
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(BankColumns) {
			return nil, fmt.Errorf("%w: line %d has %d columns, the header %d", ErrFormat, line, len(rec), len(BankColumns))
		}
		c, month, day, err := parseBankRow(rec, line)
		if err != nil {
			return nil, err
		}
		if c.ID != 0 {
			if prev, dup := seen[c.ID]; dup {
				return nil, fmt.Errorf("%w: line %d: column ID: %d already on line %d", ErrFormat, line, c.ID, prev)
			}
			seen[c.ID] = line
		}
		if !before.IsZero() && month < before.Month() {
			year++
		}
		c.Date = time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
		if c.Date.Day() != day {
			return nil, fmt.Errorf("%w: line %d: column day: %s has no day %d (year %d inferred from the row order)",
				ErrFormat, line, month, day, year)
		}
		if c.Date.Before(before) {
			return nil, fmt.Errorf("%w: line %d: column day: %s is before the previous row's %s; rows must be in time order",
				ErrFormat, line, c.Date.Format(time.DateOnly), before.Format(time.DateOnly))
		}
		before = c.Date
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no data rows", ErrFormat)
	}
	return out, nil
}

// parseBankRow parses every column but the year, which needs the rows
// before it.
func parseBankRow(rec []string, line int) (c BankContact, month time.Month, day int, err error) {
	c.Line = line
	fail := func(col int, format string, args ...any) error {
		return fmt.Errorf("%w: line %d: column %s: %s", ErrFormat, line, BankColumns[col], fmt.Sprintf(format, args...))
	}
	integer := func(col int, lo, hi int64) (int64, error) {
		v, perr := strconv.ParseInt(rec[col], 10, 64)
		if perr != nil {
			return 0, fail(col, "%q is not an integer", rec[col])
		}
		if v < lo || v > hi {
			return 0, fail(col, "%d is outside %d..%d", v, lo, hi)
		}
		return v, nil
	}
	category := func(col int, set []string) (string, error) {
		if !slices.Contains(set, rec[col]) {
			return "", fail(col, "%q is not one of %s", rec[col], strings.Join(set, ", "))
		}
		return rec[col], nil
	}
	yesNo := func(col int) (bool, error) {
		switch rec[col] {
		case "yes":
			return true, nil
		case "no":
			return false, nil
		}
		return false, fail(col, "%q is not yes or no", rec[col])
	}
	if rec[0] != "" {
		if c.ID, err = integer(0, 1, math.MaxInt64); err != nil {
			return
		}
	}
	var v int64
	if v, err = integer(1, 1, 120); err != nil {
		return
	}
	c.Age = int(v)
	if c.Job, err = category(2, bankJobs); err != nil {
		return
	}
	if c.Marital, err = category(3, bankMarital); err != nil {
		return
	}
	if c.Education, err = category(4, bankEducation); err != nil {
		return
	}
	if c.Default, err = yesNo(5); err != nil {
		return
	}
	if c.Balance, err = integer(6, -1e12, 1e12); err != nil {
		return
	}
	if c.Housing, err = yesNo(7); err != nil {
		return
	}
	if c.Loan, err = yesNo(8); err != nil {
		return
	}
	if c.Contact, err = category(9, bankContacts); err != nil {
		return
	}
	if v, err = integer(10, 1, 31); err != nil {
		return
	}
	day = int(v)
	m := slices.Index(bankMonths, rec[11])
	if m < 0 {
		err = fail(11, "%q is not one of %s", rec[11], strings.Join(bankMonths, ", "))
		return
	}
	month = time.Month(m + 1)
	if v, err = integer(12, 0, 1e6); err != nil {
		return
	}
	c.Duration = int(v)
	if v, err = integer(13, 1, 1e6); err != nil {
		return
	}
	c.Campaign = int(v)
	if v, err = integer(14, -1, 1e6); err != nil {
		return
	}
	c.PDays = int(v)
	if v, err = integer(15, 0, 1e6); err != nil {
		return
	}
	c.Previous = int(v)
	if c.POutcome, err = category(16, bankOutcomes); err != nil {
		return
	}
	c.Y, err = yesNo(17)
	return
}
