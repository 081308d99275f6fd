package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/infra/local/outbox"
)

var outboxAt = time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)

// sampleOutbox is one of each channel over two tenants. The SMS line comes
// after the later e-mail in the file, the way two concurrent sends can
// finish their writes: the command must still list it by time.
func sampleOutbox() []outbox.Entry {
	return []outbox.Entry{
		{Time: outboxAt, Service: "ses", Channel: "email", Tenant: "acme", Customer: "C1", To: []string{"pat@example.com"},
			Subject: "Invoice INV-1 is past due", ProviderID: "e1"},
		{Time: outboxAt.Add(2 * time.Minute), Service: "ses", Channel: "email", Tenant: "acme", Customer: "C2",
			To: []string{"lee@example.com"}, Subject: "Reminder: <INV-2>", HTML: "<p>INV-2</p>", ProviderID: "e2"},
		{Time: outboxAt.Add(time.Minute), Service: "sms-voice", Channel: "sms", Tenant: "acme", Customer: "C1",
			To: []string{"+16175550142"}, Text: "Acme Supply: INV-1 is past due. Reply STOP to opt out.", ProviderID: "s1"},
		{Time: outboxAt.Add(3 * time.Minute), Service: "connect", Channel: "voice", Tenant: "globex", Customer: "C1",
			To: []string{"+16175550199"}, Script: "Hello. This is Globex billing.", ProviderID: "v1"},
		{Time: outboxAt.Add(4 * time.Minute), Service: "connect", Channel: "voice_ai", Tenant: "globex", Customer: "C3",
			To: []string{"+16175550100"}, Script: "Hello, this is a call from Globex.", ProviderID: "a1"},
	}
}

