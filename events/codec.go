package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

// Decode reads one event, strictly: it refuses anything the contract does not
// allow (an unknown field, type or version, a missing id, a float amount, a
// payload of another type...) rather than guess, because a guessed opt-out
// is worse than one sent to the dead-letter queue with its reason. Every
// error wraps ErrInvalid and is a *FieldError naming the field at fault.
func Decode(data []byte) (Event, error) {
	if len(data) > MaxSize {
		// Before parsing: a huge record costs nothing to refuse.
		return Event{}, &FieldError{Err: ErrTooLarge,
			Reason: fmt.Sprintf("event is %d bytes, more than the %d-byte limit", len(data), MaxSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Event{}, fieldErr("", "event is empty")
	}
	if !utf8.Valid(data) {
		// JSON is UTF-8 (RFC 8259); encoding/json would silently replace the
		// bad bytes and we would store words nobody wrote.
		return Event{}, fieldErr("", "event is not valid UTF-8 (binary data?)")
	}
	if !json.Valid(data) {
		return Event{}, notJSON(data)
	}
	ms, err := members(data)
	if err != nil {
		return Event{}, err
	}
	if err := checkVersion(ms); err != nil {
		return Event{}, err
	}
	t, spec, err := lookupType(ms)
	if err != nil {
		return Event{}, err
	}
	var w wireEvent
	if err := decodeWire(ms, envelopeFields, &w); err != nil {
		return Event{}, err
	}
	p, err := spec.decode(w.Payload)
	if err != nil {
		return Event{}, within("payload", err)
	}
	at, err := parseTimestamp(w.OccurredAt)
	if err != nil {
		return Event{}, err
	}
	e := Event{
		ID:           w.ID,
		Tenant:       ledger.TenantID(w.Tenant),
		Customer:     w.Customer,
		Debt:         w.Debt,
		Channel:      Channel(w.Channel),
		ContactPoint: w.ContactPoint,
		OccurredAt:   at,
		Source:       w.Source,
		Payload:      p,
	}
	if e.Type() != t {
		// Unreachable while the registry is consistent; a test checks it.
		return Event{}, fieldErr("type", "decoded a %s payload for a %s event", e.Type(), t)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Encode writes e in the wire form of SchemaVersion, after Validate: a
// producer cannot put on the stream an event the consumer would refuse.
// Times are written in UTC.
func Encode(e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	spec := registry[e.Type()]
	payload, err := marshal(spec.encode(e.Payload))
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", e.Type(), err)
	}
	out, err := marshal(wireEvent{
		SchemaVersion: SchemaVersion,
		ID:            e.ID,
		Tenant:        string(e.Tenant),
		Customer:      e.Customer,
		Debt:          e.Debt,
		Type:          string(e.Type()),
		Channel:       string(e.Channel),
		ContactPoint:  e.ContactPoint,
		OccurredAt:    e.OccurredAt.UTC().Format(time.RFC3339Nano),
		Source:        e.Source,
		Payload:       payload,
	})
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Type(), err)
	}
	if len(out) > MaxSize {
		return nil, &FieldError{Err: ErrTooLarge,
			Reason: fmt.Sprintf("event is %d bytes encoded, more than the %d-byte limit", len(out), MaxSize)}
	}
	return out, nil
}

// marshal writes compact JSON without HTML escaping: links keep their '&'.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// wireEvent is the envelope as it travels. A field without omitempty is
// required; one with it is optional and, when present, must not be empty.
type wireEvent struct {
	SchemaVersion string          `json:"schema_version"`
	ID            string          `json:"id"`
	Tenant        string          `json:"tenant"`
	Customer      string          `json:"customer"`
	Debt          string          `json:"debt,omitempty"`
	Type          string          `json:"type"`
	Channel       string          `json:"channel"`
	ContactPoint  string          `json:"contact_point,omitempty"`
	OccurredAt    string          `json:"occurred_at"`
	Source        string          `json:"source"`
	Payload       json.RawMessage `json:"payload"`
}

var envelopeFields = wireFields(reflect.TypeFor[wireEvent]())

func checkVersion(ms []member) error {
	raw, ok := find(ms, "schema_version")
	if !ok {
		// Usually a provider's payload put on the stream unnormalised;
		// naming its fields tells whoever reads the dead-letter queue which.
		names := make([]string, 0, 4)
		for _, m := range ms[:min(len(ms), 4)] {
			names = append(names, fmt.Sprintf("%.32q", m.key))
		}
		if len(ms) > 4 {
			names = append(names, "…")
		}
		return fieldErr("schema_version", "required (this decoder reads %q); an object with fields {%s} is not an engagement event",
			SchemaVersion, strings.Join(names, ", "))
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return fieldErr("schema_version", "want a string such as %q, got %s", SchemaVersion, jsonKind(raw))
	}
	if v != SchemaVersion {
		return &FieldError{Field: "schema_version", Err: ErrUnsupportedVersion,
			Reason: fmt.Sprintf("%.20q is not supported (this decoder reads %q)", v, SchemaVersion)}
	}
	return nil
}

func lookupType(ms []member) (Type, *payloadSpec, error) {
	raw, ok := find(ms, "type")
	if !ok {
		return "", nil, fieldErr("type", "required")
	}
	var t string
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", nil, fieldErr("type", "want a string, got %s", jsonKind(raw))
	}
	spec, ok := registry[Type(t)]
	if !ok {
		return "", nil, &FieldError{Field: "type", Err: ErrUnknownType,
			Reason: fmt.Sprintf("unknown event type %.64q", t)}
	}
	return Type(t), spec, nil
}

