package compliance

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA data inside the binary: Lambda images need not carry it.

	"github.com/nyaruka/phonenumbers"
)

// Time zones come from every source we have (1006.6(b)(1)(i) and its
// commentary: when information conflicts, the time must be convenient in
// every place the person may be). The sources are the phone numbers
// (libphonenumber's prefix data plus areaCodeZones), the postal state
// (stateZones) refined by ZIP prefix (zipZones).

const (
	nyc = "America/New_York"
	chi = "America/Chicago"
	den = "America/Denver"
	phx = "America/Phoenix"
	lax = "America/Los_Angeles"
	boi = "America/Boise"
	anc = "America/Anchorage"
	adk = "America/Adak"
	hnl = "Pacific/Honolulu"
)

// stateZones lists every zone in use somewhere in each state. Military
// addresses (AA, AE, AP) have no zone: another source must supply one.
var stateZones = map[string][]string{
	"AL": {chi}, "AK": {anc, adk}, "AZ": {phx, den}, // the Navajo Nation keeps DST
	"AR": {chi}, "CA": {lax}, "CO": {den}, "CT": {nyc}, "DE": {nyc}, "DC": {nyc},
	"FL": {nyc, chi}, "GA": {nyc}, "HI": {hnl}, "ID": {boi, lax}, "IL": {chi},
	"IN": {nyc, chi}, "IA": {chi}, "KS": {chi, den}, "KY": {nyc, chi}, "LA": {chi},
	"ME": {nyc}, "MD": {nyc}, "MA": {nyc}, "MI": {nyc, chi}, "MN": {chi}, "MS": {chi},
	"MO": {chi}, "MT": {den}, "NE": {chi, den}, "NV": {lax, den}, // West Wendover keeps Mountain time
	"NH": {nyc}, "NJ": {nyc}, "NM": {den}, "NY": {nyc}, "NC": {nyc}, "ND": {chi, den},
	"OH": {nyc}, "OK": {chi}, "OR": {lax, boi}, "PA": {nyc}, "RI": {nyc}, "SC": {nyc},
	"SD": {chi, den}, "TN": {nyc, chi}, "TX": {chi, den}, "UT": {den}, "VT": {nyc},
	"VA": {nyc}, "WA": {lax}, "WV": {nyc}, "WI": {chi}, "WY": {den},
	"PR": {"America/Puerto_Rico"}, "VI": {"America/St_Thomas"}, "GU": {"Pacific/Guam"},
	"MP": {"Pacific/Saipan"}, "AS": {"Pacific/Pago_Pago"},
	"AA": nil, "AE": nil, "AP": nil,
}

// zipZones narrows a multi-zone state to one zone by the ZIP's first three
// digits, only where every ZIP under the prefix is in that zone. A prefix not
// listed keeps all the state's zones (e.g. FL 324, TX 798, KY 401, 426, 427).
var zipZones = map[string]map[string]string{
	"FL": zipRange(nyc, "320-323", "326-339", "341", "342", "344", "346", "347", "349").with(chi, "325"),
	"TX": zipRange(chi, "733", "750-797").with(den, "799", "885"),
	"IN": zipRange(nyc, "460-462", "467-474", "478").with(chi, "463", "464", "476", "477"),
	"KY": zipRange(nyc, "400", "402-418", "425").with(chi, "420-424"),
	"TN": zipRange(nyc, "374", "376", "378", "379").with(chi, "370-372", "380-385"),
	"MI": zipRange(nyc, "480-497"),
	"ND": zipRange(chi, "580-584", "587"),
	"SD": zipRange(chi, "570-574").with(den, "577"),
	"NE": zipRange(chi, "680", "681", "683-689"),
	"KS": zipRange(chi, "660-676"),
	"OR": zipRange(lax, "970-978"),
	"ID": zipRange(boi, "832-834", "836", "837").with(lax, "838"),
	"AK": zipRange(anc, "996-999"),
	"AZ": zipRange(phx, "850-853", "855-857", "859", "863", "864"),
	"NV": zipRange(lax, "889-897"),
}

