package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxRaw caps Reject.Raw and Reject.Value: enough to recognise a row, not
// enough to bloat a rejects file with a runaway quoted field.
const maxRaw = 500

// clip truncates to maxRaw bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxRaw {
		return s
	}
	i := maxRaw
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// readFile sniffs a file and reads it as CSV or JSON. Errors are file
// errors and name the file.
func (p *parser) readFile(ctx context.Context, fi int, f File) error {
	fs := &fileState{name: f.Name, format: FormatCanonical}
	p.files = append(p.files, fs)
	if f.R == nil {
		return fmt.Errorf("%s: no reader", f.Name)
	}
	if f.Kind != "" && canonicalColumns[f.Kind] == nil {
		return fmt.Errorf("%s: unknown kind %q (want customers, contacts, invoices or payments)", f.Name, f.Kind)
	}
	br := bufio.NewReaderSize(f.R, 64<<10)
	head, err := br.Peek(3)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: cannot read: %w", f.Name, err)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3) // Excel writes a UTF-8 byte-order mark
	}
	head, err = br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: cannot read: %w", f.Name, err)
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return fmt.Errorf("%s: is a binary file (a spreadsheet?), not CSV or JSON text; export it as CSV", f.Name)
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(t) == 0:
		return fmt.Errorf("%s: is empty (no header row)", f.Name)
	case t[0] == '{':
		fs.json = true
		return p.readJSON(ctx, fi, fs, br, f.Kind)
	case t[0] == '[':
		return fmt.Errorf("%s: JSON must be an object like {\"invoices\": [...]}, not an array", f.Name)
	}
	format := f.Format
	if format == "" {
		format = p.opts.Format
	}
	if mappingFor(format) == nil {
		return fmt.Errorf("%s: unknown format %q (want one of %s)", f.Name, format, formatList())
	}
	return p.readCSV(ctx, fi, fs, br, f.Kind, format)
}

// tracker remembers the bytes a parser has pulled from the input but not
// yet released, so rejects can quote the raw row, and counts newlines so
// JSON records get line numbers.
type tracker struct {
	r       io.Reader
	buf     []byte
	start   int   // buf[start:] is live
	base    int64 // stream offset of buf[start]
	lineOff int64 // newlines have been counted up to here
	lines   int
}

func (t *tracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// bytes returns the stream bytes [from, to) that are still held.
func (t *tracker) bytes(from, to int64) []byte {
	end := t.base + int64(len(t.buf)-t.start)
	from, to = max(from, t.base), min(to, end)
	if from >= to {
		return nil
	}
	return t.buf[t.start+int(from-t.base) : t.start+int(to-t.base)]
}

// lineAt is the 1-based line of offset off; offsets must not go backwards.
func (t *tracker) lineAt(off int64) int {
	if off > t.lineOff {
		t.lines += bytes.Count(t.bytes(t.lineOff, off), []byte{'\n'})
		t.lineOff = off
	}
	return t.lines + 1
}

// release forgets the bytes before off.
func (t *tracker) release(off int64) {
	t.lineAt(off)
	held := int64(len(t.buf) - t.start)
	k := min(max(off-t.base, 0), held)
	t.start += int(k)
	t.base += k
	if t.start > 4096 && t.start > len(t.buf)/2 {
		n := copy(t.buf, t.buf[t.start:])
		t.buf, t.start = t.buf[:n], 0
	}
}

// binding is a format's mapping bound to one file's header.
type binding struct {
	m         *mapping
	kind      Kind // canonical CSV: the file's kind; ERP: "" (rows are classified)
	header    []string
	hdr       map[string]int // lower-case name -> index
	cols      map[Kind][]boundCol
	names     map[Kind]*[nFields]string
	hasCur    map[Kind]bool
	cust      []boundCol
	custNames *[nFields]string
	classIdx  int
	unknown   []string
}

// boundCol is a colMap resolved to header positions.
type boundCol struct {
	f    field
	idx  []int
	conv conv
}

// fill copies a record's columns into the row's canonical fields.
func (b *binding) fill(r *row, cols []boundCol) *problem {
	for _, c := range cols {
		if len(c.idx) == 1 {
			r.vals[c.f] = strings.TrimSpace(r.rec[c.idx[0]])
		} else {
			parts := make([]string, len(c.idx))
			for i, x := range c.idx {
				parts[i] = strings.TrimSpace(r.rec[x])
				if parts[i] == "" {
					n := b.header[x]
					return &problem{field: n, rule: RuleMissing,
						reason: fmt.Sprintf("%s is missing (part of %s)", n, r.name(c.f))}
				}
			}
			r.vals[c.f] = strings.Join(parts, "-")
		}
		if c.conv == convNonZero {
			v := r.vals[c.f]
			nz, ok := nonZero(v)
			if !ok {
				n := r.name(c.f)
				return &problem{field: n, value: v, rule: RuleInvalidAmount,
					reason: fmt.Sprintf("%s %s is not an amount", n, v)}
			}
			r.vals[c.f] = strconv.FormatBool(nz)
		}
	}
	return nil
}

// nonZero reads a plain decimal (sign, digits, one dot, thousands commas)
// and says whether it differs from zero; "" is zero.
func nonZero(v string) (nz, ok bool) {
	s := strings.TrimLeft(v, "+-")
	if s == "" {
		return false, v == ""
	}
	dot := false
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = true
			if c != '0' {
				nz = true
			}
		case c == '.' && !dot:
			dot = true
		case c == ',' && !dot:
		default:
			return false, false
		}
	}
	return nz, digits
}

