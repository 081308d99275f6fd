package oracleebs

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Whatever X_ROWS holds, decoding never panics; what it accepts survives
// being written back as a table, and every accepted row maps onto
// canonical records that encode as JSON, so a Snapshot can always be
// written and any bad value is left for ingest to reject.
func FuzzDecodeRows(f *testing.F) {
	for _, s := range []string{
		`{"X_ROWS_ITEM":[{"CUST_ACCOUNT_ID":"1001","PARTY_TYPE":"PERSON","PARTY_NAME":"Jane"}]}`,
		`{"X_ROWS_ITEM":{"CUSTOMER_TRX_ID":"7","STATUS":"OP","AMOUNT_DUE_REMAINING":"-.5","AMOUNT_IN_DISPUTE":"0.00"}}`,
		`{"X_ROWS_ITEM":[{"CONTACT_POINT_ID":2,"PHONE_COUNTRY_CODE":"+44","PHONE_NUMBER":null,"PREFERENCE_CODE":"DO_NOT","PREFERENCE_START_DATE":"2026-01-01"}]}`,
		`{"@xmlns":"x","X_ROWS_ITEM":[]}`,
		`{"X_ROWS_ITEM":null}`,
		`{}`, `null`, `""`, ``,
		`{"X_ROWS_ITEM":[{"A":{"B":1}}]}`,
		`{"X_ROWS_ITEM":[null,"x",1]}`,
		`{"X_ROWS_ITEM":[{"A":"\ud800","A":"b"}]}`,
		`[[[[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		recs, err := decodeRows(raw)
		for _, spec := range []readSpec{customersSpec, contactsSpec, addressesSpec, receivablesSpec, receiptsSpec} {
			_, _, _, _ = decodePage(output{"X_MORE": json.RawMessage(`"Y"`), "X_ROWS": raw}, spec, 0)
		}
		if err != nil {
			return
		}
		b, err := json.Marshal(map[string]any{"X_ROWS_ITEM": recs})
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeRows(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if d := cmp.Diff(recs, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip (-first +again):\n%s", d)
		}
		for _, r := range recs {
			for _, v := range []any{customerRecord(customerRow(r)), contactRecord(contactPointRow(r)),
				addressRecord(addressRow(r)), invoiceRecord(receivableRow(r)), paymentRecord(receiptRow(r))} {
				b, err := json.Marshal(v)
				if err != nil || !json.Valid(b) || b[0] != '{' {
					t.Fatalf("%+v encodes as %s, %v", v, b, err)
				}
			}
		}
	})
}
