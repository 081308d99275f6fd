package ebssim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readSeed is the control API's seed: an account in the shape written
// before reads existed, and one with every read-side field.
const readSeed = `{"accounts":[
 {"number":"C-1","currency":"USD","transactions":["INV-1"]},
 {"number":"C-2","currency":"EUR","name":"Jane Doe","party_type":"PERSON","country":"DE","customer_class":"RETAIL",
  "updated_at":"2026-02-01T08:00:00.7Z",
  "contacts":[{"type":"PHONE","line_type":"MOBILE","country_code":"49","area_code":"30","number":"1234567","preference":"DO_NOT","preference_start":"2026-01-10"},
              {"type":"PHONE","line_type":"FAX","number":"999"},
              {"type":"EMAIL","purpose":"BUSINESS","email":"jane@example.com","updated_at":"2026-02-03T00:00:00Z"},
              {"type":"EMAIL","email":"gone@example.com","status":"I"}],
  "addresses":[{"address1":"Unter den Linden 1","city":"Berlin","postal_code":"10117","country":"DE"}],
  "invoices":[{"number":"INV-7","trx_date":"2026-01-05","due_date":"2026-02-04","amount":"100.00","remaining":"40.00","in_dispute":"5"},
              {"number":"INV-8","class":"DM","trx_date":"2026-01-06","due_date":"2026-02-05","amount":"9","status":"CL","closed_date":"2026-01-30"}],
  "receipts":[{"number":"R-1","date":"2026-01-20","amount":"60.00","applied_to":"INV-7"}]}]}`

func seedReads(t *testing.T) string {
	t.Helper()
	ts := serve(t, New(Config{}))
	if status, out := postJSON(t, ts+"/_sim/accounts", readSeed); status != http.StatusOK {
		t.Fatalf("seed: %d %v", status, out)
	}
	return ts
}

// readCall calls a read method with Basic auth and answers its rows and
// X_MORE, failing on anything but success.
func readCall(t *testing.T, base, method string, in map[string]any) ([]map[string]any, string) {
	t.Helper()
	status, out := do(t, nil, request(base, "xx_recoup", method, envelope(method, in)))
	op, _ := out["OutputParameters"].(map[string]any)
	if status != http.StatusOK || op["X_RETURN_STATUS"] != "S" {
		t.Fatalf("%s: %d %v", method, status, out)
	}
	var rows []map[string]any
	for _, r := range op["X_ROWS"].(map[string]any)["X_ROWS_ITEM"].([]any) {
		rows = append(rows, r.(map[string]any))
	}
	return rows, op["X_MORE"].(string)
}