func parseTimestamp(s string) (time.Time, error) {
	// RFC 3339 in UTC, in one spelling: time.Parse alone would also take
	// offsets and a comma before the fraction.
	ok := len(s) >= 20 && len(s) <= 30 && s[len(s)-1] == 'Z' && s[4] == '-' && s[7] == '-' &&
		s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
		allDigits(s[0:4]+s[5:7]+s[8:10]+s[11:13]+s[14:16]+s[17:19])
	if ok && len(s) > 20 {
		ok = s[19] == '.' && len(s) > 21 && allDigits(s[20:len(s)-1])
	}
	if !ok {
		return time.Time{}, fieldErr("occurred_at", "%.40q is not an RFC 3339 UTC time such as 2025-03-04T15:04:05Z", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr("occurred_at", "%q is not a real time (%v)", s, err)
	}
	return t, nil
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	key   string
	value []byte // the raw JSON value
}

// maxMembers bounds an object's fields: the widest object of the contract
// has 11, and a cap keeps the duplicate check cheap on hostile input.
const maxMembers = 32

// members splits the JSON object data into its fields, refusing duplicates:
// with two "tenant" fields a schema validator and encoding/json (last one
// wins) could read two different events from one record. data must be valid
// JSON (json.Valid); the scan is then a few hundred nanoseconds, where
// encoding/json's token API costs several microseconds.
func members(data []byte) ([]member, error) {
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return nil, fieldErr("", "want a JSON object, got %s", jsonKind(data[i:]))
	}
	ms := make([]member, 0, 12)
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		if len(ms) == maxMembers {
			return nil, fieldErr("", "more than %d fields", maxMembers)
		}
		end := skipValue(data, i) // the key, a string
		key, err := unquote(data[i:end])
		if err != nil {
			return nil, fieldErr("", "unreadable field name: %v", err) // unreachable after json.Valid
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past the ':'
		end = skipValue(data, i)
		for _, m := range ms {
			if m.key == key {
				return nil, fieldErr(key, "appears more than once")
			}
		}
		ms = append(ms, member{key, data[i:end]})
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return ms, nil
}

func find(ms []member, key string) ([]byte, bool) {
	for _, m := range ms {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // number, true, false, null
		for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
			i++
		}
		return i
	}
	return len(b)
}

// unquote reads a JSON string, the common case (no escapes) without
// encoding/json.
func unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// notJSON explains why json.Valid refused the whole event.
func notJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end"):
		err = errors.New("unexpected end of input")
	case errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value"):
		err = errors.New("more data after the object")
	case err == nil:
		err = errors.New("refused by json.Valid") // unreachable: Unmarshal and Valid agree
	}
	hint := ""
	if looksBase64(data) {
		hint = " (it looks base64-encoded: Kinesis hands the handler decoded data, so it was encoded twice)"
	}
	return fieldErr("", "event is not valid JSON: %v%s", err, hint)
}

