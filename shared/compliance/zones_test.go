package compliance

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestZoneTablesLoad(t *testing.T) {
	names := slices.Clone(fallbackDayZones)
	for _, zs := range stateZones {
		names = append(names, zs...)
	}
	for _, zs := range areaCodeZones {
		names = append(names, zs...)
	}
	for _, tab := range zipZones {
		for _, z := range tab {
			names = append(names, z)
		}
	}
	for _, n := range names {
		if location(n) == nil {
			t.Errorf("zone %q does not load", n)
		}
	}
	for st := range zipZones {
		if len(stateZones[st]) < 2 {
			t.Errorf("ZIP refinement for single-zone state %s", st)
		}
		for prefix, z := range zipZones[st] {
			if !slices.Contains(stateZones[st], z) {
				t.Errorf("%s %s → %s is not one of the state's zones", st, prefix, z)
			}
		}
	}
}

func TestNumberZones(t *testing.T) {
	tests := []struct {
		number string
		zones  []string
		states []string
	}{
		{"+16145550101", []string{"America/New_York"}, []string{"OH"}},
		{"+14155550123", []string{"America/Los_Angeles"}, []string{"CA"}},
		{"+19075550142", []string{"America/Adak", "America/Anchorage"}, []string{"AK"}},
		{"+18085550123", []string{"Pacific/Honolulu"}, []string{"HI"}},
		{"+16025550123", []string{"America/Phoenix"}, []string{"AZ"}},
		{"+18505550199", []string{"America/New_York", "America/Chicago"}, []string{"FL"}}, // panhandle spans two zones
		{"+12705550100", []string{"America/New_York", "America/Chicago"}, []string{"KY"}}, // western Kentucky is Central
		{"+18005550100", nil, nil}, // toll-free says nothing about place
		{"6145550101", nil, nil},   // not E.164
		{"+1614555", nil, nil},     // invalid
		{"+447911123456", []string{"Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			info := lookupNumber(tt.number)
			var got []string
			for _, l := range info.zones {
				got = append(got, l.String())
			}
			if diff := cmp.Diff(tt.zones, got); diff != "" {
				t.Errorf("zones (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.states, info.states); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddressZones(t *testing.T) {
	tests := []struct {
		state, zip string
		want       []string
	}{
		{"OH", "43215", []string{"America/New_York"}},
		{"FL", "33101", []string{"America/New_York"}},
		{"FL", "32501", []string{"America/Chicago"}},
		{"FL", "32401", []string{"America/New_York", "America/Chicago"}}, // 324 straddles the line
		{"FL", "", []string{"America/New_York", "America/Chicago"}},
		{"TX", "79901", []string{"America/Denver"}},
		{"TX", "75201", []string{"America/Chicago"}},
		{"IN", "46320", []string{"America/Chicago"}},
		{"AZ", "85004", []string{"America/Phoenix"}},
		{"AZ", "86503", []string{"America/Phoenix", "America/Denver"}}, // Navajo Nation keeps DST
		{"HI", "96813", []string{"Pacific/Honolulu"}},
		{"AK", "99501", []string{"America/Anchorage", "America/Adak"}},
		{"AE", "09001", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, addressZones(tt.state, tt.zip)); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.state, tt.zip, diff)
		}
	}
}
