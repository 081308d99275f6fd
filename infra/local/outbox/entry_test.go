package outbox

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	line := func(id string) string {
		return `{"time":"2026-05-04T15:04:05Z","service":"ses","channel":"email","to":["a@b.c"],"provider_id":"` + id + `"}`
	}
	tests := []struct {
		name    string
		in      string
		ids     []string
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"lines", line("1") + "\n" + line("2") + "\n", []string{"1", "2"}, ""},
		{"blank lines skipped", "\n" + line("1") + "\n\n  \n" + line("2") + "\n", []string{"1", "2"}, ""},
		{"a whole last line without newline counts", line("1") + "\n" + line("2"), []string{"1", "2"}, ""},
		{"a partial last line is a write in progress", line("1") + "\n" + line("2")[:30], []string{"1"}, ""},
		{"a broken line in the middle is an error", line("1") + "\n{oops\n" + line("2") + "\n", []string{"1"}, "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := Decode(strings.NewReader(tc.in))
			if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ProviderID)
			}
			if diff := cmp.Diff(tc.ids, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMissingFileIsEmpty(t *testing.T) {
	es, err := Read(filepath.Join(t.TempDir(), "none.jsonl"))
	if err != nil || es != nil {
		t.Fatalf("Read of a missing file: %v, %v", es, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.jsonl"), []byte("nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(filepath.Join(dir, "bad.jsonl")); err == nil || !strings.Contains(err.Error(), "bad.jsonl") {
		t.Errorf("Read of a broken file: %v", err)
	}
}

func TestPrint(t *testing.T) {
	at := time.Date(2026, 5, 4, 15, 4, 5, 0, time.UTC)
	es := []Entry{
		{Time: at, Service: "ses", Channel: "email", Tenant: "acme", Customer: "C1", To: []string{"pat@example.com"},
			Subject: "Invoice INV-1\tis overdue", Text: "body"},
		{Time: at.Add(time.Minute), Service: "sms-voice", Channel: "sms", Tenant: "acme", Customer: "C2", To: []string{"+16175550142"},
			Text: "\n  Your invoice INV-2 is 30 days overdue and this line is long enough to be cut off here.\nsecond"},
		{Time: at.Add(2 * time.Minute), Service: "connect", Channel: "voice_ai", Tenant: "globex", Customer: "C3",
			To: []string{"+16175550199"}, Script: "Remind about INV-3"},
		{Time: at.Add(3 * time.Minute), Service: "ses", Channel: "email", To: []string{"a@x.com", "b@x.com"}, Subject: "no tags"},
	}
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"everything", Filter{}, `TIME                 CHANNEL   TENANT  CUSTOMER  TO                SUBJECT / FIRST LINE
2026-05-04 15:04:05  email     acme    C1        p***@example.com  Invoice INV-1 is overdue
2026-05-04 15:05:05  sms       acme    C2        +1********42      Your invoice INV-2 is 30 days overdue and this line is long…
2026-05-04 15:06:05  voice_ai  globex  C3        +1********99      Remind about INV-3
2026-05-04 15:07:05  email     -       -         a***@x.com +1     no tags
4 of 4 sends
`},
		{"one tenant's texts", Filter{Tenant: "acme", Channel: "SMS"}, `TIME                 CHANNEL  TENANT  CUSTOMER  TO            SUBJECT / FIRST LINE
2026-05-04 15:05:05  sms      acme    C2        +1********42  Your invoice INV-2 is 30 days overdue and this line is long…
1 of 4 sends
`},
		{"the last two since a time", Filter{Since: at.Add(time.Minute), Last: 2}, `TIME                 CHANNEL   TENANT  CUSTOMER  TO             SUBJECT / FIRST LINE
2026-05-04 15:06:05  voice_ai  globex  C3        +1********99   Remind about INV-3
2026-05-04 15:07:05  email     -       -         a***@x.com +1  no tags
2 of 4 sends
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Print(&b, es, tc.f); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"pat@example.com", "+16175550142"} {
				if strings.Contains(b.String(), secret) {
					t.Errorf("table shows %s unmasked", secret)
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"time":"2026-05-04T15:04:05Z","service":"ses","channel":"email","to":["a@b.c"],"provider_id":"1"}` + "\n"))
	f.Add([]byte("\n\n{\"to\":null}\n{"))
	f.Add([]byte(`{"tags":{"a":"b"},"time":"bad"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What decodes re-encodes to lines that decode the same.
		var buf bytes.Buffer
		for _, e := range es {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", e, err)
			}
			buf.Write(append(line, '\n'))
		}
		again, err := Decode(&buf)
		if err != nil {
			t.Fatalf("decode of re-encoded entries: %v", err)
		}
		if len(again) != len(es) {
			t.Fatalf("%d entries became %d", len(es), len(again))
		}
		var out bytes.Buffer
		if err := Print(&out, es, Filter{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFilterSelect(t *testing.T) {
	at := time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC)
	es := []Entry{
		{Time: at, Channel: "email", Tenant: "acme", Customer: "C1", ProviderID: "e1"},
		{Time: at.Add(time.Minute), Channel: "sms", Tenant: "acme", Customer: "C2", ProviderID: "s1"},
		{Time: at.Add(2 * time.Minute), Channel: "voice", Tenant: "globex", Customer: "C1", ProviderID: "v1"},
		{Time: at.Add(3 * time.Minute), Channel: "voice_ai", Tenant: "acme", Customer: "C1", ProviderID: "a1"},
		{Time: at.Add(4 * time.Minute), Channel: "email", Tenant: "acme", Customer: "C2", ProviderID: "e2"},
	}
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"everything", Filter{}, []string{"e1", "s1", "v1", "a1", "e2"}},
		{"one channel", Filter{Channel: "email"}, []string{"e1", "e2"}},
		{"several channels, any case", Filter{Channels: []string{"SMS", "voice"}}, []string{"s1", "v1"}},
		{"voice is not voice_ai", Filter{Channels: []string{"voice"}}, []string{"v1"}},
		{"channel and channels both hold", Filter{Channel: "email", Channels: []string{"sms"}}, nil},
		{"channels, tenant and customer", Filter{Channels: []string{"email", "voice_ai"}, Tenant: "acme", Customer: "C1"}, []string{"e1", "a1"}},
		{"since is inclusive", Filter{Since: at.Add(2 * time.Minute)}, []string{"v1", "a1", "e2"}},
		{"the last two that pass", Filter{Channels: []string{"email", "sms", "voice"}, Last: 2}, []string{"v1", "e2"}},
		{"last above the count keeps all", Filter{Customer: "C2", Last: 10}, []string{"s1", "e2"}},
		{"nothing passes", Filter{Tenant: "initech"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range tc.f.Select(es) {
				got = append(got, e.ProviderID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
		})
	}
}