// areaCodeZones adds zones libphonenumber leaves out for NANP area codes that
// span a zone line (its data gives one zone per prefix, e.g. +1 219 and +1 270
// come back as New York though much of both is Central).
var areaCodeZones = map[string][]string{
	"850": {nyc, chi}, "219": {chi}, "574": {chi}, "812": {chi}, "930": {chi},
	"270": {chi}, "364": {chi}, "606": {chi}, "423": {chi}, "308": {den},
	"785": {den}, "620": {den}, "432": {den}, "541": {boi}, "458": {boi},
	"775": {den}, "906": {chi}, "928": {den}, "334": {nyc}, "208": {boi, lax},
	"986": {boi, lax}, "701": {den}, "605": {den}, "915": {den},
}

type zipTable map[string]string

func zipRange(zone string, ranges ...string) zipTable { return zipTable{}.with(zone, ranges...) }

func (t zipTable) with(zone string, ranges ...string) zipTable {
	for _, r := range ranges {
		lo, hi, _ := strings.Cut(r, "-")
		if hi == "" {
			hi = lo
		}
		for p := atoi3(lo); p <= atoi3(hi); p++ {
			t[string([]byte{byte('0' + p/100), byte('0' + p/10%10), byte('0' + p%10)})] = zone
		}
	}
	return t
}

func atoi3(s string) int { return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0') }

// stateNames maps libphonenumber's English geocoding names to USPS codes.
var stateNames = map[string]string{
	"Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
	"Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Washington D.C.": "DC",
	"Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
	"Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
	"Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
	"Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
	"Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
	"New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND",
	"Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
	"Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
	"Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington State": "WA",
	"Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
	"Puerto Rico": "PR", "U.S. Virgin Islands": "VI", "Guam": "GU",
	"Northern Mariana Islands": "MP", "American Samoa": "AS",
}

// fallbackDayZones are used only to count calendar days when no source gives
// a zone: a day-based window is then checked in every US zone, so the count is
// the most restrictive one. Time-of-day rules never use them; they block.
var fallbackDayZones = []string{"Pacific/Guam", hnl, adk, anc, lax, den, chi, nyc, "America/Puerto_Rico"}

var locCache sync.Map // zone name → *time.Location (nil when unknown)

// location loads an IANA zone once.
func location(name string) *time.Location {
	if l, ok := locCache.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = nil
	}
	locCache.Store(name, l)
	return l
}

// numberInfo is what the engine needs from a phone number; parsing is not
// free, so each number is looked up once per engine.
type numberInfo struct {
	valid  bool
	zones  []*time.Location
	states []string // from libphonenumber's geocoding, for people with no address
}

// maxNumberZones: a number mapped to more zones than this is not
// geographic (toll-free numbers map to every NANP zone) and says nothing
// about where the person is.
const maxNumberZones = 4

func lookupNumber(number string) *numberInfo {
	info := &numberInfo{}
	if !strings.HasPrefix(number, "+") {
		return info
	}
	n, err := phonenumbers.Parse(number, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return info
	}
	info.valid = true
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
		phonenumbers.UAN, phonenumbers.PERSONAL_NUMBER, phonenumbers.VOIP, phonenumbers.PAGER:
		return info
	}
	names, _ := phonenumbers.GetTimezonesForNumber(n)
	if len(names) > maxNumberZones {
		return info
	}
	if n.GetCountryCode() == 1 {
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		if len(nsn) == 10 {
			names = append(names, areaCodeZones[nsn[:3]]...)
		}
	}
	for _, name := range names {
		if name == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if l := location(name); l != nil {
			info.zones = appendLoc(info.zones, l)
		}
	}
	if n.GetCountryCode() == 1 {
		if geo, err := phonenumbers.GetGeocodingForNumber(n, "en"); err == nil {
			if st := stateFromGeo(geo); st != "" {
				info.states = []string{st}
			}
		}
	}
	return info
}

// stateFromGeo reads "Columbus, OH" or "Ohio" as "OH".
func stateFromGeo(geo string) string {
	if i := strings.LastIndex(geo, ", "); i >= 0 {
		st := geo[i+2:]
		if _, ok := stateZones[st]; ok {
			return st
		}
	}
	return stateNames[geo]
}

// addressZones returns the zones of a postal state, narrowed by ZIP prefix.
func addressZones(state, zip string) []string {
	zones := stateZones[state]
	if len(zones) > 1 && len(zip) >= 3 {
		if z, ok := zipZones[state][zip[:3]]; ok {
			return []string{z}
		}
	}
	return zones
}

func appendLoc(list []*time.Location, l *time.Location) []*time.Location {
	for _, x := range list {
		if x == l {
			return list
		}
	}
	return append(list, l)
}
