package preference

import (
	"time"

	"github.com/recoup-dev/recoup/shared/engagement"
)

// LetterWindow is how long after a letter is sent a reply to it could
// have come back. Letters have no delivery receipt, so no engagement event
// counts their attempts, and the model would learn from their responses
// alone, reading letters high. A letter the dispatch gate allowed counts
// as a trial once its window has passed; counted earlier, every letter
// still in the post would read as one that went unanswered.
const LetterWindow = 14 * 24 * time.Hour

// WithLetters returns f with the letters sent at least LetterWindow
// before at counted as delivered: trials for Observe. A delivered count
// the features already hold (a receipt from a print vendor, say) is kept
// when larger, so no letter counts twice. f itself is not changed.
func WithLetters(f engagement.Features, at time.Time) engagement.Features {
	n := 0
	for _, sent := range f.Letters {
		if !sent.After(at.Add(-LetterWindow)) {
			n++
		}
	}
	if n == 0 || n <= f.Counts[Letter][engagement.SignalDelivered] {
		return f
	}
	g := f.Clone()
	if g.Counts == nil {
		g.Counts = map[string]map[engagement.Signal]int{}
	}
	if g.Counts[Letter] == nil {
		g.Counts[Letter] = map[engagement.Signal]int{}
	}
	g.Counts[Letter][engagement.SignalDelivered] = n
	return g
}
