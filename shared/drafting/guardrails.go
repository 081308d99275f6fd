package drafting

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/money"
)

// Rule names a guardrail. Rule ids are stable: drafts record them and the
// retry prompt quotes them.
type Rule string

// Guardrails.
const (
	RuleEmpty      Rule = "empty"          // nothing to send
	RuleFormat     Rule = "format"         // subject line missing or misplaced, placeholders, markup
	RuleTruncated  Rule = "truncated"      // the model stopped at its token limit
	RuleAmount     Rule = "amount"         // an amount that is not an invoice's open amount, the total or the promised amount
	RuleDate       Rule = "date"           // a date or deadline that is not in the facts
	RuleInvoice    Rule = "invoice_number" // an invoice-looking reference that is not one of the facts' invoices
	RulePhone      Rule = "phone_number"   // a phone number other than the callback number
	RuleNumber     Rule = "number"         // any other number of four or more digits
	RuleName       Rule = "name"           // a greeting, signature or named person not in the facts
	RuleDisclosure Rule = "disclosure"     // a required disclosure missing, or misplaced
	RuleBanned     Rule = "banned_phrase"  // FDCPA-forbidden content, marketing, unauthorised offers
	RuleLink       Rule = "link"           // a URL, domain or email address: only the system adds the payment link
	RuleLength     Rule = "length"         // over the channel's length or SMS segment budget
)

// Violation is one failed guardrail. Detail quotes the draft, so it may hold
// personal data: it goes back to the model and into the draft record, never
// into logs (Violation.LogValue keeps only the rule).
type Violation struct {
	Rule   Rule
	Detail string
}

// String is "rule: detail", the form the retry prompt uses.
func (v Violation) String() string { return string(v.Rule) + ": " + v.Detail }

// Channel length limits other than SMS (which is measured in segments).
// A call script is read aloud: 2,000 characters is about two minutes.
const (
	maxSubject     = 150
	maxEmail       = 6000
	maxLetter      = 8000
	maxScript      = 2000
	callerIDWindow = 200 // bytes from the start of a voice script within which the caller must be identified (47 CFR 64.1200(b)(1))
)

// Check runs every guardrail on the body of a draft (for email and letters,
// the text after the subject line) and returns the violations, nil when the
// draft may be sent. It is a pure function of its arguments, safe for
// collector-edited drafts too.
//
// What it checks:
//   - amounts: every money-looking token ("$1,234.56", "USD 1,234.56",
//     "1,234.56 USD", "€80", "80 dollars", "50 cents", and bare numbers with
//     thousands separators or exactly the currency's decimals) equals an
//     invoice's open amount, the total or the promised amount, in the facts'
//     currency; "$1.2k" and "$5 million" are failures, not guesses;
//   - dates: every month-name, ISO or US numeric date names a due date or the
//     promised date (a date without a year matches on month and day); a
//     weekday must be the weekday of one of them; relative deadlines
//     ("tomorrow", "within 10 days") are failures;
//   - invoice numbers: the facts' numbers may appear; any other token shaped
//     like one (letters and two or more digits, the same shape as a fact's
//     invoice number, or a number after "invoice", "#", "ref") fails;
//   - phone numbers: only the callback number, in any formatting; any other
//     number of four or more digits fails unless it is a year of a fact date;
//   - names: the words after a greeting ("Dear", "Hi", "Hello"), after a
//     sign-off ("Sincerely,"), after a self-introduction ("this is", "my name
//     is", "calling from") and after a title ("Mr.") must be words of the
//     creditor, sender, customer, contact or caller-identity names, or
//     generic ("Customer", "Team"); so must any capitalised common first
//     name anywhere;
//   - disclosures: each one the compliance decision requires appears with the
//     tenant's exact wording (case, whitespace and final punctuation aside);
//     the caller identity opens a call or AI-voice script;
//   - banned phrases (phrases.go): threats, abuse, impersonation, false
//     urgency, third parties, fees, unauthorised offers, marketing; remedies
//     (suit, garnishment, credit reporting, referral) only when the tenant
//     intends them, and no suit for a time-barred debt;
//   - links: no URL, "www.", domain or email address;
//   - format and length: no placeholders or markup ([...], {...}, <...>,
//     **); SMS within the segment budget (GSM-7 or UCS-2, keeping
//     LinkReserve free); scripts, emails and letters within a sane length.
//
// What it cannot check: amounts or dates spelled out in words ("two hundred
// dollars", "the fifth of March") other than month names; names of people
// not on its list when they appear outside a greeting, signature,
// introduction or title; whether a true statement is misleading in context;
// numbers of three digits or fewer ("30 days" past due is not verified);
// the facts' own literals (names, disclosure texts), which it trusts.
func Check(f Facts, body string) []Violation {
	c := newChecker(f)
	return c.check(body, false)
}

