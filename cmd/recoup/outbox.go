package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/outbox"
)

// outboxChannels are the channels the local stack's fake senders record:
// SES e-mail, End User Messaging SMS, and Connect calls under their
// recoup_channel. A channel outside the list is refused rather than
// matching nothing, so a typo does not read as "nothing was sent".
var outboxChannels = []string{"email", "sms", "voice", "voice_ai", "prerecorded"}

// outboxFile is where the local stack's fake SES/SMS/Connect server
// appends what it accepted: <state dir>/outbox/outbox.jsonl, next to the
// stack's other state, so RECOUP_STATE_DIR moves it with the rest. It must
// agree with the path the stack starts infra/local/cmd/outbox with.
func outboxFile(cfg local.Config) string {
	return filepath.Join(cfg.StateDir, "outbox", "outbox.jsonl")
}

// runOutbox runs `recoup outbox`: it shows what the local stack's fake
// senders would have sent, oldest first and newest last, as a table with
// destinations masked, or as JSON Lines with every field for tools.
func runOutbox(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("outbox", stderr)
	file := fs.String("file", "", "outbox file (default <state dir>/outbox/outbox.jsonl, the state dir being $"+local.EnvStateDir+" or <repo>/.local)")
	var channels []string
	fs.Func("channel", "only sends on these channels, comma-separated or repeated: "+strings.Join(outboxChannels, ", "), func(s string) error {
		for c := range strings.SplitSeq(s, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if !slices.Contains(outboxChannels, c) {
				return fmt.Errorf("unknown channel %q (want %s)", c, strings.Join(outboxChannels, ", "))
			}
			channels = append(channels, c)
		}
		return nil
	})
	customer := fs.String("customer", "", "only sends to this customer")
	tenant := fs.String("tenant", "", "only sends for this tenant")
	since := fs.String("since", "", "only sends at or after this RFC 3339 time, e.g. 2026-05-04T15:00:00Z")
	format := fs.String("format", "text", "text (a table, destinations masked) or json (one full entry per line)")
	limit := fs.Int("limit", 0, "only the newest N sends that match (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want text or json", errUsage, *format)
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit %d: want 0 (all) or more", errUsage, *limit)
	}
	filter := outbox.Filter{Channels: channels, Tenant: *tenant, Customer: *customer, Last: *limit}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return fmt.Errorf("%w: --since %q is not an RFC 3339 time such as 2026-05-04T15:00:00Z", errUsage, *since)
		}
		filter.Since = t
	}

	path := *file
	if path == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		path = outboxFile(local.DefaultConfig(root))
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		// The server creates the file on its first accepted send, so no
		// file is the normal state of a fresh stack, not a failure. In
		// JSON mode the note goes to stderr to keep stdout valid (empty)
		// JSON Lines for whatever reads it.
		w := stdout
		if *format == "json" {
			w = stderr
		}
		fmt.Fprintf(w, "no outbox at %s: the local stack has sent nothing yet, or is not started (`make up`)\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// outbox.Read would also name the line, but it reads a missing file
	// as an empty outbox, which must be told apart above.
	entries, err := outbox.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Lines are appended in the order the writes finish, which concurrent
	// sends can swap; sorting by the send time makes "newest last" and
	// --limit hold whatever the interleaving was.
	slices.SortStableFunc(entries, func(a, b outbox.Entry) int { return a.Time.Compare(b.Time) })

	if *format == "text" {
		return outbox.Print(stdout, entries, filter)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false) // e-mail HTML parts stay readable in jq
	for _, e := range filter.Select(entries) {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
