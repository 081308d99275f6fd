package portfolio

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

var (
	usd = money.MustCurrency("USD")
	cad = money.MustCurrency("CAD")
	eur = money.MustCurrency("EUR")
)

// payer is a customer's habit, which drives when (if ever) invoices are paid.
type payer int

const (
	payerPrompt payer = iota // around the due date
	payerSlow                // up to 40 days late
	payerLate                // 20 to 150 days late
	payerNever               // paid like payerSlow, then stopped paying: the 90+ bucket
)

type customer struct {
	idx        int
	id, name   string
	consumer   bool
	segment    string
	billing    string
	key        bool
	cur        money.Currency
	country    string
	region     *region
	city       *city
	first      string // consumers
	last       string
	slug       string // businesses, for mailbox names
	profile    payer
	stopped    time.Time // payerNever: invoices dated from here on go unpaid
	forced     bool      // must have a postal address and a phone
	phoneState string    // forced: the phone's state differs from the address's
	weight     int       // relative invoice volume
}

type contact struct {
	cust                      *customer
	id, kind                  string
	phone, line               string
	email                     string
	employer                  bool
	line1, line2, city, state string
	zip, country              string
	consent, consentAt        string
}

type invoice struct {
	id       string
	cust     *customer
	date     time.Time
	due      time.Time
	amount   int64
	open     int64
	disputed bool
	closed   time.Time
}

type payment struct {
	id     string
	cust   *customer
	inv    *invoice // nil: unapplied, reference only
	amount int64
	date   time.Time
	ref    string
}

type generator struct {
	cfg      Config
	asOf     time.Time
	custs    []*customer
	conts    []*contact
	invs     []*invoice
	pays     []*payment
	nextLine map[string]int // next free 555-01xx line per area code; looked up, never ranged
}

func newGenerator(cfg Config) *generator {
	return &generator{cfg: cfg, asOf: cfg.AsOf, nextLine: map[string]int{}}
}