// bindKinds resolves a mapping's columns for the given kinds against a
// header and lists the required columns it lacks.
func bindKinds(m *mapping, header []string, hdr map[string]int, kinds []Kind, withCustomer bool) (*binding, []string) {
	b := &binding{m: m, header: header, hdr: hdr, cols: map[Kind][]boundCol{},
		names: map[Kind]*[nFields]string{}, hasCur: map[Kind]bool{}, classIdx: -1}
	used := map[int]bool{}
	var missing []string
	miss := func(s string) {
		for _, x := range missing {
			if x == s {
				return
			}
		}
		missing = append(missing, s)
	}
	bindList := func(list []colMap) ([]boundCol, *[nFields]string) {
		names := &[nFields]string{}
		for f, n := range m.derivedNames {
			names[f] = n
		}
		var out []boundCol
		for _, c := range list {
			if len(c.parts) > 0 {
				var idx []int
				var spelled []string
				for _, part := range c.parts {
					i, ok := hdr[strings.ToLower(part)]
					if !ok {
						if c.required {
							miss(part)
						}
						continue
					}
					used[i] = true
					idx = append(idx, i)
					spelled = append(spelled, header[i])
				}
				if len(idx) == len(c.parts) {
					out = append(out, boundCol{f: c.f, idx: idx, conv: c.conv})
					names[c.f] = strings.Join(spelled, "-")
				}
				continue
			}
			found := -1
			for _, name := range c.cols {
				if i, ok := hdr[strings.ToLower(name)]; ok {
					used[i] = true // every alternative present is a known column
					if found < 0 {
						found = i
					}
				}
			}
			if found < 0 {
				if c.required {
					miss(strings.Join(c.cols, " or "))
				}
				continue
			}
			out = append(out, boundCol{f: c.f, idx: []int{found}, conv: c.conv})
			names[c.f] = header[found]
		}
		return out, names
	}
	for _, k := range kinds {
		b.cols[k], b.names[k] = bindList(m.kinds[k])
		for _, c := range b.cols[k] {
			if c.f == fCurrency {
				b.hasCur[k] = true
			}
		}
	}
	if withCustomer {
		b.cust, b.custNames = bindList(m.customer)
	}
	extra := append([]string{}, m.extraRequired...)
	if m.classCol != "" {
		extra = append([]string{m.classCol}, extra...)
	}
	for _, c := range extra {
		i, ok := hdr[strings.ToLower(c)]
		if !ok {
			miss(c)
			continue
		}
		used[i] = true
		if c == m.classCol {
			b.classIdx = i
		}
	}
	for _, c := range m.known {
		if i, ok := hdr[strings.ToLower(c)]; ok {
			used[i] = true
		}
	}
	for i, h := range header {
		if !used[i] {
			if h == "" {
				h = fmt.Sprintf("(column %d has no name)", i+1)
			}
			b.unknown = append(b.unknown, h)
		}
	}
	return b, missing
}

// describeHeader lists a header for error messages, shortened when long.
func describeHeader(h []string) string {
	if len(h) > 25 {
		return strings.Join(h[:25], ", ") + fmt.Sprintf(", ... (%d columns)", len(h))
	}
	return strings.Join(h, ", ")
}

