package outbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/recoup-dev/recoup/shared/sender"
)

// Entry is one accepted send, one JSON line of the outbox file. It keeps the
// full content: the outbox is local development data from synthetic
// portfolios. Tenant, Customer, Attempt and Debt are the correlation keys as
// the webhooks would decode them.
type Entry struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"` // ServiceSES, ServiceSMS or ServiceConnect
	// Channel is email, sms, or the call's recoup_channel: voice, voice_ai,
	// prerecorded.
	Channel  string   `json:"channel"`
	Tenant   string   `json:"tenant,omitempty"`
	Customer string   `json:"customer,omitempty"`
	Attempt  string   `json:"attempt,omitempty"`
	Debt     string   `json:"debt,omitempty"`
	To       []string `json:"to"`
	// From is the e-mail sender, the SMS origination identity, or the
	// call's source number (else its queue).
	From    string `json:"from,omitempty"`
	Subject string `json:"subject,omitempty"`
	// Text is the e-mail's text part or the SMS body.
	Text   string `json:"text,omitempty"`
	HTML   string `json:"html,omitempty"`
	Script string `json:"script,omitempty"`
	// ProviderID is the SES or SMS MessageId, or the Connect ContactId.
	ProviderID       string `json:"provider_id"`
	ConfigurationSet string `json:"configuration_set,omitempty"`
	// Instance and Flow are the Connect instance and contact flow.
	Instance string `json:"instance,omitempty"`
	Flow     string `json:"flow,omitempty"`
	// Tags are the SES message tags, the SMS context or the Connect
	// attributes (without the script) exactly as sent.
	Tags map[string]string `json:"tags,omitempty"`
}

// Read reads the outbox file at path. A missing file is an empty outbox.
func Read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer f.Close()
	es, err := Decode(f)
	if err != nil {
		return es, fmt.Errorf("read outbox %s: %w", path, err)
	}
	return es, nil
}

// Decode reads outbox lines. Blank lines are skipped. A last line with no
// newline that does not parse is a write in progress and is left out; any
// other line that does not parse is an error naming its number.
func Decode(r io.Reader) ([]Entry, error) {
	br := bufio.NewReader(r)
	var out []Entry
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		complete := err == nil
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var e Entry
			if jerr := json.Unmarshal(t, &e); jerr != nil {
				if !complete {
					return out, nil
				}
				return out, fmt.Errorf("line %d: %w", n, jerr)
			}
			out = append(out, e)
		}
		if !complete {
			return out, nil
		}
	}
}

// Filter selects entries for Print; zero fields select everything.
type Filter struct {
	Channel string
	// Channels keeps entries on any of these channels, compared like
	// Channel: `recoup outbox --channel sms,voice` asks for several at once.
	Channels []string
	Tenant   string
	Customer string
	Since    time.Time
	// Last keeps only the last n entries that pass the filter (0: all).
	Last int
}

// Match reports whether e passes f (ignoring Last).
func (f Filter) Match(e Entry) bool {
	return (f.Channel == "" || strings.EqualFold(f.Channel, e.Channel)) &&
		(len(f.Channels) == 0 || slices.ContainsFunc(f.Channels, func(c string) bool { return strings.EqualFold(c, e.Channel) })) &&
		(f.Tenant == "" || f.Tenant == e.Tenant) &&
		(f.Customer == "" || f.Customer == e.Customer) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// Select returns the entries that pass f, in their order, keeping only the
// last f.Last. Print shows exactly this selection; other renderings (the
// CLI's JSON) use it so both agree on what "the last n" means.
func (f Filter) Select(entries []Entry) []Entry {
	var sel []Entry
	for _, e := range entries {
		if f.Match(e) {
			sel = append(sel, e)
		}
	}
	if f.Last > 0 && len(sel) > f.Last {
		sel = sel[len(sel)-f.Last:]
	}
	return sel
}

// maxSummary is the width of the subject / first-line column, in runes.
const maxSummary = 60

// Print writes the entries that pass f as a table: time, channel, tenant,
// customer, masked destination, and the subject or first line. The full
// content stays in the file.
func Print(w io.Writer, entries []Entry, f Filter) error {
	sel := f.Select(entries)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCHANNEL\tTENANT\tCUSTOMER\tTO\tSUBJECT / FIRST LINE")
	for _, e := range sel {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05"), cell(e.Channel),
			cell(orDash(e.Tenant)), cell(orDash(e.Customer)), cell(maskedTo(e.To)), cell(Summary(e)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d sends\n", len(sel), len(entries))
	return err
}

// Summary is an entry's subject, else the first non-blank line of its text
// or script, cut to 60 characters.
func Summary(e Entry) string {
	s := e.Subject
	if s == "" {
		s = firstLine(e.Text)
	}
	if s == "" {
		s = firstLine(e.Script)
	}
	if r := []rune(s); len(r) > maxSummary {
		s = string(r[:maxSummary-1]) + "…"
	}
	return s
}

func firstLine(s string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if t := strings.TrimSpace(l); t != "" {
			return t
		}
	}
	return ""
}

func maskedTo(to []string) string {
	switch len(to) {
	case 0:
		return "-"
	case 1:
		return sender.MaskAddress(to[0])
	}
	return fmt.Sprintf("%s +%d", sender.MaskAddress(to[0]), len(to)-1)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell keeps a table cell on one line: tabs, newlines and other control
// characters would break the columns.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