// CheckDraft checks a whole draft: the body as Check does, and the subject
// of an email or letter for content (amounts, dates, names, banned phrases,
// links) and length. Other channels must have no subject.
func CheckDraft(f Facts, subject, body string) []Violation {
	c := newChecker(f)
	out := c.check(body, false)
	switch {
	case hasSubject(f.Channel) && strings.TrimSpace(subject) == "":
		out = append(out, Violation{RuleFormat, "an " + string(f.Channel) + " needs a subject line"})
	case hasSubject(f.Channel):
		for _, v := range c.check(subject, true) {
			v.Detail = "subject: " + v.Detail
			out = append(out, v)
		}
	case subject != "":
		out = append(out, Violation{RuleFormat, "a " + string(f.Channel) + " has no subject line"})
	}
	return out
}

func hasSubject(ch compliance.Channel) bool {
	return ch == compliance.ChannelEmail || ch == compliance.ChannelLetter
}

func isVoice(ch compliance.Channel) bool {
	return ch == compliance.ChannelCall || ch == compliance.ChannelAIVoice
}

// checker holds what the checks need from the facts, computed once.
type checker struct {
	f         Facts
	amounts   []money.Amount
	dates     []civil
	years     map[int]bool
	invoices  []string        // invoice numbers, longest first (masking order must not depend on map order)
	shapes    map[string]bool // shapes of invoice numbers (see shape)
	names     map[string]bool // folded words of every name in the facts
	literals  []string        // facts' own texts, masked before content checks
	callback  string          // normalised digits of the callback number
	violation []Violation
	seen      map[Violation]bool
	named     map[int]bool // offsets of names already reported
}

func newChecker(f Facts) *checker {
	c := &checker{f: f, years: map[int]bool{}, shapes: map[string]bool{}, names: map[string]bool{}}
	for _, inv := range f.Invoices {
		c.amounts = append(c.amounts, inv.Open)
		c.dates = append(c.dates, civilOf(inv.Due))
		if inv.Number != "" {
			c.invoices = append(c.invoices, inv.Number)
			c.shapes[shape(inv.Number)] = true
		}
	}
	slices.SortStableFunc(c.invoices, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	if t, err := f.Total(); err == nil {
		c.amounts = append(c.amounts, t)
	}
	if p := f.Promise; p != nil {
		c.amounts = append(c.amounts, p.Amount)
		c.dates = append(c.dates, civilOf(p.Date))
	}
	for _, d := range c.dates {
		c.years[d.y] = true
	}
	ds := f.Disclosures
	for _, s := range []string{f.Creditor, f.Sender, f.Customer, f.Contact, ds.CallerIdentity} {
		for _, w := range nameWords(s) {
			c.names[plain(w)] = true
		}
	}
	c.literals = []string{ds.MiniMiranda, ds.DebtCollector, ds.OptOut, ds.CallerIdentity,
		f.Creditor, f.Sender, f.Customer, f.Contact}
	// Longest first, so a name inside a disclosure does not split it.
	slices.SortStableFunc(c.literals, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	c.callback = phoneKey(digitsOf(ds.CallbackNumber))
	return c
}

// nameWords splits a name into its folded words.
func nameWords(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !isAlnum(r) && r != '\'' && r != '’' })
}

// shape abstracts an invoice number: letters become "a", digits "9",
// everything else stays. "INV-1001" and "INV-2002" share the shape
// "aaa-9999".
func shape(s string) string {
	b := []byte(fold(s))
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a'
		case c >= '0' && c <= '9':
			b[i] = '9'
		}
	}
	return string(b)
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// phoneKey drops the North American country code, so +1 800 555 0100 and
// (800) 555-0100 compare equal.
func phoneKey(d string) string {
	if len(d) == 11 && d[0] == '1' {
		return d[1:]
	}
	return d
}

// maxViolations caps a report: past a few dozen, more lines help neither
// the retry prompt nor the reader, and a hostile text could make millions.
const maxViolations = 50