// bindCSV chooses how to read a CSV file from its header.
func (p *parser) bindCSV(fs *fileState, header []string, kind Kind, format Format) (*binding, error) {
	hdr := map[string]int{}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		l := strings.ToLower(header[i])
		if l == "" {
			continue
		}
		if _, dup := hdr[l]; dup {
			return nil, fmt.Errorf("%s: column %s appears twice in the header", fs.name, header[i])
		}
		hdr[l] = i
	}
	m := mappingFor(format)
	if m.isERP() && kind != KindCustomers && kind != KindContacts {
		var kinds []Kind
		for _, k := range Kinds() {
			if m.kinds[k] != nil {
				kinds = append(kinds, k)
			}
		}
		b, missing := bindKinds(m, header, hdr, kinds, true)
		if len(missing) == 0 {
			fs.format = m.format
			return b, nil
		}
		if kind == "" {
			if cb, err := p.bindCanonical(fs, header, hdr, ""); err == nil {
				return cb, nil
			}
		}
		return nil, fmt.Errorf("%s: format %s needs columns %s; header has %s",
			fs.name, m.format, strings.Join(missing, ", "), describeHeader(header))
	}
	return p.bindCanonical(fs, header, hdr, kind)
}

// bindCanonical binds a canonical header, detecting the kind when not given:
// the kind whose required columns are all present. customers (customer_id,
// name) is generic enough to fit other headers too, so it only wins alone.
func (p *parser) bindCanonical(fs *fileState, header []string, hdr map[string]int, kind Kind) (*binding, error) {
	m := canonicalMapping
	try := func(k Kind) (*binding, []string) {
		b, missing := bindKinds(m, header, hdr, []Kind{k}, false)
		b.kind = k
		return b, missing
	}
	var b *binding
	if kind != "" {
		var missing []string
		if b, missing = try(kind); len(missing) > 0 {
			return nil, fmt.Errorf("%s: format canonical needs columns %s for %s; header has %s",
				fs.name, strings.Join(missing, ", "), kind, describeHeader(header))
		}
	} else {
		var fits []*binding
		var wants []string
		for _, k := range Kinds() {
			cb, missing := try(k)
			if len(missing) == 0 {
				fits = append(fits, cb)
			} else {
				wants = append(wants, fmt.Sprintf("%s needs %s", k, strings.Join(missing, ", ")))
			}
		}
		if len(fits) > 1 && fits[0].kind == KindCustomers {
			fits = fits[1:]
		}
		switch len(fits) {
		case 0:
			return nil, fmt.Errorf("%s: cannot tell what the rows are from the header (%s); header has %s",
				fs.name, strings.Join(wants, "; "), describeHeader(header))
		case 1:
			b = fits[0]
		default:
			var ks []string
			for _, f := range fits {
				ks = append(ks, string(f.kind))
			}
			return nil, fmt.Errorf("%s: header fits several kinds (%s); say which with the file's kind",
				fs.name, strings.Join(ks, ", "))
		}
	}
	if needsCurrency[b.kind] && !b.hasCur[b.kind] && p.opts.DefaultCurrency.IsZero() {
		return nil, fmt.Errorf("%s: format canonical needs column currency for %s (or a default currency); header has %s",
			fs.name, b.kind, describeHeader(header))
	}
	fs.format = FormatCanonical
	if b.kind == KindCustomers {
		p.customersGiven = true
	}
	return b, nil
}

// blankRecord reports a row with nothing but whitespace in every field
// (spreadsheets leave ",,,," lines behind).
func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// readCSV reads a header and then each data row.
func (p *parser) readCSV(ctx context.Context, fi int, fs *fileState, br *bufio.Reader, kind Kind, format Format) error {
	tr := &tracker{r: br}
	cr := csv.NewReader(tr)
	cr.FieldsPerRecord = -1 // counts are checked here, so a short row becomes a reject
	cr.ReuseRecord = true
	var header []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return fmt.Errorf("%s: is empty (no header row)", fs.name)
		}
		if err != nil {
			return fmt.Errorf("%s: cannot read the header: %w", fs.name, err)
		}
		if !blankRecord(rec) {
			header = append([]string(nil), rec...)
			break
		}
	}
	tr.release(cr.InputOffset())
	b, err := p.bindCSV(fs, header, kind, format)
	if err != nil {
		return err
	}
	fs.unknown = b.unknown
	scratch := new(row) // reused: a row per record would escape to the heap
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := cr.InputOffset()
		rec, err := cr.Read()
		end := cr.InputOffset()
		if err == io.EOF {
			return nil
		}
		raw := strings.Trim(string(tr.bytes(start, end)), "\r\n")
		tr.release(end)
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine {
			// An unclosed quote swallows every line after it into one
			// record: rejecting that "row" would silently drop the rows it
			// ate, so the file as a whole cannot be used.
			return fmt.Errorf("%s: line %d: a quoted field opened on this line is not closed before line %d; fix the quote and import again",
				fs.name, pe.StartLine, pe.Line)
		}
		if errors.As(err, &pe) && pe.Err != nil && !isIOError(pe.Err) {
			fs.rowCount++
			u := p.newUnit(fi, pe.StartLine, fs.rowCount, raw)
			u.kind = b.kind
			p.reject(u, &problem{rule: RuleMalformed,
				reason: fmt.Sprintf("the row is not valid CSV (%v at line %d, column %d); check the quotes", pe.Err, pe.Line, pe.Column)})
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: cannot read: %w", fs.name, err)
		}
		if blankRecord(rec) {
			fs.blank++
			continue
		}
		fs.rowCount++
		line, _ := cr.FieldPos(0)
		u := p.newUnit(fi, line, fs.rowCount, raw)
		u.kind = b.kind
		p.csvRow(u, b, rec, scratch)
	}
}

