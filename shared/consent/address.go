package consent

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// Address is a normalised contact point: "tel:+16175550123",
// "mailto:pat@example.com", or "customer:<customer id>" for what a person
// asks of us as a whole (a written cease request covers every address they
// have, including ones we learn later). Build one with NormaliseAddress,
// NormalisePhone, NormaliseEmail or CustomerAddress; the ledger refuses any
// other spelling, so "(617) 555-0123" and "+1 617 555 0123" are one number
// and one history.
type Address string

// AddressKind is the scheme of an Address.
type AddressKind string

// Address kinds.
const (
	KindTel      AddressKind = "tel"
	KindMailto   AddressKind = "mailto"
	KindCustomer AddressKind = "customer"
)

// DefaultRegion is the region a phone number without a country code is
// read in.
const DefaultRegion = "US"

const (
	telPrefix      = "tel:"
	mailtoPrefix   = "mailto:"
	customerPrefix = "customer:"
	maxEmailLen    = 254 // RFC 5321 path limit less the angle brackets
	maxLocalLen    = 64
	maxInputLen    = 1024
)

// Kind returns the scheme of a, or "" when a has none.
func (a Address) Kind() AddressKind {
	s := string(a)
	switch {
	case strings.HasPrefix(s, telPrefix):
		return KindTel
	case strings.HasPrefix(s, mailtoPrefix):
		return KindMailto
	case strings.HasPrefix(s, customerPrefix):
		return KindCustomer
	}
	return ""
}

// Customer returns the customer id of a customer-level address.
func (a Address) Customer() (string, bool) {
	if a.Kind() != KindCustomer {
		return "", false
	}
	return strings.TrimPrefix(string(a), customerPrefix), true
}

// Validate checks that a is in normal form.
func (a Address) Validate() error {
	n, err := NormaliseAddress(string(a))
	if err != nil {
		return err
	}
	if n != a {
		return fmt.Errorf("%w: address %q is not normalised (want %q)", ErrInvalid, string(a), string(n))
	}
	return nil
}

// Allows reports whether channel c reaches a: calls and texts go to numbers,
// email to addresses; a customer-level address stands for every address of
// the customer and so allows every channel (letters only ever appear there:
// postal addresses are not contact points of this ledger).
func (a Address) Allows(c Channel) bool {
	switch a.Kind() {
	case KindTel:
		return c == SMS || c.Call()
	case KindMailto:
		return c == Email
	case KindCustomer:
		return c.Valid()
	}
	return false
}

