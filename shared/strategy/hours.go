package strategy

import (
	"slices"
	"time"
)

// span is a working window of one weekday in minutes after local midnight.
type span struct{ start, end int }

// mergeSpans sorts a day's windows and joins those that overlap or touch,
// so placement walks each day's windows once, in order.
func mergeSpans(s []span) []span {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b span) int { return a.start - b.start })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if x.start <= last.end {
			last.end = max(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}

// inBusinessHours returns the first instant at or after t inside the
// tenant's working windows, in UTC. Windows are wall-clock times of the
// tenant's zone, so a 09:00 start is 09:00 in summer and winter alike; on a
// day when the clocks jump, time.Date moves a start that does not exist to
// the hour after.
func (c *compiled) inBusinessHours(t time.Time) time.Time {
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	// Eight days cover a full week from any instant, plus today's end.
	for i := 0; i <= 7; i++ {
		wd := time.Date(y, m, d+i, 12, 0, 0, 0, c.loc).Weekday()
		for _, w := range c.week[wd] {
			end := time.Date(y, m, d+i, w.end/60, w.end%60, 0, 0, c.loc)
			if !t.Before(end) {
				continue
			}
			start := time.Date(y, m, d+i, w.start/60, w.start%60, 0, 0, c.loc)
			if t.Before(start) {
				return start.UTC()
			}
			return t.UTC()
		}
	}
	return t.UTC() // unreachable: Validate requires a window
}

// dayStart is the first instant of calendar date day (a UTC midnight, as the
// ledger keeps dates) that is on or after that date both in UTC, where the
// ledger counts days past due, and in the tenant's zone, where people read
// dates. Planning from it never acts a day early anywhere.
func (c *compiled) dayStart(day time.Time) time.Time {
	y, m, d := day.UTC().Date()
	utc := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	local := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	if local.After(utc) {
		return local.UTC()
	}
	return utc
}

// addDays adds calendar days in the tenant's zone, so a wait of a week
// starts again at the same local time across a clock change.
func (c *compiled) addDays(t time.Time, days int) time.Time {
	if days == 0 {
		return t
	}
	return t.In(c.loc).AddDate(0, 0, days).UTC()
}
