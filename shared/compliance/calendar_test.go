package compliance

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCivilDaysRoundTrip(t *testing.T) {
	for day := daysFromCivil(1900, 1, 1); day < daysFromCivil(2200, 1, 1); day += 17 {
		y, m, d := civilFromDays(day)
		if got := daysFromCivil(y, m, d); got != day {
			t.Fatalf("day %d → %d-%d-%d → %d", day, y, m, d, got)
		}
		if want := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC).Weekday(); weekday(day) != want {
			t.Fatalf("weekday(%d-%d-%d) = %v, want %v", y, m, d, weekday(day), want)
		}
	}
}

func TestLegalHolidays2026(t *testing.T) {
	var got []string
	for _, h := range legalHolidays(2026) {
		y, m, d := civilFromDays(h)
		got = append(got, time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format("Jan 2"))
	}
	want := []string{"Jan 1", "Jan 19", "Feb 16", "May 25", "Jul 4", "Sep 7", "Oct 12", "Nov 11", "Nov 26", "Dec 25", "Jun 19"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAssumedReceipt(t *testing.T) {
	// 1006.34(b)(5): five days excluding weekends and legal public holidays.
	tests := []struct {
		sent, want string
	}{
		{"2026-04-01", "2026-04-08"}, // Wed → Wed, over a weekend
		{"2026-12-21", "2026-12-29"}, // Christmas (Fri) skipped
		{"2026-07-01", "2026-07-09"}, // Jul 4 is a Saturday: observed Fri Jul 3 skipped
		{"2026-11-09", "2026-11-17"}, // Veterans Day (Wed) skipped
		{"2026-06-15", "2026-06-23"}, // Juneteenth (Fri) skipped
	}
	for _, tt := range tests {
		s, _ := time.Parse(time.DateOnly, tt.sent)
		got := addBusinessDays(daysFromCivil(s.Year(), int(s.Month()), s.Day()), 5)
		y, m, d := civilFromDays(got)
		if g := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly); g != tt.want {
			t.Errorf("sent %s: receipt %s, want %s", tt.sent, g, tt.want)
		}
	}
}

func TestDayOfAcrossDST(t *testing.T) {
	ny := location("America/New_York")
	// 23:30 EST on Mar 7 is Mar 8 04:30 UTC; the spring-forward day is one day.
	if dayOf(time.Date(2026, 3, 8, 4, 30, 0, 0, time.UTC), ny) != daysFromCivil(2026, 3, 7) {
		t.Error("23:30 EST belongs to the local day")
	}
	if got := startOfDay(daysFromCivil(2026, 3, 9), ny); !got.Equal(time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("midnight after spring forward = %v", got.UTC())
	}
	if got := atClock(daysFromCivil(2026, 11, 1), 8*60, ny); !got.Equal(time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("08:00 on fall-back day = %v", got.UTC())
	}
}
