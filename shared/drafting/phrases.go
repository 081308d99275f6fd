package drafting

import (
	"bytes"
	"strings"
)

// phraseRule is one family of words a draft must not use. Phrases are word
// sequences matched on whole words, case-insensitively, ignoring
// punctuation between words; a trailing * matches any word starting with
// that prefix ("arrest*": arrest, arrested, arresting); "#" matches any
// number. The list is deliberately broad: a false alarm costs one retry or
// a template, a missed threat costs a lawsuit.
type phraseRule struct {
	id      string
	rule    Rule
	why     string
	cite    string
	allowed func(Facts) bool // nil: never allowed
	phrases []string
}

var phraseRules = []phraseRule{
	{id: "criminal_threat", rule: RuleBanned, why: "threatens arrest, jail or criminal action",
		cite: "15 USC 1692e(4), 1692e(7), 1692d(1)",
		phrases: []string{"arrest*", "jail*", "prison*", "imprison*", "police", "criminal*", "crime*",
			"prosecut*", "warrant*", "sheriff*", "law enforcement", "handcuff*", "detain*", "felony", "misdemeanor*",
			"fraud*", "theft", "steal*", "stolen", "deport*", "immigration"}},
	{id: "violence", rule: RuleBanned, why: "threatens harm", cite: "15 USC 1692d(1)",
		phrases: []string{"hurt you", "harm you", "kill*", "break your", "regret it", "you will regret",
			"we know where you live", "watch your back", "come to your home", "come to your house",
			"visit your home", "show up at"}},
	{id: "garnishment", rule: RuleBanned, why: "mentions garnishment or seizure the tenant has not decided on",
		cite:    "15 USC 1692e(4), 1692e(5)",
		allowed: func(f Facts) bool { return f.intends(RemedyGarnishment) && !f.TimeBarred },
		phrases: []string{"garnish*", "wage attachment*", "attach your wages", "attach your account", "levy", "levies", "levied", "seize*",
			"seizure*", "freeze your", "take your wages", "take your paycheck", "dock your"}},
	{id: "repossession", rule: RuleBanned, why: "threatens to take property", cite: "15 USC 1692e(4), 1692f(6)",
		phrases: []string{"repossess*", "foreclos*", "take your car", "take your home", "take your house",
			"take your property", "take your assets", "lien", "liens", "evict*"}},
	{id: "legal_action", rule: RuleBanned, why: "mentions legal action the tenant has not decided on (or the debt is time-barred)",
		cite:    "15 USC 1692e(5); 12 CFR 1006.26(b)",
		allowed: func(f Facts) bool { return f.intends(RemedyLawsuit) && !f.TimeBarred },
		phrases: []string{"sue", "sued", "suing", "lawsuit*", "legal action*", "legal proceeding*", "legal steps",
			"legal measures", "legal remedies", "litigat*", "court", "courts", "courtroom", "judgment*", "judgement*",
			"small claims", "summons", "subpoena*", "file suit", "file a claim", "take you to"}},
	{id: "credit_reporting", rule: RuleBanned, why: "mentions credit reporting the tenant has not decided on",
		cite:    "15 USC 1692e(5), 1692e(8)",
		allowed: func(f Facts) bool { return f.intends(RemedyCreditReporting) },
		phrases: []string{"credit bureau*", "credit report*", "credit reporting", "credit agenc*", "credit score*",
			"credit file", "credit history", "credit rating*", "experian", "equifax", "transunion",
			"dun & bradstreet", "dun and bradstreet"}},
	{id: "credit_ruin", rule: RuleBanned, why: "exaggerates consequences", cite: "15 USC 1692e(5), 1692d",
		phrases: []string{"ruin*", "destroy*", "wreck*", "damage your", "hurt your credit", "blacklist*",
			"black list", "your reputation", "your good name"}},
	{id: "referral", rule: RuleBanned, why: "mentions a collection agency the tenant has not decided on",
		cite:    "15 USC 1692e(5)",
		allowed: func(f Facts) bool { return f.intends(RemedyReferral) },
		phrases: []string{"collection agenc*", "collections agenc*", "sent to collections", "send to collections",
			"send your account to", "turn your account over", "turned over to", "third-party collector*"}},
	{id: "third_party", rule: RuleBanned, why: "threatens to involve third parties", cite: "15 USC 1692c(b), 1692d(4)",
		phrases: []string{"your employer*", "your boss*", "your coworker*", "your co-worker*", "your colleague*",
			"your neighbo*", "your family", "your relatives", "your spouse", "your wife", "your husband",
			"your friends", "your customers", "your clients", "your suppliers", "your landlord",
			"tell everyone", "let everyone know", "publish*", "public list", "name and shame", "shame*",
			"embarrass*", "humiliat*", "expose you", "social media"}},
	{id: "abusive", rule: RuleBanned, why: "uses obscene, profane or abusive language", cite: "15 USC 1692d(2)",
		phrases: []string{"idiot*", "stupid*", "moron*", "dumb", "deadbeat*", "dead beat*", "loser*", "liar*",
			"lying", "thief", "thieves", "crook*", "scum*", "cheat*", "lazy", "pathetic", "worthless", "disgrac*",
			"irresponsible", "incompetent", "useless", "shameless", "damn*", "hell", "crap*", "shit*", "fuck*",
			"bitch*", "bastard*", "ass", "asses", "asshole*", "piss*", "bloody", "bullshit", "freeload*"}},
	{id: "impersonation", rule: RuleBanned, why: "claims or implies attorney or government involvement",
		cite: "15 USC 1692e(1), 1692e(3), 1692e(9), 1692e(14)",
		phrases: []string{"attorney*", "lawyer*", "law firm*", "law office*", "legal department", "legal team",
			"legal counsel", "counsel", "paralegal*", "government*", "federal", "state agency", "irs", "fbi",
			"department of justice", "officer*", "process server*", "official notice", "bailiff*", "marshal*",
			"authorities", "investigat*"}},
	{id: "false_urgency", rule: RuleBanned, why: "creates false urgency", cite: "15 USC 1692e(10)",
		phrases: []string{"act now", "act fast", "act quickly", "last chance", "final chance", "only chance",
			"last opportunity", "final opportunity", "within # hours", "# hours", "today only", "expires today",
			"too late", "time is running out", "running out of time", "urgent*", "emergency", "final warning",
			"last warning", "no choice", "no other choice", "no alternative", "forced to", "will be forced",
			"serious consequences", "consequences", "further action", "escalat*", "immediate action",
			"don't ignore", "do not ignore"}},
	{id: "final_notice", rule: RuleBanned, why: "calls the message final when the tone is not final",
		cite:    "15 USC 1692e(10)",
		allowed: func(f Facts) bool { return f.Tone == ToneFinal },
		phrases: []string{"final notice", "final demand", "final reminder", "last notice", "last reminder"}},
	{id: "unauthorised_charges", rule: RuleBanned, why: "mentions fees, interest or charges the facts do not contain",
		cite: "15 USC 1692f(1), 1692e(2)",
		phrases: []string{"late fee*", "late charge*", "collection fee*", "collection cost*", "collection charge*",
			"processing fee*", "service fee*", "service charge*", "convenience fee*", "admin fee*",
			"administrative fee*", "interest", "accru*", "penalt*", "surcharge*", "additional fee*",
			"additional charge*", "fees", "finance charge*"}},
	{id: "unauthorised_offer", rule: RuleBanned, why: "offers terms the tenant has not authorised",
		cite: "15 USC 1692e(2)(A)",
		phrases: []string{"settlement*", "settle for", "settle the debt for", "settle this debt for", "discount*", "waive*", "forgive*", "forgiv*", "write off",
			"written off", "reduced amount", "reduce your balance", "cancel the debt", "pay less", "% off"}},
	{id: "marketing", rule: RuleBanned, why: "carries marketing, which makes the message telemarketing",
		cite: "47 CFR 64.1200(c),(d)",
		phrases: []string{"special offer*", "limited-time", "limited time", "promo*", "buy now", "new product*",
			"subscribe", "free gift", "exclusive offer*", "upgrade"}},
	{id: "relative_date", rule: RuleDate, why: "sets a deadline that is not in the facts", cite: "15 USC 1692e(10)",
		phrases: []string{"tomorrow", "tonight", "next week", "next month", "this week", "this month",
			"end of the week", "end of the month", "end of week", "end of month", "end of day", "end of business",
			"close of business", "eod", "cob", "within # days", "within # business days", "in # days",
			"# days from", "within a week", "within # weeks", "within the next"}},
}

