package drafting

import (
	"slices"
	"strings"
	"testing"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// benchDraft is one good draft and the facts it was written from.
type benchDraft struct {
	f             Facts
	subject, body string
}

// templateDrafts renders the vetted template for every account of
// factVariants at every dunning level: the drafts the template path sends,
// so every check runs to the end instead of stopping at a violation. The
// order is fixed so runs measure the same sequence.
func templateDrafts(tb testing.TB, ch compliance.Channel) []benchDraft {
	tb.Helper()
	vs := factVariants(ch)
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []benchDraft
	for _, n := range names {
		f := vs[n]
		for lv := LevelReminder; lv <= LevelFinal; lv++ {
			f.Level = lv
			subject, body, _, err := Template(f)
			if err != nil {
				tb.Fatalf("%s/%d/%s: %v", ch, lv, n, err)
			}
			out = append(out, benchDraft{f: f, subject: subject, body: body})
		}
	}
	return out
}

// benchChannels are the channels drafts are checked on most: the text
// channels the cycle sends without a person.
var benchChannels = []compliance.Channel{compliance.ChannelEmail, compliance.ChannelSMS}

// BenchmarkCheckDraft measures CheckDraft, subject and body, over the
// template drafts of a mix of accounts, per channel. cmd/benchmarks reads
// its checks/s for BENCHMARKS.md.
func BenchmarkCheckDraft(b *testing.B) {
	for _, ch := range benchChannels {
		b.Run(string(ch), func(b *testing.B) {
			ds := templateDrafts(b, ch)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				d := &ds[n%len(ds)]
				if vs := CheckDraft(d.f, d.subject, d.body); len(vs) != 0 {
					b.Fatal(vs)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "checks/s")
			b.ReportMetric(float64(len(ds)), "drafts")
		})
	}
}

// bannedSubstrings is the banned-phrase list as a plain substring scan
// would use it: every phrase of phraseRules, lower case, a trailing *
// dropped (a prefix is a substring); phrases with a "#" number slot are
// left out, having no fixed text to look for.
var bannedSubstrings = func() []string {
	var out []string
	for _, r := range phraseRules {
		for _, p := range r.phrases {
			if strings.Contains(p, "#") {
				continue
			}
			out = append(out, strings.ToLower(strings.ReplaceAll(p, "*", "")))
		}
	}
	return out
}()

// scanSink keeps the baseline's result alive so the compiler cannot drop
// the scan.
var scanSink int

// BenchmarkBaselinePhraseScan is the baseline for BenchmarkCheckDraft: the
// obvious filter, the draft lower-cased and searched for every banned
// phrase with strings.Contains, over the same drafts. It counts every hit
// instead of stopping at the first, so drafts that state an intended
// remedy cost the full scan as the others do. It checks no amounts, dates,
// names, numbers, links, disclosures, word boundaries or lengths.
func BenchmarkBaselinePhraseScan(b *testing.B) {
	for _, ch := range benchChannels {
		b.Run(string(ch), func(b *testing.B) {
			ds := templateDrafts(b, ch)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				d := &ds[n%len(ds)]
				s := strings.ToLower(d.subject + "\n" + d.body)
				for _, p := range bannedSubstrings {
					if strings.Contains(s, p) {
						scanSink++
					}
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "scans/s")
			b.ReportMetric(float64(len(bannedSubstrings)), "phrases")
			b.ReportMetric(float64(len(ds)), "drafts")
		})
	}
}

// TestTemplateDraftsForBenchmarks keeps the benchmarks' input honest: a
// mix of accounts on both channels, and not one draft a guardrail refuses.
func TestTemplateDraftsForBenchmarks(t *testing.T) {
	for _, ch := range benchChannels {
		ds := templateDrafts(t, ch)
		if want := len(factVariants(ch)) * int(LevelFinal-LevelReminder+1); len(ds) != want {
			t.Errorf("%s: %d drafts, want %d", ch, len(ds), want)
		}
		for i, d := range ds {
			if vs := CheckDraft(d.f, d.subject, d.body); len(vs) != 0 {
				t.Errorf("%s draft %d fails: %v", ch, i, vs)
			}
			if (ch == compliance.ChannelEmail) != (d.subject != "") {
				t.Errorf("%s draft %d subject %q", ch, i, d.subject)
			}
		}
	}
	// An empty substring would match every draft and measure nothing.
	if i := slices.Index(bannedSubstrings, ""); i >= 0 {
		t.Errorf("banned substring %d is empty", i)
	}
}