func (c *checker) add(r Rule, format string, a ...any) {
	if len(c.violation) >= maxViolations {
		return
	}
	v := Violation{r, fmt.Sprintf(format, a...)}
	if !c.seen[v] {
		c.seen[v] = true
		c.violation = append(c.violation, v)
	}
}

func (c *checker) check(body string, subject bool) []Violation {
	c.violation, c.seen, c.named = nil, map[Violation]bool{}, map[int]bool{}
	if strings.TrimSpace(body) == "" {
		c.add(RuleEmpty, "the text is empty")
		return c.violation
	}
	if !utf8.ValidString(body) {
		c.add(RuleFormat, "the text is not valid UTF-8")
	}
	t := newText(body)
	if !subject {
		c.length(body)
		c.disclosures(t)
	} else if n := utf8.RuneCountInString(body); n > maxSubject {
		c.add(RuleLength, "the subject has %d characters, more than %d", n, maxSubject)
	}
	for _, l := range c.literals {
		t.maskLiteral(l)
	}
	t.tokenize()
	c.checkDates(t)
	t.tokenize()
	c.checkAmounts(t)
	for _, n := range c.invoices {
		t.maskLiteral(n)
	}
	t.tokenize()
	c.checkPhones(t)
	t.tokenize()
	c.checkNumbers(t)
	c.checkLinks(t)
	c.checkPhrases(t)
	c.checkNames(t)
	c.checkMarkup(t)
	return c.violation
}

func (c *checker) length(body string) {
	f := c.f
	switch f.Channel {
	case compliance.ChannelSMS:
		s := measureSMS(body, f.LinkReserve)
		if s.Segments > f.maxSegments() {
			c.add(RuleLength, "the SMS needs %d %s segments (%d units, %d kept for the payment link), more than %d",
				s.Segments, s.Encoding, s.Units, f.LinkReserve, f.maxSegments())
		}
	case compliance.ChannelEmail:
		c.maxRunes(body, maxEmail)
	case compliance.ChannelLetter:
		c.maxRunes(body, maxLetter)
	case compliance.ChannelCall, compliance.ChannelAIVoice:
		c.maxRunes(body, maxScript)
	}
}

func (c *checker) maxRunes(body string, limit int) {
	if n := utf8.RuneCountInString(body); n > limit {
		c.add(RuleLength, "the %s has %d characters, more than %d", c.f.Channel, n, limit)
	}
}

// disclosures looks for each required disclosure in the unmasked text.
func (c *checker) disclosures(t *text) {
	ds := c.f.Disclosures
	for _, d := range ds.Required {
		txt := ds.Text(d)
		if d == compliance.DisclosureCallbackNumber {
			if !c.hasCallback(t) {
				c.add(RuleDisclosure, "%s: the callback number %s is missing", d, txt)
			}
			continue
		}
		i, _ := findLiteral(t.low, literalKey(txt), 0)
		switch {
		case i < 0:
			c.add(RuleDisclosure, "%s: the text %q is missing", d, txt)
		case d == compliance.DisclosureCallerIdentity && isVoice(c.f.Channel) && i > callerIDWindow:
			c.add(RuleDisclosure, "%s: %q must open the script (47 CFR 64.1200(b)(1))", d, txt)
		}
	}
}

func (c *checker) hasCallback(t *text) bool {
	if c.callback == "" {
		return false
	}
	if i, _ := findLiteral(t.low, literalKey(c.f.Disclosures.CallbackNumber), 0); i >= 0 {
		return true
	}
	u := newText(string(t.orig))
	u.tokenize()
	for _, p := range phones(u) {
		if p.key == c.callback {
			return true
		}
	}
	return false
}

func (c *checker) checkDates(t *text) {
	for _, d := range extractDates(t) {
		q := string(t.orig[d.start:d.end])
		switch {
		case !d.valid:
			c.add(RuleDate, "%q is not a real date", q)
		case !d.date.matches(c.dates):
			c.add(RuleDate, "%q is not a due date or promised date in the facts", q)
		}
		t.mask(d.start, d.end)
	}
	for _, k := range t.toks {
		wd, ok := weekdays[string(t.word(k))]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(c.dates, func(d civil) bool { return d.weekday() == wd }) {
			c.add(RuleDate, "%q is not the weekday of any date in the facts", t.quote(k))
		}
	}
}

