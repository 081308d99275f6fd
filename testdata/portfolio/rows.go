package portfolio

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/money"
)

// Canonical column orders (FORMAT.md).
var (
	customerHeader = []string{"customer_id", "name", "kind", "country", "billing", "segment", "key_account", "currency"}
	contactHeader  = []string{"customer_id", "contact_id", "kind", "phone", "line_type", "email", "employer_provided",
		"line1", "line2", "city", "state", "zip", "country", "consent", "consent_at"}
	invoiceHeader = []string{"invoice_id", "customer_id", "invoice_date", "due_date", "amount", "open_amount",
		"currency", "disputed", "closed_date"}
	paymentHeader = []string{"payment_id", "customer_id", "invoice_id", "amount", "currency", "received_date", "reference"}
)

const dateFormat = "2006-01-02"

func decimal(minor int64, c money.Currency) string { return money.New(minor, c).Decimal() }

func (g *generator) customerRows() [][]string {
	rows := make([][]string, 0, len(g.custs))
	for _, c := range g.custs {
		kind := "business"
		if c.consumer {
			kind = "consumer"
		}
		rows = append(rows, []string{c.id, c.name, kind, c.country, c.billing, c.segment, fmt.Sprint(c.key), c.cur.Code()})
	}
	return rows
}

func contactRow(ct *contact) []string {
	employer := ""
	if ct.kind == "email" {
		employer = fmt.Sprint(ct.employer)
	}
	return []string{ct.cust.id, ct.id, ct.kind, ct.phone, ct.line, ct.email, employer,
		ct.line1, ct.line2, ct.city, ct.state, ct.zip, ct.country, ct.consent, ct.consentAt}
}

func (g *generator) contactRows() [][]string {
	rows := make([][]string, 0, len(g.conts))
	for _, ct := range g.conts {
		rows = append(rows, contactRow(ct))
	}
	return rows
}

func invoiceRow(inv *invoice) []string {
	closed := ""
	if !inv.closed.IsZero() {
		closed = inv.closed.Format(dateFormat)
	}
	return []string{inv.id, inv.cust.id, inv.date.Format(dateFormat), inv.due.Format(dateFormat),
		decimal(inv.amount, inv.cust.cur), decimal(inv.open, inv.cust.cur), inv.cust.cur.Code(),
		fmt.Sprint(inv.disputed), closed}
}

func (g *generator) invoiceRows() [][]string {
	rows := make([][]string, 0, len(g.invs))
	for _, inv := range g.invs {
		rows = append(rows, invoiceRow(inv))
	}
	return rows
}

func paymentRow(p *payment) []string {
	invoiceID := ""
	if p.inv != nil {
		invoiceID = p.inv.id
	}
	return []string{p.id, p.cust.id, invoiceID, decimal(p.amount, p.cust.cur), p.cust.cur.Code(),
		p.date.Format(dateFormat), p.ref}
}

func (g *generator) paymentRows() [][]string {
	rows := make([][]string, 0, len(g.pays))
	for _, p := range g.pays {
		rows = append(rows, paymentRow(p))
	}
	return rows
}

// plan picks where a file's bad rows go (after which good row) and deals the
// file's defect classes out over them: about 0.5% of the good rows, and at
// least one of each class.
func plan(r *rand.Rand, good int, classes []Defect) ([]int, []Defect) {
	if good == 0 {
		return nil, nil
	}
	n := max(len(classes), (good*5+500)/1000)
	taken := map[int]bool{} // looked up, never ranged
	var after []int
	for len(after) < n {
		a := r.IntN(good)
		if taken[a] && len(taken) < good {
			continue
		}
		taken[a] = true
		after = append(after, a)
	}
	slices.Sort(after)
	dealt := make([]Defect, n)
	for i := range dealt {
		dealt[i] = classes[i%len(classes)]
	}
	r.Shuffle(n, func(i, j int) { dealt[i], dealt[j] = dealt[j], dealt[i] })
	return after, dealt
}

