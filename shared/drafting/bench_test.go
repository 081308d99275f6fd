package drafting

import (
	"testing"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// BenchmarkCheck measures guardrail checks of a typical email draft.
func BenchmarkCheck(b *testing.B) {
	f := sampleFacts(compliance.ChannelEmail)
	b.ReportAllocs()
	for b.Loop() {
		if vs := Check(f, goodEmail); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkCheckSMS measures the same for a text message.
func BenchmarkCheckSMS(b *testing.B) {
	f := sampleFacts(compliance.ChannelSMS)
	b.ReportAllocs()
	for b.Loop() {
		if vs := Check(f, goodSMS); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkTemplate measures rendering and checking a template.
func BenchmarkTemplate(b *testing.B) {
	f := sampleFacts(compliance.ChannelEmail)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := Template(f); err != nil {
			b.Fatal(err)
		}
	}
}
