package kpi

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/recoup-dev/recoup/shared/money"
)

// WriteTable writes each report as two plain-text tables, key figures then
// aging, for a controller to read next to the ERP's own aging report. Amounts
// are exact (money's Decimal) with thousands separators; ratios that are not
// available print as "n/a".
func WriteTable(w io.Writer, reports []Report) error {
	for i, r := range reports {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := writeReport(w, r); err != nil {
			return err
		}
	}
	return nil
}

func writeReport(w io.Writer, r Report) error {
	if _, err := fmt.Fprintf(w, "%s AR as of %s\n", r.Currency, r.AsOf.Format("2006-01-02")); err != nil {
		return err
	}
	// Right-aligned columns so digits line up; labels are padded by hand to
	// one width, which keeps them visually left-aligned.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	paid := "no invoice closed yet"
	if r.PaidCount > 0 {
		paid = fmt.Sprintf("over %s invoices %s", groupDigits(strconv.Itoa(r.PaidCount)), basisText(r.PaidBasis))
	}
	rows := [][3]string{
		{"Open AR", amount(r.OpenAR), "open invoices: " + groupDigits(strconv.Itoa(r.OpenInvoices))},
		{"Past-due AR", amount(r.PastDueAR), percent(share(r.PastDueAR, r.OpenAR)) + " of open AR"},
		{"Disputed AR", amount(r.DisputedAR), ""},
		{"Unapplied cash", amount(r.UnappliedCash), ""},
		{"Net AR", amount(r.NetAR), "open AR less unapplied cash"},
		{"DSO (countback)", number(r.DSOCountback), "days"},
		{fmt.Sprintf("CEI (%d days)", r.Window), percent(r.CEI / 100), ""},
		{"Avg days to pay", number(r.AvgDaysToPay), "days, " + paid},
		{"Avg days late", number(r.AvgDaysLate), "days"},
		{"Paid late", percent(r.SharePaidLate), "of closed invoices"},
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row[0]))
	}
	for _, row := range rows {
		note := ""
		if row[2] != "" {
			note = "  " + row[2]
		}
		if _, err := fmt.Fprintf(tw, "  %-*s\t%s\t%s\n", width, row[0], row[1], note); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	const lw = len("Current") // the longest bucket label
	lines := []string{fmt.Sprintf("  %-*s\tInvoices\tAmount\tShare\t\n", lw, "Aging")}
	total := 0
	for _, b := range r.Aging {
		total += b.Count
		lines = append(lines, fmt.Sprintf("  %-*s\t%s\t%s\t%s\t\n", lw, b.Label,
			groupDigits(strconv.Itoa(b.Count)), amount(b.Amount), percent(b.Share)))
	}
	lines = append(lines, fmt.Sprintf("  %-*s\t%s\t%s\t%s\t\n", lw, "Total",
		groupDigits(strconv.Itoa(total)), amount(r.OpenAR), percent(share(r.OpenAR, r.OpenAR))))
	for _, l := range lines {
		if _, err := io.WriteString(tw, l); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func basisText(b PaidBasis) string {
	switch b {
	case PaidTrailingYear:
		return "closed in the trailing 365 days"
	default:
		return "closed at any time (none in the trailing 365 days)"
	}
}

// share is a/of as a fraction, NaN when of is not positive.
func share(a, of money.Amount) float64 {
	if of.Minor <= 0 {
		return math.NaN()
	}
	return float64(a.Minor) / float64(of.Minor)
}

func amount(a money.Amount) string { return groupDigits(a.Decimal()) }

func number(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return groupDigits(strconv.FormatFloat(f, 'f', 1, 64))
}

func percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// groupDigits inserts thousands separators into the integer part of a decimal
// string such as "-1234567.89" (money.Amount.Decimal's format).
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasDot {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