func looksBase64(data []byte) bool {
	s := strings.TrimSpace(string(data))
	if len(s) < 8 || len(s)%4 != 0 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// wireField is one field of a wire struct: its JSON name, whether it is
// required (no omitempty) and its Go type, for error messages.
type wireField struct {
	name     string
	index    int
	required bool
	typ      reflect.Type
}

func wireFields(t reflect.Type) []wireField {
	var fs []wireField
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("events: %s.%s has no JSON name", t, t.Field(i).Name))
		}
		fs = append(fs, wireField{name: name, index: i, required: opts != "omitempty", typ: t.Field(i).Type})
	}
	return fs
}

// decodeWire fills the wire struct *dst from the object's members, with
// exact field names: encoding/json alone would take "Tenant" for "tenant",
// null for absent and an unknown field for nothing. Strings without escapes,
// booleans and integers are set directly; the rest goes through
// encoding/json.
func decodeWire(ms []member, fields []wireField, dst any) error {
	var present [maxMembers]bool
	v := reflect.ValueOf(dst).Elem()
	for _, m := range ms {
		i := fieldIndex(fields, m.key)
		if i < 0 {
			return fieldErr(m.key, "unknown field (want %s)", fieldNames(fields))
		}
		if string(m.value) == "null" {
			return fieldErr(m.key, "null: omit the field instead, or give a value")
		}
		present[i] = true
		if err := setField(v.Field(fields[i].index), m.value); err != nil {
			return fieldErr(m.key, "%s, got %s", want(fields[i].typ), err)
		}
	}
	for i, f := range fields {
		if f.required && !present[i] {
			return fieldErr(f.name, "required")
		}
		fv := v.Field(f.index)
		if present[i] && !f.required && (fv.IsZero() || (fv.Kind() == reflect.Slice && fv.Len() == 0)) {
			// One spelling per event: "absent" is the only way to say none.
			return fieldErr(f.name, "empty: omit the field instead")
		}
	}
	return nil
}

// setField stores the JSON value raw in fv; the error names what raw was.
func setField(fv reflect.Value, raw []byte) error {
	kind := jsonKind(raw)
	switch {
	case fv.Type() == reflect.TypeFor[json.RawMessage]():
		fv.SetBytes(raw)
		return nil
	case fv.Kind() == reflect.String:
		if raw[0] != '"' {
			return errors.New(kind)
		}
		s, err := unquote(raw)
		if err != nil {
			return err
		}
		fv.SetString(s)
		return nil
	case fv.Kind() == reflect.Bool:
		if kind != "a boolean" {
			return errors.New(kind)
		}
		fv.SetBool(raw[0] == 't')
		return nil
	case fv.Kind() == reflect.Int:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			if kind == "a number" {
				return fmt.Errorf("%s %.20s", kind, raw)
			}
			return errors.New(kind)
		}
		fv.SetInt(n)
		return nil
	case fv.Kind() == reflect.Slice:
		if raw[0] != '[' {
			return errors.New(kind)
		}
		if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return fmt.Errorf("an array holding a %s", te.Value)
			}
			return err
		}
		return nil
	}
	panic(fmt.Sprintf("events: no decoder for wire field type %s", fv.Type())) // a test decodes every type
}

func fieldIndex(fields []wireField, name string) int {
	for i, f := range fields {
		if f.name == name {
			return i
		}
	}
	return -1
}

func fieldNames(fields []wireField) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}

// decimal is the wire type of an amount, so a JSON number in its place gets
// an error that says why.
type decimal string

func want(t reflect.Type) string {
	if t == reflect.TypeFor[decimal]() {
		return `want a decimal string such as "1234.50" (amounts are never JSON numbers: floats cannot hold cents exactly)`
	}
	switch t.Kind() {
	case reflect.String:
		return "want a string"
	case reflect.Bool:
		return "want true or false"
	case reflect.Int:
		return "want a whole number"
	case reflect.Slice:
		return "want an array of strings"
	}
	return "want " + t.String()
}

// payloadSpec is everything the codec knows about one event type.
type payloadSpec struct {
	goType reflect.Type
	fields []wireField // of the wire struct
	rule   envelopeRule
	decode func(raw []byte) (Payload, error)
	encode func(Payload) any
}

var registry = map[Type]*payloadSpec{}

