package preference

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/engagement"
)

func TestLettersAreTrials(t *testing.T) {
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	ago := func(days ...int) []time.Time {
		var out []time.Time
		for _, d := range days {
			out = append(out, now.AddDate(0, 0, -d))
		}
		return out
	}
	with := func(letters []time.Time, c map[engagement.Signal]int) engagement.Features {
		f := engagement.Features{Letters: letters}
		if c != nil {
			f.Counts = map[string]map[engagement.Signal]int{Letter: c}
		}
		return f
	}
	tests := []struct {
		name string
		f    engagement.Features
		want Evidence // the channel model's evidence for letters
	}{
		{"no letters", engagement.Features{}, Evidence{}},
		{"letters past their window are trials", with(ago(30, 15), nil), Evidence{Trials: 2}},
		{"a letter exactly one window old counts", with(ago(14), nil), Evidence{Trials: 1}},
		{"a letter inside its window is not yet", with(ago(30, 3), nil), Evidence{Trials: 1}},
		// One payment after one letter would read as 1 of 1; with the
		// three letters sent it is 1 of 3.
		{"a response is one success among the letters sent",
			with(ago(60, 40, 20), map[engagement.Signal]int{engagement.SignalPaid: 1}), Evidence{Trials: 3, Successes: 1}},
		{"a larger receipt count is kept, not added to",
			with(ago(60, 40), map[engagement.Signal]int{engagement.SignalDelivered: 3}), Evidence{Trials: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.f.Clone()
			ev, err := Observe(WithLetters(tc.f, now))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ev[Letter]); d != "" {
				t.Errorf("letter evidence (-want +got):\n%s", d)
			}
			if d := cmp.Diff(before, tc.f, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("the caller's features changed (-before +after):\n%s", d)
			}
		})
	}
}
