package ingest

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// RejectsHeader is the header row WriteRejectsCSV writes.
var RejectsHeader = []string{"file", "line", "record", "kind", "field", "value", "reason", "raw"}

// WriteRejectsCSV writes rejects as CSV for the finance team to fix and
// re-import. Cells that a spreadsheet would run as a formula (starting with
// = + @, a tab or CR, or a minus not starting a number) get a leading
// apostrophe: the raw rows come from outside and the file is meant to be
// opened in Excel.
func WriteRejectsCSV(w io.Writer, rejects []Reject) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RejectsHeader); err != nil {
		return err
	}
	for _, r := range rejects {
		rec := []string{r.File, strconv.Itoa(r.Line), r.Record, string(r.Kind), r.Field, r.Value, r.Reason, clip(r.Raw)}
		for i, c := range rec {
			rec[i] = safeCell(strings.ToValidUTF8(c, "\uFFFD"))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formula injection (OWASP CSV injection).
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if !isPlainNumber(s[1:]) {
			return "'" + s
		}
	}
	return s
}

func isPlainNumber(s string) bool {
	if s == "" {
		return false
	}
	ip, frac, _ := strings.Cut(s, ".")
	return allDigits(strings.ReplaceAll(ip, ",", "")) && allDigits(frac)
}

// WriteReport writes a readable data-quality report: rows per file and
// kind, records produced, unknown columns, and the ten most frequent
// reasons for rejects by field.
func WriteReport(w io.Writer, b *Batch) error {
	// Text left, counts right-aligned in fixed-width cells.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var read, acc, rej, blank int
	row := func(file, format, kind string, r, a, x any) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%9v\t%9v\t%9v\n", file, format, kind, r, a, x)
	}
	row("file", "format", "kind", "rows read", "accepted", "rejected")
	for _, f := range b.Files {
		for i, k := range f.Kinds {
			name, format := f.Name, string(f.Format)
			if i > 0 {
				name, format = "", ""
			}
			kind := string(k.Kind)
			if kind == "" {
				kind = "(unclassified)"
			}
			row(name, format, kind, k.Read, k.Accepted, k.Rejected)
		}
		if len(f.Kinds) == 0 {
			row(f.Name, string(f.Format), "-", 0, 0, 0)
		}
		read += f.Read
		acc += f.Accepted
		rej += f.Rejected
		blank += f.Blank
	}
	row("total", "", "", read, acc, rej)
	if err := tw.Flush(); err != nil {
		return err
	}
	bw := &errWriter{w: w}
	if blank > 0 {
		bw.printf("\n%d blank row(s) skipped.\n", blank)
	}
	bw.printf("\nrecords: %d customers, %d contacts, %d invoices, %d payments, %d disputes\n",
		len(b.Customers), len(b.Contacts), len(b.Invoices), len(b.Payments), len(b.Disputes))
	first := true
	for _, f := range b.Files {
		if len(f.UnknownColumns) == 0 {
			continue
		}
		if first {
			bw.printf("\nunknown columns (ignored):\n")
			first = false
		}
		bw.printf("  %s: %s\n", f.Name, strings.Join(f.UnknownColumns, ", "))
	}
	if bw.err != nil {
		return bw.err
	}
	if len(b.Rejects) == 0 {
		bw.printf("\nno rejects\n")
		return bw.err
	}
	type key struct {
		field string
		rule  Rule
	}
	counts := map[key]int{}
	example := map[key]string{}
	for _, r := range b.Rejects {
		k := key{r.Field, r.Rule}
		if counts[k] == 0 {
			// Where, not what: reasons quote the rejected value, which may be
			// a phone number or an address, and this table lands in logs.
			// The rejects file holds the values for whoever fixes the export.
			example[k] = fmt.Sprintf("%s line %d", r.File, r.Line)
		}
		counts[k]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		if keys[i].field != keys[j].field {
			return keys[i].field < keys[j].field
		}
		return keys[i].rule < keys[j].rule
	})
	bw.printf("\ntop reject reasons:\n")
	if bw.err != nil {
		return bw.err
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  rejects\tfield\treason\tfirst at")
	fmt.Fprintln(tw, "  -------\t-----\t------\t--------")
	for i, k := range keys {
		if i == 10 {
			break
		}
		field := k.field
		if field == "" {
			field = "(row)"
		}
		fmt.Fprintf(tw, "  %7d\t%s\t%s\t%s\n", counts[k], field, k.rule.Label(), clipRunes(example[k], 100))
	}
	if len(keys) > 10 {
		rest := 0
		for _, k := range keys[10:] {
			rest += counts[k]
		}
		fmt.Fprintf(tw, "  %7d\t(other)\t%d more field/reason pairs\t\n", rest, len(keys)-10)
	}
	return tw.Flush()
}

// clipRunes shortens s to at most n runes for a table cell.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}