// permille is true with probability p/1000.
func permille(r *rand.Rand, p int) bool { return r.IntN(1000) < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickRegion(r *rand.Rand, regions []region) *region {
	total := 0
	for _, g := range regions {
		total += g.weight
	}
	n := r.IntN(total)
	for i := range regions {
		if n < regions[i].weight {
			return &regions[i]
		}
		n -= regions[i].weight
	}
	panic("unreachable")
}

func findRegion(regions []region, code string) *region {
	for i := range regions {
		if regions[i].code == code {
			return &regions[i]
		}
	}
	panic("portfolio: no region " + code)
}

// customers draws the accounts: about 30% consumers (US, USD) and 70%
// businesses split smb / mid-market / enterprise, some billed in CAD or EUR.
func (g *generator) customers() {
	r := stream(g.cfg.Seed, streamCustomers)
	us := 0 // US customers so far: the first ones cover mustCover and forcedMismatch
	for i := range g.cfg.Customers {
		c := &customer{idx: i, id: fmt.Sprintf("C%06d", i+1), country: "US", cur: usd}
		c.consumer = permille(r, 300)
		switch {
		case c.consumer:
			c.segment = "consumer"
		case permille(r, 650):
			c.segment = "smb"
		case permille(r, 800):
			c.segment = "mid-market"
		default:
			c.segment = "enterprise"
		}
		if !c.consumer {
			switch n := r.IntN(1000); {
			case n < 40:
				c.country, c.cur = "CA", cad
			case n < 60:
				c.country, c.cur = "", eur // set with the region below
			}
		}
		// Key accounts (~2% overall) are the large ones.
		c.key = (c.segment == "enterprise" && permille(r, 300)) || (c.segment == "mid-market" && permille(r, 25))
		c.billing = "electronic"
		if permille(r, segments[c.segment].paper) {
			c.billing = "paper"
		}

		switch c.cur {
		case cad:
			c.region = pickRegion(r, caProvinces)
		case eur:
			c.region = pickRegion(r, euCountries)
			c.country = c.region.code
		default:
			switch {
			case us < len(mustCover):
				c.region, c.forced = findRegion(usStates, mustCover[us]), true
			case us < len(mustCover)+len(forcedMismatch):
				pair := forcedMismatch[us-len(mustCover)]
				c.region, c.forced, c.phoneState = findRegion(usStates, pair[0]), true, pair[1]
			default:
				c.region = pickRegion(r, usStates)
			}
			us++
		}
		c.city = &c.region.cities[r.IntN(len(c.region.cities))]

		if c.consumer {
			c.first = pick(r, firstNames)
			c.last = pick(r, surnameHeads) + pick(r, surnameTails)
			c.name = c.first + " " + c.last
		} else {
			head, noun := pick(r, businessHeads), pick(r, businessNouns)
			suffix := pick(r, businessSuffixes)
			c.name = head + " " + noun
			if strings.HasPrefix(suffix, ",") {
				c.name += suffix
			} else {
				c.name += " " + suffix
			}
			c.slug = strings.ToLower(head + noun)
		}

		// Payer habits: consumers are more often late or absent.
		n := r.IntN(1000)
		if c.consumer {
			n -= 80
		}
		switch {
		case n < 560:
			c.profile = payerPrompt
		case n < 810:
			c.profile = payerSlow
		case n < 960:
			c.profile = payerLate
		default:
			// A customer in distress: it stopped paying some time in the
			// last year, so its unpaid invoices age from then on.
			c.profile = payerNever
			c.stopped = g.asOf.AddDate(0, 0, -30-r.IntN(335))
		}
		c.weight = segments[c.segment].weight
		if c.key {
			c.weight *= 2
		}
		g.custs = append(g.custs, c)
	}
}

// contacts gives each customer one to three contact points.
func (g *generator) contacts() {
	r := stream(g.cfg.Seed, streamContacts)
	for _, c := range g.custs {
		eu := c.cur == eur
		var kinds []string
		if c.forced {
			kinds = []string{"postal", "phone"}
			if permille(r, 500) {
				kinds = append(kinds, "email")
			}
		} else {
			if permille(r, 850) {
				kinds = append(kinds, "postal")
			}
			if !eu && permille(r, 800) {
				kinds = append(kinds, "phone")
			}
			if permille(r, 700) {
				kinds = append(kinds, "email")
			}
			if c.consumer && permille(r, 250) {
				kinds = append(kinds, "phone")
			}
			if len(kinds) == 0 && eu {
				kinds = append(kinds, "email")
			} else if len(kinds) == 0 {
				kinds = append(kinds, "phone")
			}
			kinds = kinds[:min(len(kinds), 3)]
		}
		hasPostal := slices.Contains(kinds, "postal")
		count := map[string]int{}
		for _, k := range kinds {
			count[k]++
			prefix := map[string]string{"phone": "P", "email": "E", "postal": "M"}[k]
			ct := &contact{cust: c, id: fmt.Sprintf("%s-%s%d", c.id, prefix, count[k]), kind: k, consent: "unknown"}
			switch k {
			case "phone":
				ct.phone = g.phone(r, c, hasPostal && count[k] == 1)
				ct.line = lineType(r, c)
				ct.consent, ct.consentAt = g.consent(r, 500, 150)
			case "email":
				ct.email, ct.employer = email(r, c)
				ct.consent, ct.consentAt = g.consent(r, 450, 100)
			case "postal":
				g.postal(r, c, ct)
			}
			g.conts = append(g.conts, ct)
		}
	}
}

// phone returns an E.164 number in the fictional 555-0100..0199 block (which
// libphonenumber accepts as valid) under a real area code. Usually it is the
// customer's own city's; mayMove lets about 4% of customers with an address
// have a phone from another state, as people who moved keep their numbers.
func (g *generator) phone(r *rand.Rand, c *customer, mayMove bool) string {
	reg, ct := c.region, c.city
	switch {
	case c.phoneState != "":
		reg = findRegion(usStates, c.phoneState)
		ct = &reg.cities[r.IntN(len(reg.cities))]
	case c.country == "US" && !c.forced && mayMove && permille(r, 40):
		for reg == c.region {
			reg = pickRegion(r, usStates)
		}
		ct = &reg.cities[r.IntN(len(reg.cities))]
	case permille(r, 200):
		ct = &reg.cities[r.IntN(len(reg.cities))]
	}
	npa := pick(r, ct.npas)
	// Take a free line under this area code, else under another of the same
	// region, so numbers stay unique while the block lasts; only then reuse.
	if g.nextLine[npa] >= 100 {
	search:
		for _, other := range reg.cities {
			for _, n := range other.npas {
				if g.nextLine[n] < 100 {
					npa = n
					break search
				}
			}
		}
	}
	line := g.nextLine[npa] % 100
	g.nextLine[npa]++
	return fmt.Sprintf("+1%s55501%02d", npa, line)
}

func lineType(r *rand.Rand, c *customer) string {
	n := r.IntN(100)
	if c.consumer {
		switch {
		case n < 65:
			return "mobile"
		case n < 95:
			return "landline"
		}
		return "work"
	}
	switch {
	case n < 70:
		return "work"
	case n < 85:
		return "mobile"
	}
	return "landline"
}

// consent draws granted (grant‰), revoked (revoke‰) or unknown, with a
// timestamp in the two years before AsOf for the first two.
func (g *generator) consent(r *rand.Rand, grant, revoke int) (string, string) {
	n := r.IntN(1000)
	state := "unknown"
	switch {
	case n < grant:
		state = "granted"
	case n < grant+revoke:
		state = "revoked"
	default:
		return state, ""
	}
	at := g.asOf.AddDate(0, 0, -1-r.IntN(730)).Add(time.Duration(r.IntN(86400)) * time.Second)
	return state, at.Format(time.RFC3339)
}

// email builds an address at a reserved domain. About a fifth of consumer
// addresses are employer-provided (Reg F §1006.22(f)(3) cares).
func email(r *rand.Rand, c *customer) (string, bool) {
	domain := pick(r, emailDomains)
	if !c.consumer {
		return pick(r, apMailboxes) + "." + c.slug + "@" + domain, false
	}
	first, last := strings.ToLower(c.first), strings.ToLower(c.last)
	var local string
	switch r.IntN(4) {
	case 0:
		local = first + "." + last
	case 1:
		local = first[:1] + last
	case 2:
		local = first + "_" + last
	default:
		local = first + "." + last + strconv.Itoa(10+r.IntN(90))
	}
	return local + "@" + domain, permille(r, 200)
}

// postal fills a street address whose ZIP prefix belongs to the city.
func (g *generator) postal(r *rand.Rand, c *customer, ct *contact) {
	ct.line1 = fmt.Sprintf("%d %s %s", 1+r.IntN(9999), pick(r, streets), pick(r, streetTypes))
	switch {
	case !c.consumer && permille(r, 300):
		ct.line2 = fmt.Sprintf("Suite %d", 100+10*r.IntN(90))
	case c.consumer && permille(r, 150):
		ct.line2 = fmt.Sprintf("Apt %d%c", 1+r.IntN(30), 'A'+rune(r.IntN(6)))
	}
	ct.city, ct.country = c.city.name, c.country
	switch c.cur {
	case cad:
		ct.state = c.region.code
		ct.zip = fmt.Sprintf("%s %d%c%d", pick(r, c.city.zip3), r.IntN(10), pick(r, []rune("ABCEGHJKLMNPRSTVWXYZ")), r.IntN(10))
	case eur:
		ct.zip = euPostcode(r, c.city.extra)
	default:
		ct.state = c.region.code
		ct.zip = fmt.Sprintf("%s%02d", pick(r, c.city.zip3), 1+r.IntN(99))
		if permille(r, 200) {
			ct.zip += fmt.Sprintf("-%04d", 1+r.IntN(9999))
		}
	}
}

// euPostcode follows each country's format: Irish Eircodes, 5-digit German
// and French codes, Dutch "1234 AB".
func euPostcode(r *rand.Rand, pattern string) string {
	eircode := []rune("ACDEFHKNPRTVWXY") // letters Eircodes use
	upper := func() rune { return 'A' + rune(r.IntN(26)) }
	switch pattern {
	case "ie-dublin":
		return fmt.Sprintf("D%02d %c%03d", pick(r, []int{1, 2, 4, 6, 8}), pick(r, eircode), r.IntN(1000))
	case "ie-cork":
		return fmt.Sprintf("T12 %c%03d", pick(r, eircode), r.IntN(1000))
	case "de-berlin":
		return fmt.Sprintf("1%04d", 115+r.IntN(4000))
	case "de-hamburg":
		return fmt.Sprintf("2%04d", 95+r.IntN(1000))
	case "fr-paris":
		return fmt.Sprintf("750%02d", 1+r.IntN(20))
	case "fr-lyon":
		return fmt.Sprintf("6900%d", 1+r.IntN(9))
	case "nl-amsterdam":
		return fmt.Sprintf("10%02d %c%c", 11+r.IntN(80), upper(), upper())
	default: // nl-rotterdam
		return fmt.Sprintf("30%02d %c%c", 11+r.IntN(80), upper(), upper())
	}
}

// lognormal draws a log-normal amount in minor units with the given median
// and sigma (in thousandths) using integers only, so every platform produces
// the same cents: the sum of twelve uniforms approximates a normal deviate,
// and exp comes from a fixed-point table.
func lognormal(r *rand.Rand, median int64, sigmaMilli int64) int64 {
	var z int64
	for range 12 {
		z += int64(r.IntN(1001))
	}
	z -= 6000 // ~N(0, 1000²)
	// ln multiplier in 1/32 steps: sigma * z/1000 * 32, rounded.
	x := sigmaMilli * z * 32
	k := (x + 500_000) / 1_000_000
	if x < 0 {
		k = (x - 500_000) / 1_000_000
	}
	k = max(-expSteps, min(expSteps, k))
	return median * expTable[k+expSteps] / expScale
}

const (
	expScale = 1_000_000
	expSteps = 160     // table covers exp(-5) .. exp(5) in steps of 1/32
	expRatio = 1031743 // exp(1/32) * expScale, rounded
)

// expTable[k+expSteps] ≈ exp(k/32) * expScale, built with integer arithmetic.
var expTable = func() [2*expSteps + 1]int64 {
	var t [2*expSteps + 1]int64
	t[expSteps] = expScale
	for k := expSteps + 1; k <= 2*expSteps; k++ {
		t[k] = (t[k-1]*expRatio + expScale/2) / expScale
	}
	for k := expSteps - 1; k >= 0; k-- {
		t[k] = (t[k+1]*expScale + expRatio/2) / expRatio
	}
	return t
}()

// segment holds what differs between customer segments.
type segment struct {
	paper  int   // ‰ of accounts billed on paper
	weight int   // relative invoice volume per account
	terms  []int // net days, drawn uniformly (repeats weight a term)
	median int64 // invoice amount median, minor units
	sigma  int64 // log-normal sigma in thousandths
}

var segments = map[string]segment{
	"consumer":   {paper: 400, weight: 2, terms: []int{15, 30}, median: 18_000, sigma: 700},
	"smb":        {paper: 300, weight: 4, terms: []int{15, 30, 30, 45}, median: 120_000, sigma: 900},
	"mid-market": {paper: 150, weight: 10, terms: []int{30, 45, 60}, median: 850_000, sigma: 900},
	"enterprise": {paper: 50, weight: 24, terms: []int{45, 60, 60}, median: 4_200_000, sigma: 800},
}

// invoices draws the good invoices over the 18 months before AsOf, then
// settles each according to its customer's habit.
func (g *generator) invoices() {
	r := stream(g.cfg.Seed, streamInvoices)
	var cum []int
	total := 0
	for _, c := range g.custs {
		total += c.weight
		cum = append(cum, total)
	}
	span := ledger.DaysBetween(g.asOf.AddDate(0, -18, 0), g.asOf)
	for k := range g.cfg.Invoices {
		var c *customer
		if k < len(g.custs) && g.cfg.Invoices >= len(g.custs) {
			c = g.custs[k] // everyone owes something when there are enough invoices
		} else {
			n := r.IntN(total)
			i, _ := slices.BinarySearch(cum, n+1)
			c = g.custs[i]
		}
		inv := &invoice{cust: c, date: g.asOf.AddDate(0, 0, -1-r.IntN(span))}
		seg := segments[c.segment]
		inv.due = inv.date.AddDate(0, 0, pick(r, seg.terms))
		inv.amount = max(1_000, lognormal(r, seg.median, seg.sigma))
		// Open disputes are recent; older ones have been resolved. 8% of the
		// last 200 days' invoices make about 3% of all.
		inv.disputed = ledger.DaysBetween(inv.date, g.asOf) <= 200 && permille(r, 80)
		g.invs = append(g.invs, inv)
	}
	// Ids follow invoice dates, as an ERP numbers them.
	slices.SortStableFunc(g.invs, func(a, b *invoice) int { return a.date.Compare(b.date) })
	for i, inv := range g.invs {
		inv.id = fmt.Sprintf("INV-%07d", i+1)
	}
}

// payments settles invoices: paid on time, late, in two parts, partly paid
// while still open, not at all, or paid with cash nobody has applied yet.
func (g *generator) payments() {
	r := stream(g.cfg.Seed, streamPayments)
	add := func(c *customer, inv *invoice, amount int64, date time.Time, ref string) {
		g.pays = append(g.pays, &payment{cust: c, inv: inv, amount: amount, date: date, ref: ref})
	}
	for _, inv := range g.invs {
		c := inv.cust
		inv.open = inv.amount
		// A disputed invoice is withheld; some others are simply never paid.
		never := inv.disputed || (c.profile == payerNever && !inv.date.Before(c.stopped)) || permille(r, 8)
		var payDay time.Time
		if !never {
			var delay int
			switch c.profile {
			case payerPrompt:
				delay = -12 + r.IntN(16) // -12..3
			case payerSlow, payerNever:
				delay = -3 + r.IntN(44) // -3..40
			default:
				delay = 20 + r.IntN(131)
			}
			payDay = inv.due.AddDate(0, 0, delay)
			if payDay.Before(inv.date) {
				payDay = inv.date
			}
		}
		if !never && !payDay.After(g.asOf) {
			switch {
			case permille(r, 120) && inv.amount >= 2_000:
				// Two instalments: a round part first, the rest on payDay.
				first := inv.amount * int64(25+r.IntN(51)) / 100 / 100 * 100
				if first <= 0 || first >= inv.amount {
					add(c, inv, inv.amount, payDay, reference(r, c, inv))
					break
				}
				d := inv.date.AddDate(0, 0, r.IntN(ledger.DaysBetween(inv.date, payDay)+1))
				add(c, inv, first, d, reference(r, c, inv))
				add(c, inv, inv.amount-first, payDay, reference(r, c, inv))
			case ledger.DaysBetween(payDay, g.asOf) < 45 && permille(r, 40):
				// Cash received but not yet applied: the invoice stays open.
				add(c, nil, inv.amount, payDay, reference(r, c, nil))
				continue
			default:
				add(c, inv, inv.amount, payDay, reference(r, c, inv))
			}
			inv.open, inv.closed = 0, payDay
			continue
		}
		// Open at AsOf; some customers have paid part (a disputed invoice's
		// undisputed part, or a struggling customer's instalment).
		age := ledger.DaysBetween(inv.date, g.asOf)
		if age > 10 && (permille(r, 200) || (inv.disputed && permille(r, 300))) {
			part := inv.amount * int64(20+r.IntN(51)) / 100 / 100 * 100
			if part > 0 && part < inv.amount {
				add(c, inv, part, inv.date.AddDate(0, 0, 1+r.IntN(age)), reference(r, c, inv))
				inv.open -= part
			}
		}
	}
	slices.SortStableFunc(g.pays, func(a, b *payment) int { return a.date.Compare(b.date) })
	for i, p := range g.pays {
		p.id = fmt.Sprintf("PMT-%07d", i+1)
	}
}

// reference is the remittance text: a check, ACH or wire number, sometimes
// the invoice number; an unapplied payment never names an invoice.
func reference(r *rand.Rand, c *customer, inv *invoice) string {
	n := r.IntN(100)
	switch {
	case inv != nil && n < 25:
		return inv.id
	case c.consumer && n < 60:
		return fmt.Sprintf("CARD %04d", r.IntN(10000))
	case n < 55:
		return fmt.Sprintf("ACH %09d", r.IntN(1_000_000_000))
	case n < 85:
		return fmt.Sprintf("CHK %d", 1000+r.IntN(99000))
	}
	return fmt.Sprintf("WIRE %010d", r.Int64N(10_000_000_000))
}