func (c *checker) checkAmounts(t *text) {
	cur := c.f.Currency
	for _, a := range extractAmounts(t, cur) {
		q := strings.TrimSpace(string(t.orig[a.start:a.end]))
		t.mask(a.start, a.end)
		if a.malformed {
			c.add(RuleAmount, "%q is not an exact amount", q)
			continue
		}
		if cur.IsZero() {
			c.add(RuleAmount, "%q: the facts have no currency", q)
			continue
		}
		if a.codes != nil && !slices.Contains(a.codes, cur.Code()) {
			c.add(RuleAmount, "%q is not in %s, the currency of the facts", q, cur.Code())
			continue
		}
		var v money.Amount
		if a.cents {
			if cur.Scale() != 2 {
				c.add(RuleAmount, "%q: %s has no cents", q, cur.Code())
				continue
			}
			p, err := money.Parse(a.number, cur)
			if err != nil {
				c.add(RuleAmount, "%q is not an exact amount", q)
				continue
			}
			v = money.New(p.Minor/100, cur)
		} else {
			p, err := money.Parse(a.number, cur)
			if err != nil {
				c.add(RuleAmount, "%q is not an exact amount in %s", q, cur.Code())
				continue
			}
			v = p
		}
		if !slices.Contains(c.amounts, v) {
			c.add(RuleAmount, "%q is not an open amount, the total or the promised amount in the facts", q)
		}
	}
}

// phoneToken is one phone-looking span.
type phoneToken struct {
	start, end int
	key        string // normalised digits
}

// phones finds phone-looking spans: runs of numbers, parentheses and a
// leading "+" separated by single spaces, with 7 to 15 digits in all, and
// either separators or at least ten digits (a bare "10023456" is left to
// the number check).
func phones(t *text) []phoneToken {
	var out []phoneToken
	toks := t.toks
	for i := 0; i < len(toks); i++ {
		k := toks[i]
		w := string(t.word(k))
		if k.kind != tokNum && w != "+" && w != "(" {
			continue
		}
		j, digits, parts, seps := i, 0, 0, false
		for ; j < len(toks); j++ {
			x := toks[j]
			if j > i && !t.gap(toks[j-1], x, 1) {
				break
			}
			xw := string(t.word(x))
			switch {
			case x.kind == tokNum:
				d := digitsOf(xw)
				digits += len(d)
				parts++
				seps = seps || len(d) != len(xw)
				continue
			case xw == "(" || xw == ")" || xw == "+" || xw == "-" || xw == ".":
				seps = true
				continue
			}
			break
		}
		if j > i && (string(t.word(toks[j-1])) == "." || string(t.word(toks[j-1])) == "-") {
			j-- // a sentence's full stop or a dash after the number
		}
		if j == i {
			continue
		}
		if digits >= 7 && digits <= 15 && (seps || parts > 1 || digits >= 10) {
			var d strings.Builder
			for _, x := range toks[i:j] {
				d.WriteString(digitsOf(string(t.word(x))))
			}
			out = append(out, phoneToken{start: toks[i].start, end: toks[j-1].end, key: phoneKey(d.String())})
		}
		i = j - 1
	}
	return out
}

func (c *checker) checkPhones(t *text) {
	for _, p := range phones(t) {
		if p.key != c.callback || c.callback == "" {
			c.add(RulePhone, "%q is not the callback number", strings.TrimSpace(string(t.orig[p.start:p.end])))
		}
		t.mask(p.start, p.end)
	}
}

var idKeywords = map[string]bool{"invoice": true, "invoices": true, "inv": true, "#": true, "no": true,
	"number": true, "ref": true, "reference": true, "account": true, "acct": true, "order": true, "po": true}

// checkNumbers flags what is left after dates, amounts, the facts' invoice
// numbers and phone numbers are masked: invoice-shaped tokens and long
// numbers.
func (c *checker) checkNumbers(t *text) {
	for i, k := range t.toks {
		w := string(t.word(k))
		switch k.kind {
		case tokMixed:
			if ordinalOrTime(w) {
				continue
			}
			if len(digitsOf(w)) >= 2 || c.shapes[shape(w)] {
				c.add(RuleInvoice, "%q is not one of the facts' invoice numbers", t.quote(k))
			}
		case tokNum:
			d := digitsOf(w)
			after := i > 0 && idKeywords[string(t.word(t.toks[i-1]))]
			switch {
			case c.shapes[shape(w)] || after:
				if len(d) == 4 && c.years[atoi(d)] && !after {
					continue
				}
				c.add(RuleInvoice, "%q is not one of the facts' invoice numbers", t.quote(k))
			case len(d) >= 4 && !(len(d) == 4 && c.years[atoi(d)]) && !clockTime(w):
				c.add(RuleNumber, "%q is a number that is not in the facts", t.quote(k))
			}
		}
	}
}