// isIOError tells reader failures, which make the file unusable, from
// CSV syntax errors, which only spoil one row.
func isIOError(err error) bool {
	return !errors.Is(err, csv.ErrQuote) && !errors.Is(err, csv.ErrBareQuote) && !errors.Is(err, csv.ErrFieldCount)
}

// csvRow maps one CSV record and builds its records, using r as scratch.
func (p *parser) csvRow(u *unit, b *binding, rec []string, r *row) {
	if len(rec) != len(b.header) {
		p.reject(u, &problem{rule: RuleFieldCount,
			reason: fmt.Sprintf("the row has %d fields but the header has %d", len(rec), len(b.header))})
		return
	}
	for _, f := range rec {
		if !utf8.ValidString(f) {
			p.reject(u, &problem{rule: RuleEncoding,
				reason: "the row is not valid UTF-8 text; export the file as UTF-8"})
			return
		}
	}
	*r = row{p: p, b: b, kind: b.kind, rec: rec}
	if b.m.isERP() {
		cls, pr := b.classify(rec)
		if pr != nil {
			p.reject(u, pr)
			return
		}
		r.kind, r.class = cls.kind, cls
		u.kind = cls.kind
	}
	r.names, r.hasCur = b.names[r.kind], b.hasCur[r.kind]
	if pr := b.fill(r, b.cols[r.kind]); pr != nil {
		p.reject(u, pr)
		return
	}
	if b.m.derive != nil {
		if pr := b.m.derive(r); pr != nil {
			p.reject(u, pr)
			return
		}
	}
	p.build(u, r)
}

// classify finds an ERP row's class.
func (b *binding) classify(rec []string) (*rowClass, *problem) {
	if b.classIdx < 0 {
		return &b.m.classes[0], nil
	}
	v := strings.TrimSpace(rec[b.classIdx])
	name := b.header[b.classIdx]
	if v == "" {
		return nil, &problem{field: name, rule: RuleMissing, reason: name + " is missing, so the row cannot be classified"}
	}
	var known []string
	for i := range b.m.classes {
		c := &b.m.classes[i]
		for _, x := range c.values {
			known = append(known, x)
			if strings.EqualFold(v, x) {
				if c.unsupported != "" {
					return nil, &problem{field: name, value: v, rule: RuleUnsupported,
						reason: fmt.Sprintf("%s %s: %s", name, c.label, c.unsupported)}
				}
				return c, nil
			}
		}
	}
	return nil, &problem{field: name, value: v, rule: RuleUnsupported,
		reason: fmt.Sprintf("%s %s is not a row type this import reads (%s)", name, v, strings.Join(known, ", "))}
}

