package events

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// ErrInvalid is wrapped by every error Decode, Encode and Validate return, so
// a consumer can tell a poison record (send it to the dead-letter queue with
// its reason) from a failure of its own (retry).
var ErrInvalid = errors.New("invalid engagement event")

// More specific reasons, wrapped alongside ErrInvalid. A consumer may count
// them apart: an unsupported version usually means a producer was deployed
// ahead of the consumer.
var (
	ErrTooLarge           = errors.New("engagement event too large")
	ErrUnsupportedVersion = errors.New("unsupported engagement event schema version")
	ErrUnknownType        = errors.New("unknown engagement event type")
)

// FieldError says which field of an event is wrong and why.
type FieldError struct {
	// Field is a path such as "tenant", "payload.amount" or
	// "payload.invoices[1]"; "" when the event as a whole is refused.
	Field  string
	Reason string
	// Err is a more specific cause (ErrTooLarge, ErrUnknownType,
	// money.ErrAmount...), or nil.
	Err error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Unwrap makes every FieldError match ErrInvalid, and its cause if any.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// within puts a payload's field errors under prefix ("amount" becomes
// "payload.amount"), so errors name the field as it appears in the event.
func within(prefix string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	f := *fe
	if f.Field == "" {
		f.Field = prefix
	} else {
		f.Field = prefix + "." + f.Field
	}
	return &f
}

// Limits of the contract; schema/engagement-v1.json states the same ones.
const (
	maxIDBytes     = 128  // ledger ids (ledger.ValidateID)
	maxInvoices    = 100  // invoices one event may name
	maxLinkRunes   = 2048 // links, as browsers and SES handle them
	maxShortRunes  = 256  // provider reasons and statuses
	maxDiagnostic  = 1024 // a mail server's bounce diagnostic
	maxFeedback    = 64   // a feedback report's type
	maxSMSRunes    = 1600 // ten concatenated SMS segments
	maxNoteRunes   = 4000 // a person's words, an agent's note
	maxDuration    = 86400
	maxEmailBytes  = 254 // RFC 5321 path limit less the angle brackets
	maxLocalBytes  = 64
	maxAmountInt   = 13 // digits before the point: never near int64 minor units
	maxSourceBytes = 32
)

// Validate checks an event against the contract: the checks Decode applies
// after parsing, and Encode applies before writing, so a producer cannot put
// on the stream what a consumer would refuse. The error is a *FieldError
// naming the first field at fault.
func (e Event) Validate() error {
	if err := checkID("id", e.ID); err != nil {
		return err
	}
	if err := checkID("tenant", string(e.Tenant)); err != nil {
		return err
	}
	if err := checkID("customer", e.Customer); err != nil {
		return err
	}
	if e.Debt != "" {
		if err := checkID("debt", e.Debt); err != nil {
			return err
		}
	}
	if e.Payload == nil {
		return fieldErr("payload", "missing: set it to one of the payload types, which also sets the event type")
	}
	spec, ok := registry[e.Payload.Type()]
	if !ok || reflect.TypeOf(e.Payload) != spec.goType {
		return fieldErr("payload", "%T is not a payload type of this package (use a value, not a pointer)", e.Payload)
	}
	if err := checkChannel(e.Channel, e.Type(), spec.rule); err != nil {
		return err
	}
	if err := checkContactPoint(e.ContactPoint, e.Channel); err != nil {
		return err
	}
	if e.ContactPoint == "" && spec.rule.contact {
		return fieldErr("contact_point", "required for %s", e.Type())
	}
	if e.OccurredAt.IsZero() {
		return fieldErr("occurred_at", "required")
	}
	if err := checkYear("occurred_at", e.OccurredAt); err != nil {
		return err
	}
	if err := checkSource(e.Source); err != nil {
		return err
	}
	return within("payload", e.Payload.validate(e))
}

// envelopeRule is what a type asks of the envelope.
type envelopeRule struct {
	channels []Channel // the channels the type can happen on; nil = any
	contact  bool      // a contact point is required
}

func checkChannel(c Channel, t Type, r envelopeRule) error {
	if c == "" {
		return fieldErr("channel", "required")
	}
	if !c.Valid() {
		return fieldErr("channel", "unknown channel %q (want one of %s)", c, list(allChannels))
	}
	if r.channels != nil && !slices.Contains(r.channels, c) {
		return fieldErr("channel", "%s cannot happen on %s (want %s)", t, c, list(r.channels))
	}
	return nil
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// checkID applies ledger.ValidateID and, since ids become keys that people
// search for, refuses leading or trailing space and invalid UTF-8.
func checkID(field, id string) error {
	switch {
	case id == "":
		return fieldErr(field, "required")
	case len(id) > maxIDBytes:
		return &FieldError{Field: field, Reason: fmt.Sprintf("%.40q… is longer than %d bytes", id, maxIDBytes), Err: ledger.ErrInvalidID}
	case !utf8.ValidString(id):
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q is not valid UTF-8", id), Err: ledger.ErrInvalidID}
	case strings.TrimSpace(id) != id:
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q has leading or trailing space", id), Err: ledger.ErrInvalidID}
	}
	for _, r := range id {
		if r == '#' || r < 0x20 || r == 0x7f {
			// '#' separates key parts, e.g. in PartitionKey.
			return &FieldError{Field: field, Reason: fmt.Sprintf("%q contains %q", id, r), Err: ledger.ErrInvalidID}
		}
	}
	if err := ledger.ValidateID(field, id); err != nil {
		return &FieldError{Field: field, Reason: err.Error(), Err: err}
	}
	return nil
}

// untitled drops a FieldError's field, for a caller to name it.
func untitled(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		f := *fe
		f.Field = ""
		return &f
	}
	return err
}

func checkOptionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return checkID(field, id)
}

