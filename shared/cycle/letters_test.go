package cycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/preference"
)

func TestLettersAreTrials(t *testing.T) {
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	letter := func(daysAgo int, d compliance.Decision) dispatch.Attempt {
		return dispatch.Attempt{Channel: compliance.ChannelLetter, Decision: d, At: now.AddDate(0, 0, -daysAgo)}
	}
	email := dispatch.Attempt{Channel: compliance.ChannelEmail, Decision: compliance.Allow, At: now.AddDate(0, 0, -30)}
	replied := engagement.Features{Counts: map[string]map[engagement.Signal]int{"letter": {engagement.SignalPaid: 1}}}
	tests := []struct {
		name     string
		f        engagement.Features
		attempts []dispatch.Attempt
		want     preference.Evidence // the channel model's evidence for letters
	}{
		{"no letters", engagement.Features{}, []dispatch.Attempt{email}, preference.Evidence{}},
		{"letters past their window are trials", engagement.Features{},
			[]dispatch.Attempt{letter(30, compliance.Allow), letter(15, compliance.Allow), email}, preference.Evidence{Trials: 2}},
		{"a letter inside its window is not yet", engagement.Features{},
			[]dispatch.Attempt{letter(30, compliance.Allow), letter(3, compliance.Allow)}, preference.Evidence{Trials: 1}},
		{"a blocked letter was never sent", engagement.Features{},
			[]dispatch.Attempt{letter(30, compliance.Block)}, preference.Evidence{}},
		// Before, one payment after one letter read as 1 of 1; with the
		// three letters sent it is 1 of 3.
		{"a response is one success among the letters sent", replied,
			[]dispatch.Attempt{letter(60, compliance.Allow), letter(40, compliance.Allow), letter(20, compliance.Allow)}, preference.Evidence{Trials: 3, Successes: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.f.Clone()
			ev, err := preference.Observe(withLetters(tc.f, tc.attempts, now))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ev[preference.Letter]); d != "" {
				t.Errorf("letter evidence (-want +got):\n%s", d)
			}
			if d := cmp.Diff(before, tc.f, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("the caller's features changed (-before +after):\n%s", d)
			}
		})
	}
}