type phrase struct {
	r     *phraseRule
	words []string // folded; trailing * is a prefix, "#" any number
}

// phraseIndex finds phrases by their first word: exact words in a map,
// prefixes by their first three bytes (every prefix has at least three),
// numbers apart.
type phraseIndex struct {
	exact  map[string][]phrase
	prefix map[string][]phrase
	number []phrase
}

var phrases = buildPhraseIndex(phraseRules)

func buildPhraseIndex(rules []phraseRule) *phraseIndex {
	ix := &phraseIndex{exact: map[string][]phrase{}, prefix: map[string][]phrase{}}
	for i := range rules {
		r := &rules[i]
		for _, p := range r.phrases {
			ws := phraseWords(p)
			ph := phrase{r: r, words: ws}
			switch first := ws[0]; {
			case first == "#":
				ix.number = append(ix.number, ph)
			case strings.HasSuffix(first, "*"):
				if len(first) < 4 {
					panic("drafting: phrase prefix shorter than three bytes: " + p)
				}
				ix.prefix[first[:3]] = append(ix.prefix[first[:3]], ph)
			default:
				ix.exact[first] = append(ix.exact[first], ph)
			}
		}
	}
	return ix
}

// phraseWords splits a phrase the way tokenize splits a draft, so "% off"
// and "dun & bradstreet" keep their symbols as words.
func phraseWords(p string) []string {
	t := newText(p)
	t.tokenize()
	var ws []string
	for i, k := range t.toks {
		w := string(t.word(k))
		if k.kind == tokSym && w == "*" && i > 0 {
			ws[len(ws)-1] += "*"
			continue
		}
		if w == "#" && k.kind == tokSym {
			ws = append(ws, "#")
			continue
		}
		ws = append(ws, w)
	}
	return ws
}

