package portfolio

// city is a place with its real 3-digit ZIP prefix (or Canadian forward
// sortation areas) and real area codes, so an address, its ZIP and its phone
// agree the way they do in an ERP. The time zone is noted because the
// compliance engine derives calling hours from it; it is not written out.
type city struct {
	name  string
	zip3  []string // ZIP prefixes (US) or forward sortation areas (CA)
	npas  []string // area codes
	zone  string   // for readers; multi-zone states have cities in each zone
	extra string   // postcode pattern for EU cities, see euPostcode
}

// region is a US state, Canadian province or EU country.
type region struct {
	code   string // USPS state, Canadian province, or ISO country for the EU
	weight int    // relative share of customers
	cities []city
}

// usStates cover every US time zone and deliberately include the states the
// compliance engine has rules or edge cases for: MA, FL, CA, NY, TX, IL, AZ
// (no DST), AK and HI, and multi-zone states (FL 850, TX 915, TN, IN, KY, MI
// 906, ND, SD, NE, KS, ID, OR 541) with a city in each zone. Weights follow
// population roughly, with AK and HI nudged up so small portfolios have some.
var usStates = []region{
	{"CA", 120, []city{
		{"Los Angeles", []string{"900"}, []string{"213", "323", "310"}, "Pacific", ""},
		{"San Francisco", []string{"941"}, []string{"415", "628"}, "Pacific", ""},
		{"San Diego", []string{"921"}, []string{"619", "858"}, "Pacific", ""},
		{"Sacramento", []string{"958"}, []string{"916"}, "Pacific", ""},
		{"Fresno", []string{"937"}, []string{"559"}, "Pacific", ""},
		{"San Jose", []string{"951"}, []string{"408"}, "Pacific", ""},
		{"Oakland", []string{"946"}, []string{"510"}, "Pacific", ""},
		{"Pasadena", []string{"911"}, []string{"626"}, "Pacific", ""},
	}},
	{"TX", 90, []city{
		{"Houston", []string{"770"}, []string{"713", "281", "832", "346"}, "Central", ""},
		{"Dallas", []string{"752"}, []string{"214", "469", "972", "945"}, "Central", ""},
		{"Austin", []string{"787"}, []string{"512", "737"}, "Central", ""},
		{"San Antonio", []string{"782"}, []string{"210", "726"}, "Central", ""},
		{"El Paso", []string{"799"}, []string{"915"}, "Mountain", ""},
	}},
	{"FL", 65, []city{
		{"Miami", []string{"331"}, []string{"305", "786"}, "Eastern", ""},
		{"Orlando", []string{"328"}, []string{"407", "321"}, "Eastern", ""},
		{"Tampa", []string{"336"}, []string{"813", "727"}, "Eastern", ""},
		{"Jacksonville", []string{"322"}, []string{"904"}, "Eastern", ""},
		{"Fort Lauderdale", []string{"333"}, []string{"954"}, "Eastern", ""},
		{"Tallahassee", []string{"323"}, []string{"850"}, "Eastern", ""},
		{"Pensacola", []string{"325"}, []string{"850"}, "Central", ""},
	}},
	{"NY", 60, []city{
		{"New York", []string{"100", "101"}, []string{"212", "646", "917", "332"}, "Eastern", ""},
		{"Brooklyn", []string{"112"}, []string{"718", "347", "929"}, "Eastern", ""},
		{"Buffalo", []string{"142"}, []string{"716"}, "Eastern", ""},
		{"Albany", []string{"122"}, []string{"518"}, "Eastern", ""},
		{"Rochester", []string{"146"}, []string{"585"}, "Eastern", ""},
		{"Syracuse", []string{"132"}, []string{"315"}, "Eastern", ""},
	}},
	{"PA", 40, []city{
		{"Philadelphia", []string{"191"}, []string{"215", "267"}, "Eastern", ""},
		{"Pittsburgh", []string{"152"}, []string{"412"}, "Eastern", ""},
		{"Harrisburg", []string{"171"}, []string{"717"}, "Eastern", ""},
		{"Allentown", []string{"181"}, []string{"610", "484"}, "Eastern", ""},
	}},
	{"IL", 38, []city{
		{"Chicago", []string{"606"}, []string{"312", "773", "872"}, "Central", ""},
		{"Springfield", []string{"627"}, []string{"217"}, "Central", ""},
		{"Peoria", []string{"616"}, []string{"309"}, "Central", ""},
		{"Rockford", []string{"611"}, []string{"815", "779"}, "Central", ""},
		{"Naperville", []string{"605"}, []string{"630"}, "Central", ""},
	}},
	{"OH", 35, []city{
		{"Columbus", []string{"432"}, []string{"614"}, "Eastern", ""},
		{"Cleveland", []string{"441"}, []string{"216"}, "Eastern", ""},
		{"Cincinnati", []string{"452"}, []string{"513"}, "Eastern", ""},
		{"Toledo", []string{"436"}, []string{"419", "567"}, "Eastern", ""},
	}},
	{"GA", 32, []city{
		{"Atlanta", []string{"303"}, []string{"404", "678", "470"}, "Eastern", ""},
		{"Savannah", []string{"314"}, []string{"912"}, "Eastern", ""},
	}},
	{"NC", 32, []city{
		{"Charlotte", []string{"282"}, []string{"704", "980"}, "Eastern", ""},
		{"Raleigh", []string{"276"}, []string{"919", "984"}, "Eastern", ""},
	}},
	{"MI", 30, []city{
		{"Detroit", []string{"482"}, []string{"313"}, "Eastern", ""},
		{"Grand Rapids", []string{"495"}, []string{"616"}, "Eastern", ""},
		{"Marquette", []string{"498"}, []string{"906"}, "Eastern", ""},
		{"Iron Mountain", []string{"498"}, []string{"906"}, "Central", ""},
	}},
	{"NJ", 28, []city{
		{"Newark", []string{"071"}, []string{"973", "862"}, "Eastern", ""},
		{"Jersey City", []string{"073"}, []string{"201", "551"}, "Eastern", ""},
		{"Trenton", []string{"086"}, []string{"609"}, "Eastern", ""},
	}},
	{"VA", 26, []city{
		{"Richmond", []string{"232"}, []string{"804"}, "Eastern", ""},
		{"Virginia Beach", []string{"234"}, []string{"757"}, "Eastern", ""},
		{"Arlington", []string{"222"}, []string{"703", "571"}, "Eastern", ""},
		{"Roanoke", []string{"240"}, []string{"540"}, "Eastern", ""},
	}},
	{"WA", 23, []city{
		{"Seattle", []string{"981"}, []string{"206"}, "Pacific", ""},
		{"Spokane", []string{"992"}, []string{"509"}, "Pacific", ""},
		{"Tacoma", []string{"984"}, []string{"253"}, "Pacific", ""},
		{"Bellevue", []string{"980"}, []string{"425"}, "Pacific", ""},
	}},
	{"AZ", 22, []city{
		{"Phoenix", []string{"850"}, []string{"602", "480", "623"}, "Mountain (no DST)", ""},
		{"Tucson", []string{"857"}, []string{"520"}, "Mountain (no DST)", ""},
		{"Flagstaff", []string{"860"}, []string{"928"}, "Mountain (no DST)", ""},
	}},
	{"MA", 21, []city{
		{"Boston", []string{"021"}, []string{"617", "857"}, "Eastern", ""},
		{"Worcester", []string{"016"}, []string{"508", "774"}, "Eastern", ""},
		{"Springfield", []string{"011"}, []string{"413"}, "Eastern", ""},
		{"Lowell", []string{"018"}, []string{"978", "351"}, "Eastern", ""},
	}},
	{"TN", 21, []city{
		{"Nashville", []string{"372"}, []string{"615", "629"}, "Central", ""},
		{"Knoxville", []string{"379"}, []string{"865"}, "Eastern", ""},
		{"Memphis", []string{"381"}, []string{"901"}, "Central", ""},
	}},
	{"IN", 20, []city{
		{"Indianapolis", []string{"462"}, []string{"317"}, "Eastern", ""},
		{"Gary", []string{"464"}, []string{"219"}, "Central", ""},
		{"Evansville", []string{"477"}, []string{"812"}, "Central", ""},
	}},
	{"MD", 18, []city{
		{"Baltimore", []string{"212"}, []string{"410", "443"}, "Eastern", ""},
		{"Silver Spring", []string{"209"}, []string{"301", "240"}, "Eastern", ""},
	}},
	{"MO", 18, []city{
		{"St. Louis", []string{"631"}, []string{"314"}, "Central", ""},
		{"Kansas City", []string{"641"}, []string{"816"}, "Central", ""},
		{"Springfield", []string{"658"}, []string{"417"}, "Central", ""},
	}},
	{"WI", 18, []city{
		{"Milwaukee", []string{"532"}, []string{"414"}, "Central", ""},
		{"Madison", []string{"537"}, []string{"608"}, "Central", ""},
		{"Green Bay", []string{"543"}, []string{"920"}, "Central", ""},
	}},
	{"CO", 17, []city{
		{"Denver", []string{"802"}, []string{"303", "720"}, "Mountain", ""},
		{"Colorado Springs", []string{"809"}, []string{"719"}, "Mountain", ""},
		{"Fort Collins", []string{"805"}, []string{"970"}, "Mountain", ""},
	}},
	{"MN", 17, []city{
		{"Minneapolis", []string{"554"}, []string{"612"}, "Central", ""},
		{"St. Paul", []string{"551"}, []string{"651"}, "Central", ""},
		{"Duluth", []string{"558"}, []string{"218"}, "Central", ""},
	}},
	{"LA", 14, []city{
		{"New Orleans", []string{"701"}, []string{"504"}, "Central", ""},
		{"Baton Rouge", []string{"708"}, []string{"225"}, "Central", ""},
		{"Shreveport", []string{"711"}, []string{"318"}, "Central", ""},
	}},
	{"OR", 13, []city{
		{"Portland", []string{"972"}, []string{"503", "971"}, "Pacific", ""},
		{"Eugene", []string{"974"}, []string{"541", "458"}, "Pacific", ""},
		{"Ontario", []string{"979"}, []string{"541"}, "Mountain", ""},
	}},
	{"KY", 13, []city{
		{"Louisville", []string{"402"}, []string{"502"}, "Eastern", ""},
		{"Bowling Green", []string{"421"}, []string{"270"}, "Central", ""},
		{"Lexington", []string{"405"}, []string{"859"}, "Eastern", ""},
	}},
	{"UT", 10, []city{
		{"Salt Lake City", []string{"841"}, []string{"801", "385"}, "Mountain", ""},
		{"St. George", []string{"847"}, []string{"435"}, "Mountain", ""},
	}},
	{"NV", 10, []city{
		{"Las Vegas", []string{"891"}, []string{"702", "725"}, "Pacific", ""},
		{"Reno", []string{"895"}, []string{"775"}, "Pacific", ""},
	}},
	{"KS", 9, []city{
		{"Wichita", []string{"672"}, []string{"316"}, "Central", ""},
		{"Goodland", []string{"677"}, []string{"785"}, "Mountain", ""},
	}},
	{"NM", 6, []city{
		{"Albuquerque", []string{"871"}, []string{"505"}, "Mountain", ""},
		{"Las Cruces", []string{"880"}, []string{"575"}, "Mountain", ""},
	}},
	{"NE", 6, []city{
		{"Omaha", []string{"681"}, []string{"402", "531"}, "Central", ""},
		{"North Platte", []string{"691"}, []string{"308"}, "Central", ""},
		{"Scottsbluff", []string{"693"}, []string{"308"}, "Mountain", ""},
	}},
	{"ID", 6, []city{
		{"Boise", []string{"837"}, []string{"208", "986"}, "Mountain", ""},
		{"Coeur d'Alene", []string{"838"}, []string{"208"}, "Pacific", ""},
	}},
	{"HI", 5, []city{
		{"Honolulu", []string{"968"}, []string{"808"}, "Hawaii (no DST)", ""},
		{"Hilo", []string{"967"}, []string{"808"}, "Hawaii (no DST)", ""},
	}},
	{"AK", 4, []city{
		{"Anchorage", []string{"995"}, []string{"907"}, "Alaska", ""},
		{"Fairbanks", []string{"997"}, []string{"907"}, "Alaska", ""},
		{"Juneau", []string{"998"}, []string{"907"}, "Alaska", ""},
	}},
	{"SD", 3, []city{
		{"Sioux Falls", []string{"571"}, []string{"605"}, "Central", ""},
		{"Rapid City", []string{"577"}, []string{"605"}, "Mountain", ""},
	}},
	{"ND", 2, []city{
		{"Fargo", []string{"581"}, []string{"701"}, "Central", ""},
		{"Dickinson", []string{"586"}, []string{"701"}, "Mountain", ""},
	}},
}