// set replaces the named column of a record.
func set(rec []string, header []string, field, value string) {
	rec[slices.Index(header, field)] = value
}

// unknownCustomer returns an id in the customers' format beyond the last
// customer, so it never appears in customers.csv.
func (g *generator) unknownCustomer(seq int) string {
	return fmt.Sprintf("C%06d", g.cfg.Customers+101+seq*7)
}

// impossibleDate keeps the year but names a day that does not exist.
func impossibleDate(r *rand.Rand, year int) string {
	return fmt.Sprintf("%d-%s", year, pick(r, []string{"02-30", "02-31", "04-31", "06-31", "09-31", "11-31", "13-01", "00-15"}))
}

// unknownCurrencies look like currencies to a person but are not ISO 4217
// ("CDN" is the common mistake for CAD).
var unknownCurrencies = []string{"US$", "USX", "EURO", "CDN", "DOL"}

// badContacts derives each defective contact from a customer near its
// position in the file, giving it a new contact id so its defect is its only
// one.
func (g *generator) badContacts() []badRow {
	r := stream(g.cfg.Seed, streamBadRows+10)
	after, classes := plan(r, len(g.conts), defectsByFile[fileContacts])
	var out []badRow
	for i, a := range after {
		c := g.conts[a].cust
		class := classes[i]
		if class == BadPhone || class == BadZIP {
			c = g.nearestUS(c) // a US number and ZIP have a format to break
		}
		ct := &contact{cust: c, id: fmt.Sprintf("%s-X%d", c.id, i+1), consent: "unknown"}
		field := "customer_id"
		switch class {
		case BadPhone:
			ct.kind, ct.line, field = "phone", lineType(r, c), "phone"
			npa := "617"
			if len(c.city.npas) > 0 {
				npa = pick(r, c.city.npas)
			}
			ct.phone = pick(r, []string{
				npa + "-555-01" + fmt.Sprint(r.IntN(10)),                        // a digit short
				fmt.Sprintf("%c.%s55501E+09", npa[0], npa[1:]),                  // spreadsheet scientific notation
				fmt.Sprintf("+1 (1%s) 555-01%02d", npa[1:], r.IntN(100)),        // area codes never start with 1
				fmt.Sprintf("+1 %s 555 01%02d%d", npa, r.IntN(100), r.IntN(10)), // a digit too many
			})
		case BadEmail:
			ct.kind, field = "email", "email"
			good, _ := email(r, c)
			local, domain, _ := strings.Cut(good, "@")
			ct.email = pick(r, []string{
				local + "." + domain,                       // no @
				local + "@@" + domain,                      // two @
				local[:1] + " " + local[1:] + "@" + domain, // a space
				good + "; " + local + "2@" + domain,        // two addresses in one field
			})
		case BadZIP:
			g.postal(r, c, ct)
			ct.kind, field = "postal", "zip"
			zip := ct.zip[:5]
			if zip[0] == '0' {
				ct.zip = zip[1:] // a spreadsheet dropped the leading zero
			} else {
				ct.zip = pick(r, []string{zip[:4], zip[:4] + "O", zip + "-12"})
			}
		default: // UnknownCustomer, MissingCustomerID: a good contact point
			ct.kind = "email"
			ct.email, ct.employer = email(r, c)
			ct.consent, ct.consentAt = g.consent(r, 450, 100)
		}
		rec := contactRow(ct)
		switch class {
		case UnknownCustomer:
			id := g.unknownCustomer(i)
			set(rec, contactHeader, "customer_id", id)
			set(rec, contactHeader, "contact_id", id+"-E1")
		case MissingCustomerID:
			set(rec, contactHeader, "customer_id", "")
		}
		out = append(out, badRow{after: a, record: rec, field: field, class: class})
	}
	return out
}