// writeOutbox writes entries as the server does, one JSON line each, and
// returns the file's path.
func writeOutbox(t *testing.T, dir string, entries []outbox.Entry) string {
	t.Helper()
	var b bytes.Buffer
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "outbox.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutboxSelects reads the selection back from --format json, which
// carries the provider ids the table leaves out.
func TestOutboxSelects(t *testing.T) {
	file := writeOutbox(t, t.TempDir(), sampleOutbox())
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"everything, newest last", nil, []string{"e1", "s1", "e2", "v1", "a1"}},
		{"one channel", []string{"--channel", "email"}, []string{"e1", "e2"}},
		{"channels comma-separated, any case", []string{"--channel", "SMS,voice"}, []string{"s1", "v1"}},
		{"channel repeated", []string{"--channel", "sms", "--channel", "voice_ai"}, []string{"s1", "a1"}},
		{"tenant", []string{"--tenant", "globex"}, []string{"v1", "a1"}},
		{"customer across tenants", []string{"--customer", "C1"}, []string{"e1", "s1", "v1"}},
		{"tenant and customer", []string{"--tenant", "acme", "--customer", "C1"}, []string{"e1", "s1"}},
		{"since is inclusive", []string{"--since", "2026-05-04T15:02:00Z"}, []string{"e2", "v1", "a1"}},
		{"since in another zone", []string{"--since", "2026-05-04T11:03:00-04:00"}, []string{"v1", "a1"}},
		{"limit keeps the newest", []string{"--limit", "2"}, []string{"v1", "a1"}},
		{"limit after the filter", []string{"--channel", "email,sms", "--limit", "2"}, []string{"s1", "e2"}},
		{"nothing matches", []string{"--tenant", "initech"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"outbox", "--file", file, "--format", "json"}, tc.args...)
			if code := run(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got, err := outbox.Decode(&out)
			if err != nil {
				t.Fatalf("output is not outbox JSON lines: %v\n%s", err, out.String())
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ProviderID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("sends (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutboxJSONKeepsEverything: the JSON form is for tools, so it carries
// every field unmasked and leaves HTML unescaped.
func TestOutboxJSONKeepsEverything(t *testing.T) {
	es := sampleOutbox()
	file := writeOutbox(t, t.TempDir(), es)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"outbox", "--file", file, "--format", "json", "--customer", "C2"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, err := outbox.Decode(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]outbox.Entry{es[1]}, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if !strings.Contains(out.String(), `"html":"<p>INV-2</p>"`) {
		t.Errorf("HTML escaped in %s", out.String())
	}
}

func TestOutboxText(t *testing.T) {
	file := writeOutbox(t, t.TempDir(), sampleOutbox())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"everything", nil, `TIME                 CHANNEL   TENANT  CUSTOMER  TO                SUBJECT / FIRST LINE
2026-05-04 15:00:00  email     acme    C1        p***@example.com  Invoice INV-1 is past due
2026-05-04 15:01:00  sms       acme    C1        +1********42      Acme Supply: INV-1 is past due. Reply STOP to opt out.
2026-05-04 15:02:00  email     acme    C2        l***@example.com  Reminder: <INV-2>
2026-05-04 15:03:00  voice     globex  C1        +1********99      Hello. This is Globex billing.
2026-05-04 15:04:00  voice_ai  globex  C3        +1********00      Hello, this is a call from Globex.
5 of 5 sends
`},
		{"the newest call", []string{"--channel", "voice,voice_ai", "--limit", "1"}, `TIME                 CHANNEL   TENANT  CUSTOMER  TO            SUBJECT / FIRST LINE
2026-05-04 15:04:00  voice_ai  globex  C3        +1********00  Hello, this is a call from Globex.
1 of 5 sends
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"outbox", "--file", file}, tc.args...), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutboxDefaultFile: without --file the command reads the stack's
// outbox under the state folder, RECOUP_STATE_DIR relative to the repo.
func TestOutboxDefaultFile(t *testing.T) {
	root := t.TempDir()
	t.Setenv("RECOUP_ROOT", root)
	t.Setenv("RECOUP_STATE_DIR", "state")
	writeOutbox(t, filepath.Join(root, "state", "outbox"), sampleOutbox()[:1])
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"outbox"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Invoice INV-1 is past due") || !strings.HasSuffix(out.String(), "1 of 1 sends\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestOutboxMissingFile: a stack that has sent nothing has no file yet;
// that is said plainly and is not a failure. JSON mode keeps stdout empty.
func TestOutboxMissingFile(t *testing.T) {
	root := t.TempDir()
	t.Setenv("RECOUP_ROOT", root)
	t.Setenv("RECOUP_STATE_DIR", "")
	want := "no outbox at " + filepath.Join(root, ".local", "outbox", "outbox.jsonl") +
		": the local stack has sent nothing yet, or is not started (`make up`)\n"
	tests := []struct {
		name           string
		args           []string
		stdout, stderr string
	}{
		{"text", nil, want, ""},
		{"json", []string{"--format", "json"}, "", want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"outbox"}, tc.args...), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if diff := cmp.Diff(tc.stdout, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.stderr, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutboxErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeOutbox(t, dir, sampleOutbox())
	line, _ := json.Marshal(sampleOutbox()[0])
	corrupt := filepath.Join(dir, "corrupt.jsonl")
	if err := os.WriteFile(corrupt, []byte(string(line)+"\n{\"time\": oops\n"+string(line)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"corrupt line", []string{"--file", corrupt}, 1, "corrupt.jsonl: line 2:"},
		{"unknown channel", []string{"--file", good, "--channel", "email,fax"}, 2, `unknown channel "fax"`},
		{"since not RFC 3339", []string{"--file", good, "--since", "2026-05-04"}, 2, `--since "2026-05-04" is not an RFC 3339 time`},
		{"unknown format", []string{"--file", good, "--format", "csv"}, 2, `--format "csv": want text or json`},
		{"negative limit", []string{"--file", good, "--limit", "-1"}, 2, "--limit -1"},
		{"stray argument", []string{"--file", good, "extra"}, 2, `unexpected argument "extra"`},
		{"not a file", []string{"--file", dir}, 1, "recoup outbox:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"outbox"}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.inStderr) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, errOut.String(), tc.code, tc.inStderr)
			}
			if tc.code == 2 && !strings.Contains(errOut.String(), "usage: recoup outbox") {
				t.Errorf("usage error without the usage line: %q", errOut.String())
			}
		})
	}
}
