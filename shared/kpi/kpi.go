package kpi

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// DefaultWindow is the CEI window in days when Options.Window is 0: a month,
// the period finance teams review collections over.
const DefaultWindow = 30

// ErrInvalid is returned when the input breaks a ledger invariant the
// formulas rely on (a currency mismatch, a duplicate invoice, a non-positive
// amount...). Computing a KPI over such data would hide the problem.
var ErrInvalid = errors.New("kpi: invalid input")

// Options selects the reporting date and window.
type Options struct {
	// AsOf is the day the figures describe (its UTC calendar date, end of
	// day). Zero means the latest date in the data: the export date.
	AsOf time.Time
	// Window is the CEI window in days; 0 means DefaultWindow.
	Window int
}

// PaidBasis says which closed invoices the payment-behaviour averages cover.
type PaidBasis string

// Paid bases.
const (
	// PaidTrailingYear: invoices closed in the 365 days ending at AsOf.
	PaidTrailingYear PaidBasis = "trailing-365d"
	// PaidAllClosed: none closed in the trailing year, so all closed on or
	// before AsOf.
	PaidAllClosed PaidBasis = "all-closed"
	// PaidNone: no invoice closed on or before AsOf; the averages are NaN.
	PaidNone PaidBasis = "none"
)

// Bucket is one aging bucket.
type Bucket struct {
	Label  string
	Count  int          // open invoices in the bucket
	Amount money.Amount // their balance at AsOf
	Share  float64      // Amount / OpenAR as a fraction; 0 when OpenAR is 0
}

// Report holds the KPIs of one currency. Ratios that cannot be computed are
// NaN; WriteTable prints them as "n/a".
type Report struct {
	Currency money.Currency
	AsOf     time.Time // UTC midnight of the reporting day
	Window   int       // CEI window in days

	OpenAR        money.Amount // sum of invoice balances; equals the aging total
	OpenInvoices  int          // invoices with a positive balance
	PastDueAR     money.Amount // balances at least one day past due
	DisputedAR    money.Amount // balances of disputed invoices
	UnappliedCash money.Amount // payments not applied to a known invoice
	NetAR         money.Amount // OpenAR - UnappliedCash; the AR of DSO and CEI

	DSOCountback float64 // days
	CEI          float64 // percent over Window days ending at AsOf

	Aging []Bucket // Current, 1-30, 31-60, 61-90, 91-120, 121+

	AvgDaysToPay  float64   // days from invoice date to closed date
	AvgDaysLate   float64   // days past due at closing, 0 when on time
	SharePaidLate float64   // fraction closed after their due date
	PaidCount     int       // closed invoices the three figures cover
	PaidBasis     PaidBasis // which closed invoices those are
}

// agingBuckets bounds the buckets by days past due (inclusive upper limits);
// the last is open-ended.
var agingBuckets = []struct {
	label string
	max   int
}{
	{"Current", 0},
	{"1-30", 30},
	{"31-60", 60},
	{"61-90", 90},
	{"91-120", 120},
	{"121+", math.MaxInt},
}

// payment is an applied payment reduced to what the balance rule needs.
type payment struct {
	day   time.Time
	minor int64
}

// invoice is an input invoice with its dates normalised to UTC days and its
// applied payments attached.
type invoice struct {
	inv        *ledger.Invoice
	day, due   time.Time
	closed     bool
	closedDay  time.Time
	open       int64
	pays       []payment
	appliedAll int64
}

// balance applies the package's balance rule at day t; ok is false when the
// invoice is dated after t and so is not AR yet.
func (v *invoice) balance(t time.Time) (b int64, ok bool) {
	if v.day.After(t) {
		return 0, false
	}
	if v.closed && !v.closedDay.After(t) {
		return 0, true
	}
	var upTo int64
	for _, p := range v.pays {
		if !p.day.After(t) {
			upTo += p.minor
		}
	}
	amount := v.inv.Amount.Minor
	if v.closed {
		b = amount - upTo
	} else {
		b = v.open + (v.appliedAll - upTo)
	}
	return min(max(b, 0), amount), true
}

// book is everything of one currency.
type book struct {
	cur       money.Currency
	invoices  []*invoice
	unapplied []payment
}

// unappliedAt sums unapplied cash received on or before t.
func (b *book) unappliedAt(t time.Time) int64 {
	var s int64
	for _, p := range b.unapplied {
		if !p.day.After(t) {
			s += p.minor
		}
	}
	return s
}

// day truncates t to UTC midnight of its calendar date.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return ledger.Date(y, m, d)
}

// maxTotal caps the sum of all amounts of one currency so that no sum or
// difference the formulas take can overflow int64; any real ledger is many
// orders of magnitude below it.
const maxTotal = math.MaxInt64 / 4