// nearestUS returns c or the next customer after it with a US address.
func (g *generator) nearestUS(c *customer) *customer {
	for i := range g.custs {
		if d := g.custs[(c.idx+i)%len(g.custs)]; d.country == "US" {
			return d
		}
	}
	return c // no US customer at all: the defect still shows, on a non-US row
}

// badInvoices copies the good invoice before each position under a new id
// (numbered after the good ones) without open amount or closed date, then
// breaks one field. Bad invoices are never referenced by payments.
func (g *generator) badInvoices() []badRow {
	r := stream(g.cfg.Seed, streamBadRows+20)
	after, classes := plan(r, len(g.invs), defectsByFile[fileInvoices])
	var out []badRow
	for i, a := range after {
		base := *g.invs[a]
		base.id = fmt.Sprintf("INV-%07d", len(g.invs)+i+1)
		base.open, base.closed, base.disputed = base.amount, time.Time{}, false
		class := classes[i]
		switch class {
		case DuplicateInvoice:
			orig := g.invs[r.IntN(a+1)] // written before this row
			base.id, base.cust = orig.id, orig.cust
		case DueBeforeInvoice:
			base.due = base.date.AddDate(0, 0, -1-r.IntN(30))
		}
		rec := invoiceRow(&base)
		set(rec, invoiceHeader, "open_amount", "")
		set(rec, invoiceHeader, "closed_date", "")
		field := map[Defect]string{
			DueBeforeInvoice: "due_date", UnknownCustomer: "customer_id", DuplicateInvoice: "invoice_id",
			ImpossibleDate: "invoice_date", ZeroAmount: "amount", NegativeAmount: "amount",
			UnknownCurrency: "currency", MissingCustomerID: "customer_id",
		}[class]
		g.breakField(r, rec, invoiceHeader, field, class, 1000+i, base.date.Year(), base.amount, base.cust.cur)
		out = append(out, badRow{after: a, record: rec, field: field, class: class})
	}
	return out
}

// breakField writes the defect of class into field of a copied row: the
// classes invoices and payments share. n numbers unknown customer ids so
// each bad row has its own; year and amount come from the copied row.
func (g *generator) breakField(r *rand.Rand, rec, header []string, field string, class Defect, n, year int, amount int64, cur money.Currency) {
	switch class {
	case UnknownCustomer:
		set(rec, header, field, g.unknownCustomer(n))
	case MissingCustomerID:
		set(rec, header, field, "")
	case ImpossibleDate:
		set(rec, header, field, impossibleDate(r, year))
	case ZeroAmount:
		set(rec, header, field, decimal(0, cur))
	case NegativeAmount:
		set(rec, header, field, decimal(-amount, cur))
	case UnknownCurrency:
		set(rec, header, field, pick(r, unknownCurrencies))
	}
}

// badPayments copies the good payment before each position under a new id,
// then breaks one field. A payment with a bad customer id names no invoice,
// so that the mismatch with the invoice's customer is not a second defect.
func (g *generator) badPayments() []badRow {
	r := stream(g.cfg.Seed, streamBadRows+30)
	after, classes := plan(r, len(g.pays), defectsByFile[filePayments])
	var out []badRow
	for i, a := range after {
		p := *g.pays[a]
		p.id = fmt.Sprintf("PMT-%07d", len(g.pays)+i+1)
		class := classes[i]
		if class == UnknownCustomer || class == MissingCustomerID {
			p.inv = nil
		}
		rec := paymentRow(&p)
		field := map[Defect]string{
			UnknownCustomer: "customer_id", MissingCustomerID: "customer_id", ImpossibleDate: "received_date",
			ZeroAmount: "amount", NegativeAmount: "amount", UnknownCurrency: "currency",
		}[class]
		g.breakField(r, rec, paymentHeader, field, class, 2000+i, p.date.Year(), p.amount, p.cust.cur)
		out = append(out, badRow{after: a, record: rec, field: field, class: class})
	}
	return out
}