// wordMatches matches one draft token against one phrase word.
func wordMatches(t *text, k token, w string) bool {
	if w == "#" {
		return k.kind == tokNum
	}
	b := t.word(k)
	if bytes.Contains(b, []byte("’")) {
		b = bytes.ReplaceAll(b, []byte("’"), []byte("'"))
	}
	if p, ok := strings.CutSuffix(w, "*"); ok {
		return bytes.HasPrefix(b, []byte(p))
	}
	// A possessive is the word: "court's" is "court".
	return string(b) == w || string(bytes.TrimSuffix(b, []byte("'s"))) == w
}

// matchPhrases reports every phrase found among the tokens: the phrase and
// the token span it covers. Symbols count as words only when a phrase names
// them ("%", "&"); otherwise the matcher skips them, so "arrest." matches.
func (ix *phraseIndex) match(t *text, fn func(p phrase, from, to token)) {
	toks := t.toks
	for i, k := range toks {
		try := func(ps []phrase) {
			for _, p := range ps {
				if end, ok := matchPhrase(t, toks[i:], p.words); ok {
					fn(p, k, end)
				}
			}
		}
		w := t.word(k)
		try(ix.exact[string(w)])
		if len(w) >= 3 {
			try(ix.prefix[string(w[:3])])
		}
		if k.kind == tokNum {
			try(ix.number)
		}
	}
}

func matchPhrase(t *text, toks []token, words []string) (token, bool) {
	j := 0
	var last token
	for _, w := range words {
		// Skip punctuation the phrase does not name.
		for j < len(toks) && toks[j].kind == tokSym && !wordMatches(t, toks[j], w) {
			j++
		}
		if j >= len(toks) || !wordMatches(t, toks[j], w) {
			return token{}, false
		}
		last = toks[j]
		j++
	}
	return last, true
}