// Compute returns one Report per currency that has an invoice or a payment
// dated on or before AsOf, sorted by currency code. An empty ledger gives an
// empty slice. See the package documentation for the definitions.
func Compute(invoices []ledger.Invoice, payments []ledger.Payment, opts Options) ([]Report, error) {
	window := opts.Window
	if window == 0 {
		window = DefaultWindow
	}
	if window < 0 {
		return nil, fmt.Errorf("%w: window %d days is negative", ErrInvalid, window)
	}
	// KPIs describe one tenant's books; figures never add across tenants.
	var tenant ledger.TenantID
	same := func(t ledger.TenantID, what, id string) error {
		if tenant == "" {
			tenant = t
		}
		if t != tenant {
			return fmt.Errorf("%w: %s %s belongs to tenant %s, not %s; compute KPIs one tenant at a time", ErrInvalid, what, id, t, tenant)
		}
		return nil
	}
	for _, inv := range invoices {
		if err := same(inv.Tenant, "invoice", inv.ID); err != nil {
			return nil, err
		}
	}
	for _, p := range payments {
		if err := same(p.Tenant, "payment", p.ID); err != nil {
			return nil, err
		}
	}

	type key struct {
		tenant ledger.TenantID
		id     string
	}
	byID := make(map[key]*invoice, len(invoices))
	books := map[string]*book{}
	totals := map[string]int64{}
	bookOf := func(c money.Currency) *book {
		b := books[c.Code()]
		if b == nil {
			b = &book{cur: c}
			books[c.Code()] = b
		}
		return b
	}
	addTotal := func(c money.Currency, minor int64, what string) error {
		if totals[c.Code()] > maxTotal-minor {
			return fmt.Errorf("%w: %s amounts in %s are too large to sum", ErrInvalid, what, c)
		}
		totals[c.Code()] += minor
		return nil
	}
	var latest time.Time
	seen := func(t time.Time) {
		if d := day(t); d.After(latest) {
			latest = d
		}
	}

	for i := range invoices {
		inv := &invoices[i]
		name := fmt.Sprintf("invoice %s/%s", inv.Tenant, inv.ID)
		cur := inv.Amount.Currency
		if cur.IsZero() {
			return nil, fmt.Errorf("%w: %s has no currency", ErrInvalid, name)
		}
		if inv.Amount.Minor <= 0 {
			return nil, fmt.Errorf("%w: %s amount %s is not positive", ErrInvalid, name, inv.Amount)
		}
		// A zero Open with no currency is an unset field: balance 0.
		if !(inv.Open.Currency.IsZero() && inv.Open.Minor == 0) && inv.Open.Currency != cur {
			return nil, fmt.Errorf("%w: %s open amount %s is not in %s", ErrInvalid, name, inv.Open, cur)
		}
		if inv.Open.Minor < 0 || inv.Open.Minor > inv.Amount.Minor {
			return nil, fmt.Errorf("%w: %s open amount %s is outside 0..%s", ErrInvalid, name, inv.Open.Decimal(), inv.Amount.Decimal())
		}
		k := key{inv.Tenant, inv.ID}
		if byID[k] != nil {
			return nil, fmt.Errorf("%w: duplicate %s", ErrInvalid, name)
		}
		if err := addTotal(cur, inv.Amount.Minor, "invoice"); err != nil {
			return nil, err
		}
		v := &invoice{inv: inv, day: day(inv.InvoiceDate), due: day(inv.DueDate), open: inv.Open.Minor}
		if !inv.ClosedDate.IsZero() {
			v.closed, v.closedDay = true, day(inv.ClosedDate)
			seen(inv.ClosedDate)
		}
		seen(inv.InvoiceDate)
		byID[k] = v
		b := bookOf(cur)
		b.invoices = append(b.invoices, v)
	}

	for i := range payments {
		p := &payments[i]
		name := fmt.Sprintf("payment %s/%s", p.Tenant, p.ID)
		cur := p.Amount.Currency
		if cur.IsZero() {
			return nil, fmt.Errorf("%w: %s has no currency", ErrInvalid, name)
		}
		if p.Amount.Minor <= 0 {
			return nil, fmt.Errorf("%w: %s amount %s is not positive", ErrInvalid, name, p.Amount)
		}
		if err := addTotal(cur, p.Amount.Minor, "payment"); err != nil {
			return nil, err
		}
		seen(p.ReceivedAt)
		pay := payment{day: day(p.ReceivedAt), minor: p.Amount.Minor}
		if v := byID[key{p.Tenant, p.Invoice}]; p.Invoice != "" && v != nil {
			if v.inv.Amount.Currency != cur {
				return nil, fmt.Errorf("%w: %s in %s is applied to invoice %s in %s",
					ErrInvalid, name, cur, p.Invoice, v.inv.Amount.Currency)
			}
			v.pays = append(v.pays, pay)
			v.appliedAll += pay.minor
			continue
		}
		b := bookOf(cur)
		b.unapplied = append(b.unapplied, pay)
	}

	asOf := latest
	if !opts.AsOf.IsZero() {
		asOf = day(opts.AsOf)
	}
	codes := make([]string, 0, len(books))
	for code := range books {
		codes = append(codes, code)
	}
	slices.Sort(codes) // map order is random; reports come out by code

	reports := []Report{}
	for _, code := range codes {
		b := books[code]
		if !b.active(asOf) {
			continue
		}
		reports = append(reports, b.report(asOf, window))
	}
	return reports, nil
}