func TestReadMethodsServeSeeds(t *testing.T) {
	ts := seedReads(t)
	seeded := "2026-02-01T08:00:00Z" // whole seconds, as EBS dates
	tests := []struct {
		method string
		want   []map[string]any
	}{
		{"customers", []map[string]any{
			{"CUST_ACCOUNT_ID": acct1, "ACCOUNT_NUMBER": "C-1", "PARTY_ID": party1, "PARTY_NAME": "Customer C-1",
				"PARTY_TYPE": "ORGANIZATION", "CUSTOMER_CLASS_CODE": "", "COUNTRY": ""},
			{"CUST_ACCOUNT_ID": acct2, "ACCOUNT_NUMBER": "C-2", "PARTY_ID": party2, "PARTY_NAME": "Jane Doe",
				"PARTY_TYPE": "PERSON", "CUSTOMER_CLASS_CODE": "RETAIL", "COUNTRY": "DE", "LAST_UPDATE_DATE": seeded}}},
		// The fax and the inactive email are not served; their ids are
		// still taken, as rows in EBS would be.
		{"contact_points", []map[string]any{
			{"CONTACT_POINT_ID": "91001", "CUST_ACCOUNT_ID": acct2, "ACCOUNT_NUMBER": "C-2", "PARTY_TYPE": "PERSON",
				"CONTACT_POINT_TYPE": "PHONE", "CONTACT_POINT_PURPOSE": "", "PHONE_LINE_TYPE": "MOBILE", "PHONE_COUNTRY_CODE": "49",
				"PHONE_AREA_CODE": "30", "PHONE_NUMBER": "1234567", "PHONE_EXTENSION": "", "EMAIL_ADDRESS": "", "COUNTRY": "DE",
				"PREFERENCE_CODE": "DO_NOT", "PREFERENCE_START_DATE": "2026-01-10", "LAST_UPDATE_DATE": seeded},
			{"CONTACT_POINT_ID": "91003", "CUST_ACCOUNT_ID": acct2, "ACCOUNT_NUMBER": "C-2", "PARTY_TYPE": "PERSON",
				"CONTACT_POINT_TYPE": "EMAIL", "CONTACT_POINT_PURPOSE": "BUSINESS", "PHONE_LINE_TYPE": "", "PHONE_COUNTRY_CODE": "",
				"PHONE_AREA_CODE": "", "PHONE_NUMBER": "", "PHONE_EXTENSION": "", "EMAIL_ADDRESS": "jane@example.com", "COUNTRY": "DE",
				"PREFERENCE_CODE": "", "PREFERENCE_START_DATE": "", "LAST_UPDATE_DATE": "2026-02-03T00:00:00Z"}}},
		{"addresses", []map[string]any{
			{"CUST_ACCT_SITE_ID": "93001", "CUST_ACCOUNT_ID": acct2, "ACCOUNT_NUMBER": "C-2", "ADDRESS1": "Unter den Linden 1",
				"ADDRESS2": "", "ADDRESS3": "", "ADDRESS4": "", "CITY": "Berlin", "STATE": "", "PROVINCE": "", "POSTAL_CODE": "10117",
				"COUNTRY": "DE", "PREFERENCE_CODE": "", "PREFERENCE_START_DATE": "", "LAST_UPDATE_DATE": seeded}}},
		// A full read serves open items only; INV-1 is a write-back
		// fixture without receivable data.
		{"open_receivables", []map[string]any{
			{"CUSTOMER_TRX_ID": "20002", "TRX_NUMBER": "INV-7", "CUST_ACCOUNT_ID": acct2, "ACCOUNT_NUMBER": "C-2", "CLASS": "INV",
				"TRX_DATE": "2026-01-05", "DUE_DATE": "2026-02-04", "AMOUNT_DUE_ORIGINAL": "100.00", "AMOUNT_DUE_REMAINING": "40.00",
				"AMOUNT_IN_DISPUTE": "5", "INVOICE_CURRENCY_CODE": "EUR", "STATUS": "OP", "ACTUAL_DATE_CLOSED": "", "INSTALLMENTS": "1",
				"LAST_UPDATE_DATE": seeded}}},
		{"receipts", []map[string]any{
			{"CASH_RECEIPT_ID": "96001", "PAYMENT_SCHEDULE_ID": "98001", "RECEIPT_NUMBER": "R-1", "CUST_ACCOUNT_ID": acct2,
				"ACCOUNT_NUMBER": "C-2", "RECEIPT_DATE": "2026-01-20", "AMOUNT": "60.00", "CURRENCY_CODE": "EUR", "TRX_NUMBER": "INV-7",
				"LAST_UPDATE_DATE": seeded}}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rows, more := readCall(t, ts, tt.method, map[string]any{"P_LIMIT": "500"})
			if more != "N" {
				t.Errorf("X_MORE %s", more)
			}
			for i := range rows {
				if i < len(tt.want) && tt.want[i]["LAST_UPDATE_DATE"] == nil {
					delete(rows[i], "LAST_UPDATE_DATE") // the time C-1 was seeded
				}
			}
			if d := cmp.Diff(tt.want, rows); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	// Invoices seeded for reads are transactions the writes find too.
	in := map[string]any{"P_CUST_ACCOUNT_ID": acct2, "P_TRX_NUMBER": "INV-7"}
	_, body := do(t, nil, request(ts, "xx_recoup", "find_transaction", envelope("find_transaction", in)))
	out, _ := body["OutputParameters"].(map[string]any)
	if out["X_CUSTOMER_TRX_ID"] != "20002" || out["X_CURRENCY_CODE"] != "EUR" {
		t.Errorf("find_transaction: %v", out)
	}
}

// TestReadPagingIsStable: a pull with one row a page sees every account
// once, even when an account is created between its pages; an incremental
// pull sees only what changed since.
func TestReadPagingIsStable(t *testing.T) {
	s := New(Config{})
	ts := serve(t, s)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	if _, err := s.Seed([]AccountSeed{{Number: "A", UpdatedAt: day(1)}, {Number: "B", UpdatedAt: day(2)}, {Number: "C", UpdatedAt: day(3)}}); err != nil {
		t.Fatal(err)
	}
	var got []any
	in := map[string]any{"P_LIMIT": "1"}
	for page := 1; ; page++ {
		rows, more := readCall(t, ts, "customers", in)
		for _, r := range rows {
			got = append(got, r["ACCOUNT_NUMBER"])
		}
		if page == 2 {
			if _, err := s.Seed([]AccountSeed{{Number: "D", UpdatedAt: day(4)}}); err != nil {
				t.Fatal(err)
			}
		}
		if more == "N" {
			break
		}
		in["P_AFTER"] = rows[len(rows)-1]["CUST_ACCOUNT_ID"]
	}
	if d := cmp.Diff([]any{"A", "B", "C", "D"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, tt := range []struct {
		since string
		want  int
	}{{"2026-03-02T00:00:00Z", 3}, {"2026-03-02T01:00:00+02:00", 3}, {"2026-03-02", 3}, {"2026-03-02T00:00:01", 2}, {"2026-03-05", 0}} {
		rows, _ := readCall(t, ts, "customers", map[string]any{"P_LIMIT": "10", "P_UPDATED_SINCE": tt.since})
		if len(rows) != tt.want {
			t.Errorf("since %s: %d rows, want %d", tt.since, len(rows), tt.want)
		}
	}
}

// TestReadSeedAgain: seeding the same items changes nothing; a changed
// item keeps its id and gets the new update time.
func TestReadSeedAgain(t *testing.T) {
	s := New(Config{})
	ts := serve(t, s)
	inv := InvoiceSeed{Number: "INV-1", TrxDate: "2026-01-01", DueDate: "2026-01-31", Amount: "10.00", UpdatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	seed := func(inv InvoiceSeed) {
		t.Helper()
		if _, err := s.Seed([]AccountSeed{{Number: "C-1", Transactions: []string{"INV-1"}, Invoices: []InvoiceSeed{inv}}}); err != nil {
			t.Fatal(err)
		}
	}
	seed(inv)
	again := inv
	again.UpdatedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	seed(again) // the same invoice, seeded later: not a change
	rows, _ := readCall(t, ts, "open_receivables", map[string]any{"P_LIMIT": "10", "P_UPDATED_SINCE": "2026-03-02"})
	if len(rows) != 0 {
		t.Errorf("an unchanged invoice was updated: %v", rows)
	}
	paid := again
	paid.Remaining, paid.Status, paid.ClosedDate = "0", "CL", "2026-03-08"
	seed(paid)
	rows, _ = readCall(t, ts, "open_receivables", map[string]any{"P_LIMIT": "10", "P_UPDATED_SINCE": "2026-03-02"})
	if len(rows) != 1 || rows[0]["CUSTOMER_TRX_ID"] != trx1 || rows[0]["STATUS"] != "CL" || rows[0]["LAST_UPDATE_DATE"] != "2026-03-09T00:00:00Z" {
		t.Errorf("paid invoice: %v", rows)
	}
	if a, _ := s.Account("C-1"); len(a.Transactions) != 1 {
		t.Errorf("transactions %v", a.Transactions)
	}
}

func TestReadRefusals(t *testing.T) {
	ts := seedReads(t)
	tests := []struct {
		name   string
		in     map[string]any
		status int
		want   string // fault code or X_MSG_DATA prefix
	}{
		{"no limit", map[string]any{}, 200, "FND_API_MISSING_PARAM: P_LIMIT"},
		{"limit 0", map[string]any{"P_LIMIT": "0"}, 200, "FND_API_INVALID_PARAM: P_LIMIT 0 is not between 1 and 500"},
		{"limit over 500", map[string]any{"P_LIMIT": "501"}, 200, "FND_API_INVALID_PARAM: P_LIMIT 501"},
		{"a cursor that is not an id", map[string]any{"P_LIMIT": "5", "P_AFTER": "-1"}, 200, "FND_API_INVALID_PARAM: P_AFTER"},
		{"since in words", map[string]any{"P_LIMIT": "5", "P_UPDATED_SINCE": "yesterday"}, 200, "FND_API_INVALID_PARAM: P_UPDATED_SINCE"},
		{"a limit as a JSON number", map[string]any{"P_LIMIT": 5}, 400, "ISG_INVALID_PAYLOAD"},
		{"an offset instead of a cursor", map[string]any{"P_LIMIT": "5", "P_OFFSET": "10"}, 400, "ISG_INVALID_PAYLOAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := do(t, nil, request(ts, "xx_recoup", "receipts", envelope("receipts", tt.in)))
			op, _ := out["OutputParameters"].(map[string]any)
			got := faultCode(out)
			if op != nil {
				got, _ = op["X_MSG_DATA"].(string)
				if op["X_RETURN_STATUS"] != "E" {
					t.Errorf("X_RETURN_STATUS %v", op["X_RETURN_STATUS"])
				}
			}
			if status != tt.status || !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %d %q, want %d %q", status, got, tt.status, tt.want)
			}
		})
	}
}

func TestReadSeedRefusals(t *testing.T) {
	ts := serve(t, New(Config{}))
	for _, body := range []string{
		`{"accounts":[{"number":"C-1","party_type":"COMPANY"}]}`,
		`{"accounts":[{"number":"C-1","country":"Germany"}]}`,
		`{"accounts":[{"number":"C-1","contacts":[{"type":"FAX","number":"1"}]}]}`,
		`{"accounts":[{"number":"C-1","contacts":[{"type":"PHONE"}]}]}`,
		`{"accounts":[{"number":"C-1","contacts":[{"type":"EMAIL","email":"a@b.c","preference":"NEVER"}]}]}`,
		`{"accounts":[{"number":"C-1","addresses":[{"address1":"1 Main St"}]}]}`,
		`{"accounts":[{"number":"C-1","invoices":[{"number":"I","trx_date":"2026-13-01","due_date":"2026-01-01","amount":"1"}]}]}`,
		`{"accounts":[{"number":"C-1","invoices":[{"number":"I","trx_date":"2026-01-01","due_date":"2026-01-01","amount":"1,5"}]}]}`,
		`{"accounts":[{"number":"C-1","invoices":[{"number":"I","trx_date":"2026-01-01","due_date":"2026-01-01","amount":"1","status":"CL"}]}]}`,
		`{"accounts":[{"number":"C-1","invoices":[{"number":"I","trx_date":"2026-01-01","due_date":"2026-01-01","amount":"1"},{"number":"I","trx_date":"2026-01-01","due_date":"2026-01-01","amount":"2"}]}]}`,
		`{"accounts":[{"number":"C-1","receipts":[{"number":"R","date":"2026-01-01","amount":"1","currency":"usd"}]}]}`,
		`{"accounts":[{"number":"C-1","receipts":[{"number":"R","date":"2026-01-01","amount":"1","bank":"X"}]}]}`,
	} {
		if status, out := postJSON(t, ts+"/_sim/accounts", body); status != http.StatusBadRequest {
			t.Errorf("%s: %d %v", body, status, out)
		}
	}
	// A refused seed creates nothing, not even its valid accounts.
	if status, _ := postJSON(t, ts+"/_sim/accounts", `{"accounts":[{"number":"OK"},{"number":"C-1","party_type":"COMPANY"}]}`); status != http.StatusBadRequest {
		t.Errorf("status %d", status)
	}
	var state struct{ Accounts []Account }
	getJSON(t, ts+"/_sim/state", &state)
	if len(state.Accounts) != 0 {
		t.Errorf("accounts %v", state.Accounts)
	}
}
