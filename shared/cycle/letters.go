package cycle

import (
	"time"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/engagement"
)

// Letters have no delivery receipt, so the engagement features never count
// their attempts and the channel model would learn from their responses
// alone, reading letters high. The contact history knows what was sent: a
// letter the gate allowed counts as a trial once a reply could have come
// back, LetterWindow after it was sent.
const (
	LetterWindow = 14 * 24 * time.Hour
	// letterLookback bounds the history read; older letters say little
	// about today's customer.
	letterLookback = 365 * 24 * time.Hour
)

// withLetters returns f with the letters of the history that are past
// their window counted as delivered: trials for the channel model. A count
// the features already hold (a receipt from a print vendor, say) is kept
// when larger, so no letter counts twice.
func withLetters(f engagement.Features, attempts []dispatch.Attempt, now time.Time) engagement.Features {
	n := 0
	for _, a := range attempts {
		if a.Channel == compliance.ChannelLetter && a.Decision == compliance.Allow && !a.At.After(now.Add(-LetterWindow)) {
			n++
		}
	}
	if n == 0 {
		return f
	}
	g := f.Clone()
	if g.Counts == nil {
		g.Counts = map[string]map[engagement.Signal]int{}
	}
	if g.Counts["letter"] == nil {
		g.Counts["letter"] = map[engagement.Signal]int{}
	}
	g.Counts["letter"][engagement.SignalDelivered] = max(g.Counts["letter"][engagement.SignalDelivered], n)
	return g
}