// active reports whether the currency has anything dated on or before asOf.
func (b *book) active(asOf time.Time) bool {
	for _, v := range b.invoices {
		if !v.day.After(asOf) {
			return true
		}
	}
	for _, p := range b.unapplied {
		if !p.day.After(asOf) {
			return true
		}
	}
	return false
}

// report computes one currency's KPIs. Compute has bounded all totals, so the
// int64 arithmetic here cannot overflow.
func (b *book) report(asOf time.Time, window int) Report {
	amt := func(minor int64) money.Amount { return money.New(minor, b.cur) }
	r := Report{Currency: b.cur, AsOf: asOf, Window: window}

	var openAR, pastDue, disputed, current int64
	counts := make([]int, len(agingBuckets))
	sums := make([]int64, len(agingBuckets))
	for _, v := range b.invoices {
		bal, ok := v.balance(asOf)
		if !ok || bal == 0 {
			continue
		}
		dpd := ledger.DaysBetween(v.due, asOf)
		i := 0
		for dpd > agingBuckets[i].max {
			i++
		}
		counts[i]++
		sums[i] += bal
		openAR += bal
		r.OpenInvoices++
		if dpd > 0 {
			pastDue += bal
		} else {
			current += bal
		}
		if v.inv.Disputed {
			disputed += bal
		}
	}
	unapplied := b.unappliedAt(asOf)
	netAR := openAR - unapplied
	r.OpenAR, r.PastDueAR, r.DisputedAR = amt(openAR), amt(pastDue), amt(disputed)
	r.UnappliedCash, r.NetAR = amt(unapplied), amt(netAR)
	for i, bk := range agingBuckets {
		share := 0.0
		if openAR > 0 {
			share = float64(sums[i]) / float64(openAR)
		}
		r.Aging = append(r.Aging, Bucket{Label: bk.label, Count: counts[i], Amount: amt(sums[i]), Share: share})
	}

	r.DSOCountback = b.dsoCountback(asOf, netAR)
	r.CEI = b.cei(asOf, window, netAR, current)
	r.AvgDaysToPay, r.AvgDaysLate, r.SharePaidLate, r.PaidCount, r.PaidBasis = b.paidStats(asOf)
	return r
}

// dsoCountback walks calendar months back from asOf consuming AR with each
// month's credit sales.
func (b *book) dsoCountback(asOf time.Time, ar int64) float64 {
	if ar <= 0 {
		return 0
	}
	sales := map[int]int64{} // by year*12+month; only looked up, never ranged
	earliest := asOf
	for _, v := range b.invoices {
		if v.day.After(asOf) {
			continue
		}
		sales[monthKey(v.day)] += v.inv.Amount.Minor
		if v.day.Before(earliest) {
			earliest = v.day
		}
	}
	dso := 0.0
	end := asOf
	for {
		start := ledger.Date(end.Year(), end.Month(), 1)
		days := float64(ledger.DaysBetween(start, end) + 1)
		s := sales[monthKey(start)]
		if s >= ar {
			return dso + float64(ar)/float64(s)*days
		}
		dso += days
		ar -= s
		if !start.After(earliest) {
			return dso // AR outlasts the sales history
		}
		end = start.AddDate(0, 0, -1)
	}
}

func monthKey(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// cei computes the collection effectiveness index over window days ending at
// asOf; endCurrent is the not-yet-due balance at asOf.
func (b *book) cei(asOf time.Time, window int, endNet, endCurrent int64) float64 {
	begin := asOf.AddDate(0, 0, -window)
	var beginAR, sales int64
	for _, v := range b.invoices {
		if bal, ok := v.balance(begin); ok {
			beginAR += bal
		}
		if v.day.After(begin) && !v.day.After(asOf) {
			sales += v.inv.Amount.Minor
		}
	}
	beginNet := beginAR - b.unappliedAt(begin)
	den := beginNet + sales - endCurrent
	if den <= 0 {
		return math.NaN()
	}
	return float64(beginNet+sales-endNet) / float64(den) * 100
}

// paidStats averages payment behaviour over closed invoices.
func (b *book) paidStats(asOf time.Time) (toPay, late, shareLate float64, n int, basis PaidBasis) {
	yearAgo := asOf.AddDate(0, 0, -365)
	var closed, recent []*invoice
	for _, v := range b.invoices {
		if !v.closed || v.closedDay.After(asOf) || v.day.After(asOf) {
			continue
		}
		closed = append(closed, v)
		if v.closedDay.After(yearAgo) {
			recent = append(recent, v)
		}
	}
	set, basis := recent, PaidTrailingYear
	if len(recent) == 0 {
		set, basis = closed, PaidAllClosed
	}
	if len(set) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0, PaidNone
	}
	var sumPay, sumLate, nLate int
	for _, v := range set {
		sumPay += ledger.DaysBetween(v.day, v.closedDay)
		if d := ledger.DaysBetween(v.due, v.closedDay); d > 0 {
			sumLate += d
			nLate++
		}
	}
	n = len(set)
	f := float64(n)
	return float64(sumPay) / f, float64(sumLate) / f, float64(nLate) / f, n, basis
}