// checkText bounds free text: the person's words are evidence, but a
// megabyte of them is an attack.
func checkText(field, s string, maxRunes int) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return fieldErr(field, "%d characters, more than %d", n, maxRunes)
	}
	return nil
}

func checkRequiredText(field, s string, maxRunes int) error {
	if s == "" {
		return fieldErr(field, "required")
	}
	return checkText(field, s, maxRunes)
}

// checkSource keeps producer names short and machine-like (ses, connect,
// payments): they are grouped on in metrics.
func checkSource(s string) error {
	if s == "" {
		return fieldErr("source", "required")
	}
	ok := len(s) <= maxSourceBytes && s[0] >= 'a' && s[0] <= 'z'
	for i := 1; ok && i < len(s); i++ {
		c := s[i]
		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fieldErr("source", "%q is not a producer name (lower case, e.g. ses, connect, payments; at most %d bytes)", s, maxSourceBytes)
	}
	return nil
}

// checkYear keeps times inside what RFC 3339 can write with four digits;
// anything before 1970 is a zero value gone astray.
func checkYear(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return fieldErr(field, "year %d is outside 1970-9999", y)
	}
	return nil
}

// checkContactPoint accepts only the normal forms the consent ledger keys
// on, so one number or address never has two histories: E.164 numbers that
// libphonenumber knows, lower-case e-mail addresses. The channel decides
// which kind it must be.
func checkContactPoint(cp string, c Channel) error {
	if cp == "" {
		return nil
	}
	isPhone := strings.HasPrefix(cp, "+")
	switch {
	case isPhone:
		if !validPhone(cp) {
			return fieldErr("contact_point", "%q is not a valid E.164 phone number (e.g. +16175550123)", cp)
		}
	case strings.Contains(cp, "@"):
		if err := checkEmail(cp); err != nil {
			return err
		}
	default:
		return fieldErr("contact_point", "%.64q is neither an E.164 phone number (+16175550123) nor an e-mail address", cp)
	}
	switch {
	case c == ChannelLetter:
		return fieldErr("contact_point", "a letter has no contact point: omit it")
	case c == ChannelEmail && isPhone:
		return fieldErr("contact_point", "%q is a phone number, but the channel is email", cp)
	case c.phone() && !isPhone:
		return fieldErr("contact_point", "%q is not a phone number, but the channel is %s", cp, c)
	}
	return nil
}

// emailPattern and emailDots are the schema's $defs/email patterns, verbatim
// (a test compares them): an RFC 5322 dot-atom local part in lower case and
// an ASCII host name.
const (
	emailPattern = "^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
	emailDots    = "^\\.|\\.\\.|\\.@"
)

var (
	emailRE     = regexp.MustCompile(emailPattern)
	emailDotsRE = regexp.MustCompile(emailDots)
)

func checkEmail(s string) error {
	switch {
	case len(s) > maxEmailBytes:
		return fieldErr("contact_point", "%.64q… is longer than %d bytes", s, maxEmailBytes)
	case strings.ToLower(s) != s:
		return fieldErr("contact_point", "%q is not in normal form: e-mail addresses are written in lower case", s)
	case !emailRE.MatchString(s) || emailDotsRE.MatchString(s):
		return fieldErr("contact_point", "%q is not an e-mail address", s)
	}
	return nil
}

// phoneCache remembers libphonenumber's verdict: a full parse and check
// costs about 20µs, most of a consumer's per-event budget, and one number
// sends many events. The verdict is a pure function of the string, so the
// cache changes speed only.
var phoneCache = struct {
	sync.Mutex
	valid map[string]bool
}{valid: map[string]bool{}}

const phoneCacheSize = 4096

func validPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	phoneCache.Lock()
	v, hit := phoneCache.valid[s]
	phoneCache.Unlock()
	if hit {
		return v
	}
	n, err := phonenumbers.Parse(s, "")
	v = err == nil && phonenumbers.IsValidNumber(n) && phonenumbers.Format(n, phonenumbers.E164) == s
	phoneCache.Lock()
	if len(phoneCache.valid) >= phoneCacheSize {
		clear(phoneCache.valid)
	}
	phoneCache.valid[s] = v
	phoneCache.Unlock()
	return v
}

// checkLink accepts absolute http(s) URLs with a host, as written in the
// message.
func checkLink(field, s string) error {
	if err := checkRequiredText(field, s, maxLinkRunes); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return fieldErr(field, "%.64q is not an http or https URL", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return fieldErr(field, "%.64q contains a space or control character", s)
		}
	}
	if u, err := url.Parse(s); err != nil || u.Host == "" {
		return fieldErr(field, "%.64q is not a URL with a host", s)
	}
	return nil
}

func checkInvoices(field string, ids []string) error {
	if len(ids) > maxInvoices {
		return fieldErr(field, "%d invoices, more than %d", len(ids), maxInvoices)
	}
	for i, id := range ids {
		if err := checkID(field, id); err != nil {
			return within(fmt.Sprintf("%s[%d]", field, i), untitled(err))
		}
		if slices.Contains(ids[:i], id) {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", id)
		}
	}
	return nil
}

// checkAmount: a payment or promise is for a positive amount in a real
// currency that the wire form can write.
func checkAmount(a money.Amount) error {
	if a.Currency.IsZero() {
		return fieldErr("currency", "required")
	}
	if a.Minor <= 0 {
		return fieldErr("amount", "%s is not greater than zero", a.Decimal())
	}
	if _, err := parseDecimal(a.Decimal(), a.Currency); err != nil {
		return err
	}
	return nil
}

