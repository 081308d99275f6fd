package ingest

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// validCountry reports whether s is an ISO 3166-1 alpha-2 country code.
func validCountry(s string) bool {
	if len(s) != 2 || !isLetters(s) {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && r.IsCountry() && r.String() == strings.ToUpper(s)
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// country reads an ISO 3166 alpha-2 code, upper-cased; empty gives def.
func (r *row) country(f field, def string) (string, *problem) {
	v := r.vals[f]
	if v == "" {
		return def, nil
	}
	if !validCountry(v) {
		n := r.name(f)
		return "", &problem{field: n, value: v, rule: RuleInvalidValue,
			reason: fmt.Sprintf("%s %s is not an ISO 3166 two-letter country code", n, v)}
	}
	return strings.ToUpper(v), nil
}

// usStates are the USPS codes for states, DC, territories, freely
// associated states and military post offices: the codes a US postal
// address can carry.
var usStates = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS
		MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC
		AS GU MP PR VI UM FM MH PW AA AE AP`) {
		m[s] = true
	}
	return m
}()

// validZIP accepts 12345 and 12345-6789.
func validZIP(s string) bool {
	switch len(s) {
	case 5:
		return allDigits(s)
	case 10:
		return allDigits(s[:5]) && s[5] == '-' && allDigits(s[6:])
	}
	return false
}

// validEmail requires a bare addr-spec (no display name, no angle
// brackets) whose domain has a dot: mail servers of real debtors do, and
// "user@localhost" in an export is a typo, not an address.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	d := s[at+1:]
	return strings.Contains(d, ".") && !strings.HasPrefix(d, ".") && !strings.HasSuffix(d, ".") &&
		!strings.Contains(d, "..") && !strings.ContainsAny(d, "[]")
}

// contact builds a contact point of the kind the row names. Fields of
// another kind on the row are a conflict rather than silently dropped.
func (r *row) contact(u *unit) (*ledger.ContactPoint, *problem) {
	cust, pr := r.id(fCustomerID, true)
	if pr != nil {
		return nil, pr
	}
	id, pr := r.id(fContactID, true)
	if pr != nil {
		return nil, pr
	}
	if r.vals[fContactKind] == "" {
		return nil, r.missing(fContactKind)
	}
	kind, pr := r.enum(fContactKind, "", string(ledger.ContactPhone), string(ledger.ContactEmail), string(ledger.ContactPostal))
	if pr != nil {
		return nil, pr
	}
	c := &ledger.ContactPoint{Tenant: r.p.opts.Tenant, Customer: cust, ID: id, Kind: ledger.ContactKind(kind), Source: r.source(u)}
	others := map[string][]field{
		"phone":  {fEmail, fLine1, fLine2, fCity, fState, fZIP},
		"email":  {fPhone, fLine1, fLine2, fCity, fState, fZIP},
		"postal": {fPhone, fEmail},
	}
	for _, f := range others[kind] {
		if v := r.vals[f]; v != "" {
			return nil, &problem{field: r.name(f), value: v, rule: RuleConflict,
				reason: fmt.Sprintf("%s is set on a %s contact; put each contact point on its own row", r.name(f), kind)}
		}
	}
	switch ledger.ContactKind(kind) {
	case ledger.ContactPhone:
		ph, pr := r.phone()
		if pr != nil {
			return nil, pr
		}
		c.Phone = ph
	case ledger.ContactEmail:
		v, pr := r.text(fEmail, true)
		if pr != nil {
			return nil, pr
		}
		if !validEmail(v) {
			return nil, &problem{field: r.name(fEmail), value: v, rule: RuleInvalidEmail,
				reason: fmt.Sprintf("%s %s is not an email address like name@example.com", r.name(fEmail), v)}
		}
		emp, pr := r.boolean(fEmployerProvided)
		if pr != nil {
			return nil, pr
		}
		c.Email = &ledger.Email{Address: v, EmployerProvided: emp}
	case ledger.ContactPostal:
		a, pr := r.postal()
		if pr != nil {
			return nil, pr
		}
		c.Postal = a
	}
	consent, pr := r.enum(fConsent, string(ledger.ConsentUnknown),
		string(ledger.ConsentGranted), string(ledger.ConsentRevoked), string(ledger.ConsentUnknown))
	if pr != nil {
		return nil, pr
	}
	c.Consent = ledger.ConsentState(consent)
	if v := r.vals[fConsentAt]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, &problem{field: r.name(fConsentAt), value: v, rule: RuleInvalidDate,
				reason: fmt.Sprintf("%s %s is not a timestamp like 2026-01-02T15:04:05Z", r.name(fConsentAt), v)}
		}
		if t.Before(minDate) || t.After(r.p.maxDate) {
			return nil, &problem{field: r.name(fConsentAt), value: v, rule: RuleDateRange,
				reason: fmt.Sprintf("%s %s is before 1900 or more than %d years in the future", r.name(fConsentAt), v, futureYears)}
		}
		c.ConsentAt = t.UTC()
	}
	return c, nil
}

// phone parses with the contact's country (or the default region) and
// stores E.164, so "(617) 555-0123" and "+1 617 555 0123" are one number.
func (r *row) phone() (*ledger.Phone, *problem) {
	v, pr := r.text(fPhone, true)
	if pr != nil {
		return nil, pr
	}
	region, pr := r.country(fCountry, r.p.region)
	if pr != nil {
		return nil, pr
	}
	line, pr := r.enum(fLineType, string(ledger.LineUnknown),
		string(ledger.LineMobile), string(ledger.LineLandline), string(ledger.LineWork), string(ledger.LineUnknown))
	if pr != nil {
		return nil, pr
	}
	n := r.name(fPhone)
	num, err := phonenumbers.Parse(v, region)
	if err != nil {
		return nil, &problem{field: n, value: v, rule: RuleInvalidPhone,
			reason: fmt.Sprintf("%s %s is not a phone number (%s)", n, v, strings.ToLower(err.Error()))}
	}
	if !phonenumbers.IsValidNumber(num) {
		return nil, &problem{field: n, value: v, rule: RuleInvalidPhone,
			reason: fmt.Sprintf("%s %s is not a valid number for region %s", n, v, region)}
	}
	return &ledger.Phone{E164: phonenumbers.Format(num, phonenumbers.E164), Line: ledger.LineType(line)}, nil
}

// postal validates an address; US addresses need a USPS state and a ZIP
// because compliance derives local calling hours and state rules from them.
func (r *row) postal() (*ledger.PostalAddress, *problem) {
	line1, pr := r.text(fLine1, true)
	if pr != nil {
		return nil, pr
	}
	country, pr := r.country(fCountry, "US")
	if pr != nil {
		return nil, pr
	}
	a := &ledger.PostalAddress{Line1: line1, Line2: r.vals[fLine2], City: r.vals[fCity],
		State: r.vals[fState], ZIP: r.vals[fZIP], Country: country}
	if country != "US" {
		return a, nil
	}
	st := strings.ToUpper(a.State)
	switch {
	case st == "":
		return nil, r.missing(fState)
	case !usStates[st]:
		return nil, &problem{field: r.name(fState), value: a.State, rule: RuleInvalidState,
			reason: fmt.Sprintf("%s %s is not a USPS state code", r.name(fState), a.State)}
	case a.ZIP == "":
		return nil, r.missing(fZIP)
	case !validZIP(a.ZIP):
		return nil, &problem{field: r.name(fZIP), value: a.ZIP, rule: RuleInvalidZIP,
			reason: fmt.Sprintf("%s %s is not a ZIP code like 12345 or 12345-6789", r.name(fZIP), a.ZIP)}
	}
	a.State = st
	return a, nil
}
