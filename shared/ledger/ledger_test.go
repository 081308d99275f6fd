package ledger

import (
	"errors"
	"testing"
	"time"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"C-1001", true},
		{"0379-NEVHP", true},
		{"", false},
		{"  ", false},
		{"A#B", false},
		{"line\nbreak", false},
		{string(make([]byte, 129)), false},
	}
	for _, tt := range tests {
		err := ValidateID("customer id", tt.id)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidID)) {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

func TestDaysBetween(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		a, b time.Time
		want int
	}{
		{Date(2026, 1, 1), Date(2026, 1, 31), 30},
		{Date(2026, 3, 1), Date(2026, 3, 31), 30},
		{Date(2026, 2, 1), Date(2026, 1, 1), -31},
		{Date(2024, 2, 28), Date(2024, 3, 1), 2},
		// A local time across the spring-forward change still counts whole UTC dates.
		{time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 12, 0, 0, 0, ny), 2},
	}
	for _, tt := range tests {
		if got := DaysBetween(tt.a, tt.b); got != tt.want {
			t.Errorf("DaysBetween(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