// parseDecimal reads the wire form of an amount: digits, then optionally a
// point and at most as many digits as the currency has minor units. It is
// stricter than money.Parse on purpose: a producer writes "1234.50", never
// "1,234.5" or "+1234.5", and never more decimals than the currency has,
// even zeros, so one amount has one spelling.
func parseDecimal(s string, c money.Currency) (money.Amount, error) {
	intPart, frac, hasPoint := strings.Cut(s, ".")
	ok := len(intPart) >= 1 && len(intPart) <= maxAmountInt && allDigits(intPart) &&
		(intPart == "0" || intPart[0] != '0') && (!hasPoint || (len(frac) >= 1 && allDigits(frac)))
	if !ok {
		return money.Amount{}, &FieldError{Field: "amount", Err: money.ErrAmount,
			Reason: fmt.Sprintf("%.40q is not a decimal amount such as \"1234.50\" (digits, a point, at most %d digits before it)", s, maxAmountInt)}
	}
	if len(frac) > c.Scale() {
		return money.Amount{}, &FieldError{Field: "amount", Err: money.ErrAmount,
			Reason: fmt.Sprintf("%q has more decimals than %s allows (%d)", s, c, c.Scale())}
	}
	a, err := money.Parse(s, c)
	if err != nil {
		return money.Amount{}, &FieldError{Field: "amount", Reason: err.Error(), Err: err}
	}
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseCurrency accepts upper-case ISO 4217 codes only: money.ParseCurrency
// forgives case, the contract has one spelling.
func parseCurrency(s string) (money.Currency, error) {
	if len(s) != 3 || strings.ToUpper(s) != s {
		return money.Currency{}, &FieldError{Field: "currency", Err: money.ErrUnknownCurrency,
			Reason: fmt.Sprintf("%.40q is not an upper-case ISO 4217 code such as USD", s)}
	}
	c, err := money.ParseCurrency(s)
	if err != nil {
		return money.Currency{}, &FieldError{Field: "currency", Reason: err.Error(), Err: err}
	}
	return c, nil
}

// checkDate: a calendar date is UTC midnight, as ledger.Date makes it.
func checkDate(field string, d time.Time) error {
	if d.IsZero() {
		return fieldErr(field, "required")
	}
	u := d.UTC()
	if !u.Equal(ledger.Date(u.Year(), u.Month(), u.Day())) {
		return fieldErr(field, "%s is not a calendar date (want UTC midnight, as ledger.Date makes)", d.Format(time.RFC3339Nano))
	}
	return checkYear(field, d)
}

// partitionKey is tenant#customer, hashed when Kinesis's 256-character
// limit would cut it (ids may each be 128 bytes).
func partitionKey(tenant, customer string) string {
	k := tenant + "#" + customer
	if utf8.RuneCountInString(k) <= 256 {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return tenant + "#sha256:" + hex.EncodeToString(sum[:])
}

func (p EmailDelivered) validate(Event) error { return checkOptionalID("attempt_id", p.AttemptID) }

func (p EmailBounced) validate(Event) error {
	if !slices.Contains([]BounceType{BouncePermanent, BounceTransient, BounceUndetermined}, p.BounceType) {
		return fieldErr("bounce_type", "%q is not permanent, transient or undetermined", p.BounceType)
	}
	if err := checkText("diagnostic", p.Diagnostic, maxDiagnostic); err != nil {
		return err
	}
	return checkOptionalID("attempt_id", p.AttemptID)
}

func (p EmailComplained) validate(Event) error {
	if err := checkText("feedback_type", p.FeedbackType, maxFeedback); err != nil {
		return err
	}
	return checkOptionalID("attempt_id", p.AttemptID)
}

func (p EmailOpened) validate(Event) error { return checkOptionalID("attempt_id", p.AttemptID) }

func (p EmailClicked) validate(Event) error {
	if err := checkLink("link", p.Link); err != nil {
		return err
	}
	return checkOptionalID("attempt_id", p.AttemptID)
}

func (p SMSDelivered) validate(Event) error { return checkOptionalID("attempt_id", p.AttemptID) }

func (p SMSFailed) validate(Event) error {
	if err := checkRequiredText("reason", p.Reason, maxShortRunes); err != nil {
		return err
	}
	return checkOptionalID("attempt_id", p.AttemptID)
}

func (p SMSInbound) validate(Event) error { return checkText("text", p.Text, maxSMSRunes) }

func (p CallOutcome) validate(Event) error {
	if !slices.Contains(allOutcomes, p.Outcome) {
		return fieldErr("outcome", "unknown call outcome %q (want one of %s)", p.Outcome, list(allOutcomes))
	}
	if p.DurationSeconds < 0 || p.DurationSeconds > maxDuration {
		return fieldErr("duration_seconds", "%d is outside 0-%d", p.DurationSeconds, maxDuration)
	}
	return checkID("attempt_id", p.AttemptID)
}

func (p PaymentLinkClicked) validate(Event) error {
	if p.Link != "" {
		if err := checkLink("link", p.Link); err != nil {
			return err
		}
	}
	if err := checkInvoices("invoices", p.Invoices); err != nil {
		return err
	}
	return checkOptionalID("attempt_id", p.AttemptID)
}

func (p PaymentReceived) validate(Event) error {
	if err := checkAmount(p.Amount); err != nil {
		return err
	}
	if err := checkInvoices("invoices", p.Invoices); err != nil {
		return err
	}
	return checkOptionalID("reference", p.Reference)
}

func (p PromiseMade) validate(e Event) error {
	if err := checkAmount(p.Amount); err != nil {
		return err
	}
	if err := checkDate("promised_date", p.PromisedDate); err != nil {
		return err
	}
	// A promise dated before it was made is a swapped day and month or a
	// wrong year. One day of slack: the date is the person's local date,
	// occurred_at is UTC.
	if ledger.DaysBetween(p.PromisedDate, e.OccurredAt) > 1 {
		return fieldErr("promised_date", "%s is before the promise was made (occurred_at %s)",
			p.PromisedDate.Format(time.DateOnly), e.OccurredAt.UTC().Format(time.RFC3339))
	}
	return checkInvoices("invoices", p.Invoices)
}

func (p DisputeRaised) validate(e Event) error {
	if err := checkID("invoice", p.Invoice); err != nil {
		return err
	}
	if e.Debt != "" && e.Debt != p.Invoice {
		return fieldErr("invoice", "%q disagrees with the event's debt %q", p.Invoice, e.Debt)
	}
	return checkText("reason", p.Reason, maxNoteRunes)
}

func (p HardshipStated) validate(Event) error { return checkText("note", p.Note, maxNoteRunes) }

func (p CeaseRequested) validate(Event) error { return checkText("text", p.Text, maxNoteRunes) }

func (p ConsentGiven) validate(Event) error {
	if !p.Channel.consentable() {
		return fieldErr("channel", "%q is not a consent channel (want one of %s)", p.Channel, list(allChannels[:6]))
	}
	if !slices.Contains([]ConsentSource{ConsentDirect, ConsentApplication, ConsentWritten}, p.Source) {
		return fieldErr("source", "%q is not direct, application or written", p.Source)
	}
	return nil
}

func (p ConsentRevoked) validate(Event) error {
	for i, c := range p.Channels {
		if !c.consentable() {
			return fieldErr(fmt.Sprintf("channels[%d]", i), "%q is not a consent channel (want one of %s)", c, list(allChannels[:6]))
		}
		if slices.Contains(p.Channels[:i], c) {
			return fieldErr(fmt.Sprintf("channels[%d]", i), "%q is listed twice", c)
		}
	}
	if !slices.Contains(allVias, p.Via) {
		return fieldErr("via", "%q is not a way a revocation arrives (want one of %s)", p.Via, list(allVias))
	}
	return checkText("text", p.Text, maxNoteRunes)
}