// readJSON streams {"customers":[...],"contacts":[...],...}: one record in
// memory at a time. Syntax errors make the file unusable, because the
// records after them cannot be counted.
func (p *parser) readJSON(ctx context.Context, fi int, fs *fileState, br *bufio.Reader, only Kind) error {
	tr := &tracker{r: br}
	dec := json.NewDecoder(tr)
	dec.UseNumber()
	b := &binding{m: canonicalMapping, classIdx: -1}
	syntax := func(err error) error {
		line := tr.lineAt(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = tr.lineAt(se.Offset)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: invalid JSON near line %d: %v", fs.name, line, err)
	}
	if _, err := dec.Token(); err != nil { // the opening brace, sniffed already
		return syntax(err)
	}
	seen := map[Kind]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		key, _ := tok.(string)
		kind := Kind(key)
		if canonicalColumns[kind] == nil {
			return fmt.Errorf("%s: unknown key %q at line %d (want customers, contacts, invoices or payments)",
				fs.name, key, tr.lineAt(dec.InputOffset()))
		}
		if only != "" && kind != only {
			return fmt.Errorf("%s: holds %s but the file was given as %s", fs.name, kind, only)
		}
		if seen[kind] {
			return fmt.Errorf("%s: key %q appears twice", fs.name, key)
		}
		seen[kind] = true
		if kind == KindCustomers {
			p.customersGiven = true
		}
		tok, err = dec.Token()
		if err != nil {
			return syntax(err)
		}
		if tok == nil {
			continue // "payments": null is an empty list
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return fmt.Errorf("%s: %q must be an array of records (line %d)", fs.name, key, tr.lineAt(dec.InputOffset()))
		}
		for i := 0; dec.More(); i++ {
			if i&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return syntax(err)
			}
			end := dec.InputOffset()
			start := end - int64(len(raw))
			u := p.newUnit(fi, tr.lineAt(start), i, string(raw))
			u.kind = kind
			tr.release(end)
			p.jsonRecord(u, b, kind, raw)
		}
		if _, err := dec.Token(); err != nil { // ]
			return syntax(err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the JSON object near line %d", fs.name, tr.lineAt(dec.InputOffset()))
	}
	return nil
}

// jsonRecord maps one JSON record onto canonical fields. Values may be
// strings, numbers (kept as their literal text, so amounts stay exact) or,
// for boolean fields, booleans.
func (p *parser) jsonRecord(u *unit, b *binding, kind Kind, raw []byte) {
	if !utf8.Valid(raw) {
		// encoding/json would silently replace the bad bytes.
		p.reject(u, &problem{rule: RuleEncoding, reason: "the record is not valid UTF-8 text"})
		return
	}
	names := canonicalByName[kind]
	r := row{p: p, b: b, kind: kind}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	malformed := func() {
		p.reject(u, &problem{rule: RuleMalformed, reason: fmt.Sprintf("%s is not a JSON object of fields", p.record(u))})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		malformed()
		return
	}
	var seen [nFields]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			malformed()
			return
		}
		key, _ := tok.(string)
		f, ok := names[strings.ToLower(key)]
		if !ok {
			p.reject(u, &problem{field: key, rule: RuleUnknownField,
				reason: fmt.Sprintf("%s is not a field of %s (see FORMAT.md)", key, kind)})
			return
		}
		if seen[f] {
			p.reject(u, &problem{field: key, rule: RuleMalformed, reason: fmt.Sprintf("field %s appears twice", key)})
			return
		}
		seen[f] = true
		tok, err = dec.Token()
		if err != nil {
			malformed()
			return
		}
		var v string
		switch x := tok.(type) {
		case string:
			v = x
		case json.Number:
			v = x.String()
		case bool:
			if !boolFields[f] {
				p.reject(u, &problem{field: key, value: strconv.FormatBool(x), rule: RuleInvalidValue,
					reason: fmt.Sprintf("%s must be text, not true or false", key)})
				return
			}
			v = strconv.FormatBool(x)
		case nil:
		default:
			p.reject(u, &problem{field: key, rule: RuleInvalidValue,
				reason: fmt.Sprintf("%s must be a string, number or boolean, not a list or object", key)})
			return
		}
		r.vals[f] = strings.TrimSpace(v)
		if f == fCurrency {
			r.hasCur = true
		}
	}
	p.build(u, &r)
}

// stats counts each file's units; computing them from the units (rather
// than alongside) makes Read == Accepted + Rejected hold by construction.
func (p *parser) stats() []FileStats {
	out := make([]FileStats, len(p.files))
	for i, fs := range p.files {
		out[i] = FileStats{Name: fs.name, Format: fs.format, Blank: fs.blank,
			UnknownColumns: fs.unknown, RejectsByRule: map[Rule]int{}}
	}
	for _, u := range p.units {
		s := &out[u.file]
		var ks *KindStats
		for i := range s.Kinds {
			if s.Kinds[i].Kind == u.kind {
				ks = &s.Kinds[i]
			}
		}
		if ks == nil {
			s.Kinds = append(s.Kinds, KindStats{Kind: u.kind})
			ks = &s.Kinds[len(s.Kinds)-1]
		}
		s.Read++
		ks.Read++
		if u.rej != nil {
			s.Rejected++
			ks.Rejected++
			s.RejectsByRule[u.rej.Rule]++
		} else {
			s.Accepted++
			ks.Accepted++
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Kinds, func(a, b int) bool {
			return kindOrder(out[i].Kinds[a].Kind) < kindOrder(out[i].Kinds[b].Kind)
		})
	}
	return out
}

func kindOrder(k Kind) int {
	for i, x := range Kinds() {
		if x == k {
			return i
		}
	}
	return len(Kinds())
}
