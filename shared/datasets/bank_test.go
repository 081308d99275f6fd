package datasets

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const bankPath = "../../../shared/data/uci_bank_marketing_bank-full_with_id.csv"

var bankHeader = strings.Join(BankColumns, ",") + "\n"

func TestReadBank(t *testing.T) {
	in := "\ufeff" + bankHeader +
		"1,58,management,married,tertiary,no,2143,yes,no,unknown,5,may,261,1,-1,0,unknown,no\r\n" +
		"\n" +
		"2,33,blue-collar,single,secondary,yes,-7,no,yes,cellular,31,dec,0,3,92,2,success,yes\n" +
		",72,retired,divorced,primary,no,0,no,no,telephone,4,jan,12,1,-1,0,unknown,no\n"
	got, err := ReadBank(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []BankContact{
		{Line: 2, ID: 1, Age: 58, Job: "management", Marital: "married", Education: "tertiary", Balance: 2143, Housing: true,
			Contact: "unknown", Date: day(2008, time.May, 5), Duration: 261, Campaign: 1, PDays: -1, POutcome: "unknown"},
		{Line: 4, ID: 2, Age: 33, Job: "blue-collar", Marital: "single", Education: "secondary", Default: true, Balance: -7,
			Loan: true, Contact: "cellular", Date: day(2008, time.December, 31), Campaign: 3, PDays: 92, Previous: 2,
			POutcome: "success", Y: true},
		// January after December: the next year.
		{Line: 5, Age: 72, Job: "retired", Marital: "divorced", Education: "primary", Contact: "telephone",
			Date: day(2009, time.January, 4), Duration: 12, Campaign: 1, PDays: -1, POutcome: "unknown"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestReadBankRefuses(t *testing.T) {
	row := func(edit func(f []string)) string {
		f := strings.Split("7,40,services,married,secondary,no,100,yes,no,cellular,5,may,90,1,-1,0,unknown,no", ",")
		edit(f)
		return bankHeader + strings.Join(f, ",") + "\n"
	}
	ok := "1,40,services,married,secondary,no,100,yes,no,cellular,9,may,90,1,-1,0,unknown,no\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"header without ID", strings.TrimPrefix(bankHeader, "ID,"), "line 1: header"},
		{"semicolon header", strings.ReplaceAll(bankHeader, ",", ";"), "line 1: header"},
		{"no rows", bankHeader, "no data rows"},
		{"short row", bankHeader + "1,40\n", "line 2 has 2 columns, the header 18"},
		{"bad quote", bankHeader + `1,4"0,services` + "\n", "line 2"},
		{"id", row(func(f []string) { f[0] = "x" }), `line 2: column ID: "x" is not an integer`},
		{"zero id", row(func(f []string) { f[0] = "0" }), "line 2: column ID: 0 is outside 1.."},
		{"duplicate id", bankHeader + ok + strings.Replace(ok, "9,may", "10,may", 1), "line 3: column ID: 1 already on line 2"},
		{"age", row(func(f []string) { f[1] = "0" }), "line 2: column age: 0 is outside 1..120"},
		{"age float", row(func(f []string) { f[1] = "40.5" }), `line 2: column age: "40.5" is not an integer`},
		{"job", row(func(f []string) { f[2] = "admin" }), `line 2: column job: "admin" is not one of admin., blue-collar`},
		{"marital", row(func(f []string) { f[3] = "widowed" }), `column marital: "widowed" is not one of`},
		{"education", row(func(f []string) { f[4] = "" }), `column education: "" is not one of`},
		{"default", row(func(f []string) { f[5] = "unknown" }), `column default: "unknown" is not yes or no`},
		{"balance", row(func(f []string) { f[6] = "1.5" }), `column balance: "1.5" is not an integer`},
		{"housing", row(func(f []string) { f[7] = "Yes" }), `column housing: "Yes" is not yes or no`},
		{"loan", row(func(f []string) { f[8] = "" }), `column loan: "" is not yes or no`},
		{"contact", row(func(f []string) { f[9] = "email" }), `column contact: "email" is not one of cellular, telephone, unknown`},
		{"day", row(func(f []string) { f[10] = "32" }), "column day: 32 is outside 1..31"},
		{"no such day", row(func(f []string) { f[10], f[11] = "30", "feb" }), "column day: February has no day 30 (year 2008"},
		{"month", row(func(f []string) { f[11] = "May" }), `column month: "May" is not one of jan, feb`},
		{"duration", row(func(f []string) { f[12] = "-1" }), "column duration: -1 is outside 0..1000000"},
		{"campaign", row(func(f []string) { f[13] = "0" }), "column campaign: 0 is outside 1..1000000"},
		{"pdays", row(func(f []string) { f[14] = "-2" }), "column pdays: -2 is outside -1..1000000"},
		{"previous", row(func(f []string) { f[15] = "-1" }), "column previous: -1 is outside 0..1000000"},
		{"poutcome", row(func(f []string) { f[16] = "nonexistent" }), `column poutcome: "nonexistent" is not one of`},
		{"y", row(func(f []string) { f[17] = "1" }), `column y: "1" is not yes or no`},
		{"out of order", bankHeader + ok + strings.Replace(strings.Replace(ok, "1,", "2,", 1), "9,may", "8,may", 1),
			"line 3: column day: 2008-05-08 is before the previous row's 2008-05-09"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadBank(strings.NewReader(tc.in))
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrFormat containing %q", err, tc.want)
			}
		})
	}
}

// The real file: 45,211 calls from 2008-05-05 to 2010-11-17, 11.7% yes, the
// last 9,333 without an ID.
func TestReadBankFile(t *testing.T) {
	f, err := os.Open(bankPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not here: %v", bankPath, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadBank(f)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Rows, Yes, NoID int
		Contacts        map[string]int
		First, Last     string
		Years           map[int]int
	}
	got := summary{Rows: len(rows), Contacts: map[string]int{}, Years: map[int]int{},
		First: rows[0].Date.Format(time.DateOnly), Last: rows[len(rows)-1].Date.Format(time.DateOnly)}
	for _, r := range rows {
		if r.Y {
			got.Yes++
		}
		if r.ID == 0 {
			got.NoID++
		}
		got.Contacts[r.Contact]++
		got.Years[r.Date.Year()]++
	}
	want := summary{Rows: 45211, Yes: 5289, NoID: 9333, First: "2008-05-05", Last: "2010-11-17",
		Contacts: map[string]int{"cellular": 29285, "telephone": 2906, "unknown": 13020},
		Years:    map[int]int{2008: 27729, 2009: 14862, 2010: 2620}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func FuzzReadBank(f *testing.F) {
	f.Add(bankHeader + "1,58,management,married,tertiary,no,2143,yes,no,unknown,5,may,261,1,-1,0,unknown,no\n")
	f.Add(bankHeader + ",33,student,single,unknown,no,-5,no,no,cellular,31,dec,0,2,3,1,failure,yes\n" +
		",34,student,single,unknown,no,-5,no,no,telephone,1,jan,0,2,3,1,other,no\n")
	f.Add("\ufeff" + bankHeader + "\"2\",40,services,married,secondary,no,1,yes,no,cellular,29,feb,9,1,-1,0,unknown,no\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadBank(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
		for i, r := range rows {
			if i > 0 && (r.Line <= rows[i-1].Line || r.Date.Before(rows[i-1].Date)) {
				t.Fatalf("row %d (line %d, %s) not after line %d (%s)", i, r.Line, r.Date, rows[i-1].Line, rows[i-1].Date)
			}
			if r.Date.Year() < BankFirstYear || r.Age < 1 || r.Campaign < 1 || r.PDays < -1 || r.Previous < 0 {
				t.Fatalf("line %d: out-of-range row accepted: %+v", r.Line, r)
			}
		}
	})
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