// mustCover are the states every portfolio has, with an address and a
// matching phone, whatever its size: the compliance tests need them.
var mustCover = []string{"MA", "FL", "CA", "NY", "TX", "IL", "AZ", "AK", "HI"}

// forcedMismatch are (address state, phone state) pairs every portfolio has:
// a phone whose area code is in another state (and maybe another time zone)
// than the customer's address, for the multi-zone calling-hours logic.
var forcedMismatch = [][2]string{{"FL", "MA"}, {"AZ", "CA"}, {"TX", "NY"}, {"HI", "IL"}}

// caProvinces hold the Canadian (CAD) business accounts.
var caProvinces = []region{
	{"ON", 40, []city{
		{"Toronto", []string{"M5V", "M4C", "M6H"}, []string{"416", "647"}, "Eastern", ""},
		{"Ottawa", []string{"K1P", "K2B"}, []string{"613"}, "Eastern", ""},
	}},
	{"QC", 22, []city{{"Montreal", []string{"H2X", "H3B"}, []string{"514", "438"}, "Eastern", ""}}},
	{"BC", 14, []city{{"Vancouver", []string{"V6B", "V5K"}, []string{"604", "778"}, "Pacific", ""}}},
	{"AB", 12, []city{{"Calgary", []string{"T2P", "T3A"}, []string{"403", "587"}, "Mountain", ""}}},
	{"NS", 4, []city{{"Halifax", []string{"B3H", "B3J"}, []string{"902"}, "Atlantic", ""}}},
}

