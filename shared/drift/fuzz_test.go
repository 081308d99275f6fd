package drift_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/recoup-dev/recoup/shared/drift"
)

// FuzzDecodeReference feeds the decoder damaged references: it must never
// panic, must refuse with ErrSchema, and whatever it accepts must encode
// back to the same bytes and compare without error and with finite PSI.
func FuzzDecodeReference(f *testing.F) {
	f.Add([]byte(golden))
	for _, c := range corruptions {
		f.Add([]byte(c.data))
	}
	f.Add([]byte(`{"version":"recoup.drift.reference/1","bins":10,"rows":1,"scores":1,"columns":[],"score":{"edges":null,"shares":[1],"missing":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r drift.Reference
		if err := r.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, drift.ErrSchema) {
				t.Fatalf("error %v does not wrap ErrSchema", err)
			}
			return
		}
		first, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted reference does not encode: %v", err)
		}
		var back drift.Reference
		if err := back.UnmarshalJSON(first); err != nil {
			t.Fatalf("re-encoded reference %s refused: %v", first, err)
		}
		if second, _ := json.Marshal(back); string(second) != string(first) {
			t.Fatalf("encoding changed on a round trip:\n%s\n%s", first, second)
		}
		names := r.Names()
		const rows = 3
		x := make([]float64, 0, rows*len(names))
		for i := range rows * len(names) {
			x = append(x, []float64{-1e300, math.NaN(), 1e300}[i%3])
		}
		rep, err := drift.Compare(&r, drift.Sample{Names: names, Rows: rows, X: x, Scores: []float64{0, 0.5, 1}}, drift.Thresholds{})
		if err != nil {
			t.Fatalf("accepted reference cannot compare: %v", err)
		}
		for _, c := range append(rep.Columns, rep.Score) {
			if !(c.PSI >= 0 && !math.IsInf(c.PSI, 0)) {
				t.Fatalf("column %q has PSI %v", c.Name, c.PSI)
			}
		}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("report does not encode: %v", err)
		}
	})
}
