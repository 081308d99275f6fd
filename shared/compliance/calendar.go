package compliance

import (
	"fmt"
	"time"
)

// Day-based rules count calendar days in the person's local time. A day is
// an integer (days since 1970-01-01 on the proleptic Gregorian calendar), so
// windows are plain arithmetic and a DST change never adds or loses a day.

// dayOf is t's local calendar day in loc.
func dayOf(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return daysFromCivil(y, int(m), d)
}

// startOfDay is local midnight (or the first instant of the day) of day in loc.
func startOfDay(day int, loc *time.Location) time.Time {
	y, m, d := civilFromDays(day)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
}

// atClock is the instant of minute-of-day m on day in loc.
func atClock(day, m int, loc *time.Location) time.Time {
	y, mo, d := civilFromDays(day)
	return time.Date(y, time.Month(mo), d, m/60, m%60, 0, 0, loc)
}

// daysFromCivil is Howard Hinnant's algorithm.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekday of a day number (1970-01-01 was a Thursday).
func weekday(day int) time.Weekday {
	return time.Weekday(((day+4)%7 + 7) % 7)
}

// dayString formats a day as "Apr 6".
func dayString(day int) string {
	_, m, d := civilFromDays(day)
	return fmt.Sprintf("%s %d", time.Month(m).String()[:3], d)
}

// isBusinessDay says whether day counts toward the 5-day receipt assumption of
// 1006.34(b)(5): not a Saturday, Sunday or legal public holiday (5 USC 6103(a)).
// Both a holiday's date and its observed weekday are excluded, which can only
// push the assumed receipt later and keep the validation period longer.
func isBusinessDay(day int) bool {
	wd := weekday(day)
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	y, _, _ := civilFromDays(day)
	for _, yy := range []int{y - 1, y, y + 1} {
		for _, h := range legalHolidays(yy) {
			if h == day || observed(h) == day {
				return false
			}
		}
	}
	return true
}

// observed moves a Saturday holiday to Friday and a Sunday one to Monday.
func observed(day int) int {
	switch weekday(day) {
	case time.Saturday:
		return day - 1
	case time.Sunday:
		return day + 1
	}
	return day
}

// legalHolidays are the days named in 5 USC 6103(a) for year y.
func legalHolidays(y int) []int {
	nth := func(m int, wd time.Weekday, n int) int {
		first := daysFromCivil(y, m, 1)
		off := (int(wd) - int(weekday(first)) + 7) % 7
		return first + off + 7*(n-1)
	}
	last := func(m int, wd time.Weekday) int {
		next := daysFromCivil(y, m+1, 1) - 1
		off := (int(weekday(next)) - int(wd) + 7) % 7
		return next - off
	}
	hs := []int{
		daysFromCivil(y, 1, 1),    // New Year's Day
		nth(1, time.Monday, 3),    // Birthday of Martin Luther King, Jr.
		nth(2, time.Monday, 3),    // Washington's Birthday
		last(5, time.Monday),      // Memorial Day
		daysFromCivil(y, 7, 4),    // Independence Day
		nth(9, time.Monday, 1),    // Labor Day
		nth(10, time.Monday, 2),   // Columbus Day
		daysFromCivil(y, 11, 11),  // Veterans Day
		nth(11, time.Thursday, 4), // Thanksgiving Day
		daysFromCivil(y, 12, 25),  // Christmas Day
	}
	if y >= 2021 {
		hs = append(hs, daysFromCivil(y, 6, 19)) // Juneteenth National Independence Day
	}
	return hs
}

// addBusinessDays returns the day n business days after day.
func addBusinessDays(day, n int) int {
	for n > 0 {
		day++
		if isBusinessDay(day) {
			n--
		}
	}
	return day
}