func atoi(d string) int {
	n := 0
	for i := 0; i < len(d) && i < 9; i++ {
		n = n*10 + int(d[i]-'0')
	}
	return n
}

// ordinalOrTime: "5th", "22nd", "9am", "10:30pm".
func ordinalOrTime(w string) bool {
	for _, suf := range []string{"st", "nd", "rd", "th", "am", "pm"} {
		if p, ok := strings.CutSuffix(w, suf); ok && p != "" && len(p) <= 5 {
			return allDigits(p) || clockTime(p)
		}
	}
	return false
}

func clockTime(w string) bool {
	h, m, ok := strings.Cut(w, ":")
	return ok && allDigits(h) && len(h) <= 2 && allDigits(m) && len(m) == 2 && atoi(h) <= 24 && atoi(m) < 60
}

var tlds = map[string]bool{"com": true, "net": true, "org": true, "edu": true, "gov": true, "mil": true,
	"int": true, "io": true, "co": true, "us": true, "uk": true, "ca": true, "au": true, "de": true, "fr": true,
	"eu": true, "biz": true, "info": true, "app": true, "dev": true, "pay": true, "link": true, "ly": true,
	"me": true, "xyz": true, "site": true, "online": true, "store": true, "shop": true, "ai": true, "cc": true,
	"tv": true, "ws": true, "to": true, "gl": true, "gg": true, "la": true, "page": true, "club": true,
	"top": true, "tech": true, "cloud": true, "money": true, "finance": true, "bank": true, "cash": true,
	"pro": true, "mobi": true, "name": true, "in": true, "es": true, "it": true, "nl": true, "mx": true}

func (c *checker) checkLinks(t *text) {
	low := string(t.low)
	for _, s := range []string{"://", "www.", "](", "href"} {
		if strings.Contains(low, s) {
			c.add(RuleLink, "the text contains %q: only the system adds links", s)
		}
	}
	for i, k := range t.toks {
		w := string(t.word(k))
		switch {
		case w == "@" && i > 0 && i+1 < len(t.toks) && t.toks[i-1].end == k.start && t.toks[i+1].start == k.end &&
			t.toks[i-1].kind != tokSym && t.toks[i+1].kind != tokSym:
			c.add(RuleLink, "%q is an email address", string(t.orig[t.toks[i-1].start:t.toks[i+1].end]))
		case k.kind != tokSym && strings.Contains(w, "."):
			host, _, _ := strings.Cut(w, "/")
			labels := strings.Split(host, ".")
			if len(labels) >= 2 && labels[0] != "" && tlds[labels[len(labels)-1]] {
				c.add(RuleLink, "%q is a domain: only the system adds links", t.quote(k))
			}
		case w == "http" || w == "https":
			c.add(RuleLink, "%q: only the system adds links", t.quote(k))
		}
	}
}

func (c *checker) checkPhrases(t *text) {
	// One report per span and family: "late fees" is not also "fees".
	covered := map[*phraseRule]int{}
	phrases.match(t, func(p phrase, from, to token) {
		if p.r.allowed != nil && p.r.allowed(c.f) {
			return
		}
		if end, ok := covered[p.r]; ok && from.start < end {
			return
		}
		covered[p.r] = to.end
		c.add(p.r.rule, "%s: %s (%s): %q", p.r.id, p.r.why, p.r.cite, string(t.orig[from.start:to.end]))
	})
}

func (c *checker) checkMarkup(t *text) {
	// One report is enough: the retry prompt needs the fact, not a list.
	orig := string(t.orig)
	for _, s := range []string{"[", "{", "<", "]", "}", ">", "**", "__", "##"} {
		if strings.Contains(orig, s) {
			c.add(RuleFormat, "placeholder or markup %q: send plain text with every value filled in", s)
			return
		}
	}
}

// capitalised reports whether the token starts with an upper-case letter.
func capitalised(t *text, k token) bool {
	r, _ := utf8.DecodeRune(t.orig[k.start:])
	return unicode.IsUpper(r)
}
