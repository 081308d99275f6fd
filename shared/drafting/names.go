package drafting

import (
	"bytes"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Where a draft names someone: after a greeting, a sign-off, a
// self-introduction or a title. The capitalised words there must be words of
// the facts' names or generic. A model that invents a collector persona
// ("Thanks, Sarah") or greets the wrong person fails here.
var (
	greetings = [][]string{{"dear"}, {"hi"}, {"hello"}, {"hey"}, {"greetings"}, {"good", "morning"},
		{"good", "afternoon"}, {"good", "evening"}, {"attn"}, {"attention"}}
	signOffs = [][]string{{"sincerely"}, {"regards"}, {"best", "regards"}, {"kind", "regards"},
		{"warm", "regards"}, {"best", "wishes"}, {"best"}, {"thanks"}, {"thank", "you"}, {"respectfully"},
		{"cordially"}, {"yours", "truly"}, {"yours", "sincerely"}, {"cheers"}, {"warmly"}}
	introductions = [][]string{{"my", "name", "is"}, {"this", "is"}, {"i", "am"}, {"i'm"}, {"calling", "from"},
		{"writing", "from"}, {"on", "behalf", "of"}, {"speaking", "with"}, {"ask", "for"}, {"contact"}}
	titles = map[string]bool{"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "mx": true}
)

// genericNames may follow a greeting, sign-off or introduction without
// being anyone's name.
var genericNames = setOf("customer", "customers", "client", "clients", "valued", "sir", "sirs", "madam",
	"team", "there", "all", "friend", "friends", "accounts", "account", "payable", "receivable", "department",
	"billing", "finance", "financial", "collections", "collection", "service", "services", "support", "office",
	"credit", "the", "of", "and", "owner", "manager", "business", "partner", "ap", "ar", "mr", "mrs", "ms",
	"miss", "dr", "mx", "a", "an", "our", "your", "us", "we", "i", "it", "this", "that", "thank", "thanks",
	"please", "if", "for", "again", "you", "as", "in", "hope", "just", "here", "reminder", "regarding", "re",
	"payment", "invoice", "invoices", "balance", "agent", "representative", "specialist", "department's")

// knownNames are common first names (US census and the personas language
// models like to invent). Names that are also ordinary words (May, Will,
// Bill, Mark, Grace, Sue...) or places (Virginia, Charlotte, Austin) are
// left out: a capital letter at the start of a sentence would trip them.
var knownNames = setOf(
	"james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas", "charles",
	"christopher", "daniel", "matthew", "anthony", "donald", "steven", "paul", "andrew", "joshua",
	"kenneth", "kevin", "brian", "george", "timothy", "ronald", "edward", "jason", "jeffrey", "ryan",
	"jacob", "gary", "nicholas", "eric", "jonathan", "stephen", "larry", "justin", "scott", "brandon",
	"benjamin", "samuel", "gregory", "alexander", "patrick", "raymond", "jerry", "dennis", "tyler",
	"aaron", "jose", "adam", "nathan", "henry", "douglas", "zachary", "peter", "kyle", "noah", "ethan",
	"jeremy", "walter", "keith", "roger", "terry", "sean", "gerald", "carl", "harold", "dylan",
	"arthur", "lawrence", "jordan", "jesse", "bryan", "billy", "bruce", "gabriel", "joe", "logan",
	"alan", "juan", "albert", "willie", "elijah", "wayne", "randy", "vincent", "mason", "roy", "ralph",
	"bobby", "russell", "bradley", "philip", "eugene", "mike", "dave", "tom", "jim", "chris", "alex",
	"sam", "steve", "tony", "jeff", "greg", "matt", "dan", "ben", "nick", "josh", "andy", "max", "leo",
	"liam", "oliver", "lucas", "aiden", "carlos", "luis", "miguel", "ahmed", "mohammed", "wei", "raj",
	"mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah",
	"karen", "lisa", "nancy", "betty", "sandra", "margaret", "ashley", "kimberly", "emily", "donna",
	"michelle", "carol", "amanda", "melissa", "deborah", "stephanie", "dorothy", "rebecca", "sharon",
	"laura", "cynthia", "amy", "kathleen", "angela", "shirley", "brenda", "emma", "anna", "pamela",
	"nicole", "samantha", "katherine", "christine", "helen", "debra", "rachel", "carolyn", "janet",
	"maria", "catherine", "heather", "diane", "olivia", "julie", "joyce", "victoria", "ruth", "lauren",
	"kelly", "christina", "joan", "evelyn", "judith", "andrea", "hannah", "megan", "cheryl",
	"jacqueline", "martha", "teresa", "gloria", "sara", "janice", "ann", "kathryn", "abigail", "sophia",
	"frances", "jean", "alice", "judy", "isabella", "julia", "denise", "amber", "doris", "marilyn",
	"danielle", "beverly", "theresa", "diana", "natalie", "brittany", "marie", "kayla", "alexis", "lori",
	"jane", "kate", "jenny", "liz", "beth", "anne", "claire", "chloe", "zoe", "mia", "ava", "lily",
	"ella", "priya", "fatima", "mei", "sofia", "lucia", "elena", "carmen", "rosa", "ana", "taylor",
	"morgan", "casey", "jamie", "riley", "jessie", "dana",
)

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// startsWith reports whether the words at toks[i:] are ws (folded, symbols
// not skipped) and returns the index after them.
func startsWith(t *text, toks []token, i int, ws []string) (int, bool) {
	for _, w := range ws {
		if i >= len(toks) || toks[i].kind == tokSym || !bytes.Equal(normApostrophe(t.word(toks[i])), []byte(w)) {
			return 0, false
		}
		i++
	}
	return i, true
}

func normApostrophe(b []byte) []byte {
	if bytes.Contains(b, []byte("’")) {
		return bytes.ReplaceAll(b, []byte("’"), []byte("'"))
	}
	return b
}

func (c *checker) checkNames(t *text) {
	toks := t.toks
	for i := 0; i < len(toks); i++ {
		for _, g := range greetings {
			if j, ok := startsWith(t, toks, i, g); ok {
				c.namesFrom(t, j, lineEnd(t, toks[i].start), "greeting")
			}
		}
		for _, s := range signOffs {
			j, ok := startsWith(t, toks, i, s)
			if !ok {
				continue
			}
			// A sign-off ends its line or is followed by a comma: "Thank you
			// for your business" is not one.
			end := toks[j-1].end
			switch {
			case j < len(toks) && toks[j].kind == tokSym && string(t.word(toks[j])) == ",":
				end = toks[j].end
			case j < len(toks) && !bytes.ContainsRune(t.orig[end:toks[j].start], '\n'):
				continue
			}
			c.signature(t, end)
		}
		for _, in := range introductions {
			if j, ok := startsWith(t, toks, i, in); ok {
				c.namesFrom(t, j, lineEnd(t, toks[i].start), "introduction")
			}
		}
		k := toks[i]
		if titles[string(t.word(k))] && capitalised(t, k) {
			j := i + 1
			if j < len(toks) && string(t.word(toks[j])) == "." {
				j++
			}
			c.namesFrom(t, j, lineEnd(t, k.start), "title")
		}
		if k.kind == tokWord && capitalised(t, k) {
			w := plain(strings.TrimSuffix(string(normApostrophe(t.word(k))), "'s"))
			if knownNames[w] && !c.names[w] && !c.named[k.start] {
				c.named[k.start] = true
				c.add(RuleName, "%q is not a name in the facts", t.quote(k))
			}
		}
	}
}

// signature checks the names signing after a sign-off that ends at byte
// end: the rest of its line ("Thanks, Sam") or else the next line with
// anything on it in the draft itself (masked names leave blank lines in
// the working copy, so the draft decides where the signature is).
func (c *checker) signature(t *text, end int) {
	from := end
	for from < len(t.raw) {
		line, _, _ := strings.Cut(t.raw[from:], "\n")
		if strings.TrimSpace(line) != "" {
			break
		}
		from += len(line) + 1
	}
	for j, k := range t.toks {
		if k.start >= from {
			c.namesFrom(t, j, lineEnd(t, from), "signature")
			return
		}
	}
}

// lineEnd is the offset of the end of the line holding byte i.
func lineEnd(t *text, i int) int {
	if i >= len(t.raw) {
		return len(t.raw)
	}
	if n := strings.IndexByte(t.raw[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(t.raw)
}

// namesFrom checks the capitalised words starting at toks[j], up to byte
// limit (the end of the line). It stops at the first word in lower case,
// number or punctuation other than a comma, hyphen or a title's full stop.
func (c *checker) namesFrom(t *text, j, limit int, where string) {
	toks := t.toks
	if j < len(toks) && toks[j].kind == tokSym && (string(t.word(toks[j])) == "," || string(t.word(toks[j])) == ":") {
		j++
	}
	for n := 0; j < len(toks) && toks[j].start < limit && n < 4; j++ {
		k := toks[j]
		w := string(normApostrophe(t.word(k)))
		if k.kind == tokSym {
			if w == "-" || w == "&" || w == "." && j > 0 && titles[string(t.word(toks[j-1]))] {
				continue
			}
			return
		}
		if k.kind != tokWord || !capitalised(t, k) {
			return
		}
		n++
		w = plain(strings.TrimSuffix(w, "'s"))
		if genericNames[w] || titles[w] || c.names[w] || c.named[k.start] {
			continue
		}
		c.named[k.start] = true
		c.add(RuleName, "the %s names %q, who is not in the facts", where, t.quote(k))
	}
}

// plain drops diacritics from a folded word, so "María" in the facts and
// "Maria" in a draft are the same name.
func plain(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			var b strings.Builder
			for _, r := range norm.NFD.String(w) {
				if !unicode.Is(unicode.Mn, r) {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	return w
}
