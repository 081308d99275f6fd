package drafting

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMeasureSMS(t *testing.T) {
	a := strings.Repeat
	for _, tc := range []struct {
		name string
		text string
		want SMSSize
	}{
		{"empty", "", SMSSize{GSM7, 0, 0}},
		{"one full GSM-7 segment", a("a", 160), SMSSize{GSM7, 160, 1}},
		{"one septet more needs two parts", a("a", 161), SMSSize{GSM7, 161, 2}},
		{"two full parts", a("a", 306), SMSSize{GSM7, 306, 2}},
		{"three parts", a("a", 307), SMSSize{GSM7, 307, 3}},
		{"accents in the basic alphabet stay GSM-7", a("é", 160), SMSSize{GSM7, 160, 1}},
		{"extension characters count two", a("€", 80), SMSSize{GSM7, 160, 1}},
		{"an escape is never split across parts", a("a", 152) + "€" + a("a", 10), SMSSize{GSM7, 164, 2}},
		{"a split escape forces a part", a("a", 152) + "€" + a("a", 152), SMSSize{GSM7, 306, 3}},
		{"one Cyrillic letter means UCS-2", "ж" + a("a", 69), SMSSize{UCS2, 70, 1}},
		{"UCS-2 second part", "ж" + a("a", 70), SMSSize{UCS2, 71, 2}},
		{"UCS-2 two full parts", "ж" + a("a", 133), SMSSize{UCS2, 134, 2}},
		{"emoji are two UTF-16 units", a("🙂", 35), SMSSize{UCS2, 70, 1}},
		{"a surrogate pair is never split", a("a", 66) + "🙂" + "a", SMSSize{UCS2, 69, 1}},
		{"surrogate at a part boundary", a("a", 66) + "🙂" + a("a", 10), SMSSize{UCS2, 78, 2}},
		{"curly quote means UCS-2", "it’s", SMSSize{UCS2, 4, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MeasureSMS(tc.text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMeasureSMSReserve: characters kept for the link count as GSM-7.
func TestMeasureSMSReserve(t *testing.T) {
	if got := measureSMS(strings.Repeat("a", 140), 20); got != (SMSSize{GSM7, 160, 1}) {
		t.Errorf("got %+v", got)
	}
	if got := measureSMS(strings.Repeat("a", 140), 21); got != (SMSSize{GSM7, 161, 2}) {
		t.Errorf("got %+v", got)
	}
}