// register adds the type of payload P, whose wire form is W; from and to
// convert (from also refuses what W can hold but P cannot mean).
func register[W any, P Payload](rule envelopeRule, from func(W) (P, error), to func(P) W) {
	var zero P
	fields := wireFields(reflect.TypeFor[W]())
	registry[zero.Type()] = &payloadSpec{
		goType: reflect.TypeFor[P](),
		fields: fields,
		rule:   rule,
		decode: func(raw []byte) (Payload, error) {
			ms, err := members(raw) // raw is part of a document json.Valid accepted
			if err != nil {
				return nil, err
			}
			var w W
			if err := decodeWire(ms, fields, &w); err != nil {
				return nil, err
			}
			return from(w)
		},
		encode: func(p Payload) any { return to(p.(P)) },
	}
}

// plain registers a payload that is its own wire form.
func plain[P Payload](rule envelopeRule) {
	register(rule, func(p P) (P, error) { return p, nil }, func(p P) P { return p })
}

func init() {
	var (
		anyChannel = envelopeRule{}
		email      = envelopeRule{channels: []Channel{ChannelEmail}, contact: true}
		sms        = envelopeRule{channels: []Channel{ChannelSMS}, contact: true}
		call       = envelopeRule{channels: []Channel{ChannelVoice, ChannelVoiceAI, ChannelPrerecorded}, contact: true}
	)
	plain[EmailDelivered](email)
	plain[EmailBounced](email)
	plain[EmailComplained](email)
	plain[EmailOpened](email)
	plain[EmailClicked](email)
	plain[SMSDelivered](sms)
	plain[SMSFailed](sms)
	plain[SMSInbound](sms)
	plain[CallOutcome](call)
	plain[PaymentLinkClicked](anyChannel)
	register(anyChannel, paymentReceivedFromWire, paymentReceivedToWire)
	register(anyChannel, promiseMadeFromWire, promiseMadeToWire)
	plain[DisputeRaised](anyChannel)
	plain[HardshipStated](anyChannel)
	plain[CeaseRequested](anyChannel)
	plain[ConsentGiven](anyChannel)
	plain[ConsentRevoked](anyChannel)
}

type paymentReceivedWire struct {
	Amount    decimal  `json:"amount"`
	Currency  string   `json:"currency"`
	Invoices  []string `json:"invoices,omitempty"`
	Reference string   `json:"reference,omitempty"`
}

func paymentReceivedFromWire(w paymentReceivedWire) (PaymentReceived, error) {
	a, err := parseMoney(w.Amount, w.Currency)
	if err != nil {
		return PaymentReceived{}, err
	}
	return PaymentReceived{Amount: a, Invoices: w.Invoices, Reference: w.Reference}, nil
}

func paymentReceivedToWire(p PaymentReceived) paymentReceivedWire {
	return paymentReceivedWire{Amount: decimal(p.Amount.Decimal()), Currency: p.Amount.Currency.Code(),
		Invoices: p.Invoices, Reference: p.Reference}
}

type promiseMadeWire struct {
	Amount       decimal  `json:"amount"`
	Currency     string   `json:"currency"`
	PromisedDate string   `json:"promised_date"`
	Invoices     []string `json:"invoices,omitempty"`
}

func promiseMadeFromWire(w promiseMadeWire) (PromiseMade, error) {
	a, err := parseMoney(w.Amount, w.Currency)
	if err != nil {
		return PromiseMade{}, err
	}
	s := w.PromisedDate
	ok := len(s) == len(time.DateOnly) && s[4] == '-' && s[7] == '-' && allDigits(s[0:4]+s[5:7]+s[8:10])
	d, err := time.Parse(time.DateOnly, s)
	if !ok || err != nil {
		return PromiseMade{}, fieldErr("promised_date", "%.40q is not a calendar date such as 2025-03-31", w.PromisedDate)
	}
	return PromiseMade{Amount: a, PromisedDate: d, Invoices: w.Invoices}, nil
}

func promiseMadeToWire(p PromiseMade) promiseMadeWire {
	return promiseMadeWire{Amount: decimal(p.Amount.Decimal()), Currency: p.Amount.Currency.Code(),
		PromisedDate: p.PromisedDate.UTC().Format(time.DateOnly), Invoices: p.Invoices}
}

// parseMoney reads the currency first: how many decimals an amount may have
// depends on it.
func parseMoney(amount decimal, currency string) (money.Amount, error) {
	c, err := parseCurrency(currency)
	if err != nil {
		return money.Amount{}, err
	}
	return parseDecimal(string(amount), c)
}