// euCountries hold the EUR business accounts. They get email and postal
// contacts only: the phone rules Recoup implements are North American.
var euCountries = []region{
	{"IE", 30, []city{{"Dublin", nil, nil, "", "ie-dublin"}, {"Cork", nil, nil, "", "ie-cork"}}},
	{"DE", 30, []city{{"Berlin", nil, nil, "", "de-berlin"}, {"Hamburg", nil, nil, "", "de-hamburg"}}},
	{"FR", 25, []city{{"Paris", nil, nil, "", "fr-paris"}, {"Lyon", nil, nil, "", "fr-lyon"}}},
	{"NL", 15, []city{{"Amsterdam", nil, nil, "", "nl-amsterdam"}, {"Rotterdam", nil, nil, "", "nl-rotterdam"}}},
}

// Word lists for synthetic names. Surnames are built from two syllables so
// that no generated person is a real one.
var (
	firstNames = []string{
		"Alex", "Avery", "Blair", "Cameron", "Casey", "Dana", "Drew", "Elliot", "Emerson", "Finley",
		"Harper", "Hayden", "Jamie", "Jordan", "Kai", "Kendall", "Logan", "Morgan", "Noel", "Parker",
		"Peyton", "Quinn", "Reese", "Riley", "Rowan", "Sage", "Sawyer", "Skyler", "Taylor", "Tatum",
	}
	surnameHeads = []string{
		"Ash", "Bram", "Cal", "Dun", "Fen", "Gar", "Hal", "Kel", "Lind", "Mar",
		"Nor", "Pel", "Quen", "Ros", "Stan", "Thorn", "Vel", "Wex", "Yar", "Zel",
	}
	surnameTails = []string{
		"wick", "mont", "ford", "ley", "ridge", "holt", "by", "more", "ston", "dale",
		"field", "worth", "ton", "brook", "wood",
	}
	businessHeads = []string{
		"Harbor", "Summit", "Cedar", "Granite", "Lakeside", "Copper", "Prairie", "Redwood", "Silverline", "Maple",
		"Ironwood", "Brightwater", "Crescent", "Pioneer", "Evergreen", "Falcon", "Riverbend", "Oakhollow", "Westgate", "Bluestem",
		"Northgate", "Sandpiper", "Tamarack", "Juniper", "Kestrel", "Larkspur", "Meridian", "Orchard", "Quarry", "Thistle",
	}
	businessNouns = []string{
		"Logistics", "Supply", "Dental", "Builders", "Foods", "Electric", "Media", "Labs", "Outfitters", "Metalworks",
		"Analytics", "Freight", "Textiles", "Hardware", "Bakery", "Consulting", "Printing", "Landscaping", "Plumbing", "Optics",
	}
	// A suffix starting with a comma makes the CSV writer quote the name,
	// which exercises the importer's RFC 4180 handling.
	businessSuffixes = []string{"LLC", "Inc.", "Co.", ", Inc.", "Group", "Partners", "Ltd.", "Corp.", ", LLC"}
	streets          = []string{
		"Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
		"River", "Church", "Mill", "Spring", "Ridge", "Sunset", "Highland", "Meadow", "Forest", "Willow",
	}
	streetTypes = []string{"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Way", "Ct"}
	// RFC 2606 reserves these; no email goes anywhere real.
	emailDomains = []string{"example.com", "example.org", "example.net"}
	apMailboxes  = []string{"ap", "accounts.payable", "billing", "finance", "payables"}
)