// NormaliseAddress normalises any spelling of a contact point: "tel:…",
// "mailto:…" and "customer:…" (scheme in any case), a bare e-mail address
// (anything with an '@'), or a bare phone number read in DefaultRegion. The
// error names the input.
func NormaliseAddress(s string) (Address, error) {
	if len(s) > maxInputLen {
		return "", fmt.Errorf("%w: address %.40q… is longer than %d bytes", ErrInvalid, s, maxInputLen)
	}
	t := strings.TrimSpace(s)
	switch {
	case hasPrefixFold(t, telPrefix):
		return phone(s, t[len(telPrefix):])
	case hasPrefixFold(t, mailtoPrefix):
		return email(s, t[len(mailtoPrefix):])
	case hasPrefixFold(t, customerPrefix):
		return customer(s, strings.TrimSpace(t[len(customerPrefix):]))
	case strings.Contains(t, "@"):
		return email(s, t)
	}
	a, err := phone(s, t)
	var why phoneError
	if errors.As(err, &why) {
		return "", fmt.Errorf("%w: address %q is neither a phone number (%s) nor an e-mail address nor customer:<id>",
			ErrInvalid, s, why.why)
	}
	return a, err
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// NormalisePhone parses a phone number (in DefaultRegion unless it has a
// country code; a "tel:" prefix is allowed) and returns "tel:" and its E.164
// form. Consent follows the number, not its spelling: a STOP from
// "+1 (617) 555-0123" must stop texts to "6175550123".
func NormalisePhone(s string) (Address, error) {
	t := strings.TrimSpace(s)
	if hasPrefixFold(t, telPrefix) {
		t = t[len(telPrefix):]
	}
	return phone(s, t)
}

// phoneError carries why a number was refused, for NormaliseAddress to quote.
type phoneError struct{ why string }

func (e phoneError) Error() string { return e.why }

func phone(orig, t string) (Address, error) {
	t = strings.TrimSpace(t)
	if len(t) > maxInputLen || !utf8.ValidString(t) {
		return "", fmt.Errorf("%w: phone number %q: %w", ErrInvalid, orig,
			phoneError{fmt.Sprintf("not valid UTF-8 text of at most %d bytes", maxInputLen)})
	}
	num, err := phonenumbers.Parse(t, DefaultRegion)
	if err != nil {
		return "", fmt.Errorf("%w: phone number %q: %w", ErrInvalid, orig, phoneError{strings.ToLower(err.Error())})
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: phone number %q: %w", ErrInvalid, orig, phoneError{"not a valid number"})
	}
	return Address(telPrefix + phonenumbers.Format(num, phonenumbers.E164)), nil
}

// NormaliseEmail checks an e-mail address (a "mailto:" prefix is allowed)
// and returns "mailto:" and the address in lower case. Mailbox names are
// case-sensitive in theory and never in practice; "Pat@Example.com" and
// "pat@example.com" must share one consent history, so an unsubscribe cannot
// be dodged by case.
func NormaliseEmail(s string) (Address, error) {
	t := strings.TrimSpace(s)
	if hasPrefixFold(t, mailtoPrefix) {
		t = t[len(mailtoPrefix):]
	}
	return email(s, t)
}

func email(orig, t string) (Address, error) {
	t = strings.TrimSpace(t)
	bad := func(why string) (Address, error) {
		return "", fmt.Errorf("%w: e-mail address %q %s", ErrInvalid, orig, why)
	}
	if !utf8.ValidString(t) {
		return bad("is not valid UTF-8")
	}
	t = strings.ToLower(t)
	if len(t) > maxEmailLen {
		return bad(fmt.Sprintf("is longer than %d bytes", maxEmailLen))
	}
	at := strings.LastIndexByte(t, '@')
	if at < 0 {
		return bad("has no '@'")
	}
	local, domain := t[:at], t[at+1:]
	switch {
	case local == "":
		return bad("has nothing before the '@'")
	case len(local) > maxLocalLen:
		return bad(fmt.Sprintf("has more than %d bytes before the '@'", maxLocalLen))
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return bad("has a misplaced '.' before the '@'")
	}
	for _, r := range local {
		if !(r > unicode.MaxASCII && unicode.IsPrint(r) && !unicode.IsSpace(r)) && !isAtext(r) && r != '.' {
			return bad(fmt.Sprintf("contains %q before the '@'", r))
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("has no domain with a '.' after the '@'")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return bad(fmt.Sprintf("has an invalid domain %q", domain))
		}
		for _, r := range l {
			if !(r > unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))) &&
				!(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '-' {
				return bad(fmt.Sprintf("has an invalid domain %q", domain))
			}
		}
	}
	return Address(mailtoPrefix + t), nil
}

// isAtext reports whether r is an RFC 5322 atext character (lower case
// only: the address has been lowered already).
func isAtext(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// CustomerAddress returns the customer-level address "customer:<id>", where
// requests about a person as a whole are recorded: a written cease request
// covers every address the customer has or will have (12 CFR 1006.6(c)).
func CustomerAddress(id string) (Address, error) { return customer(id, id) }

func customer(orig, id string) (Address, error) {
	if err := ledger.ValidateID("customer id", id); err != nil {
		return "", fmt.Errorf("%w: customer address %q: %w", ErrInvalid, orig, err)
	}
	if strings.TrimSpace(id) != id {
		return "", fmt.Errorf("%w: customer address %q: the id has leading or trailing space", ErrInvalid, orig)
	}
	return Address(customerPrefix + id), nil
}
