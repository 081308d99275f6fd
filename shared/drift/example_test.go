package drift_test

import (
	"fmt"
	"math"

	"github.com/recoup-dev/recoup/shared/drift"
)

// A training job captures the reference; a scoring run compares today's rows
// with it. Here the feed stopped sending days_past_due for half of today's
// rows.
func ExampleCompare() {
	names := []string{"days_past_due", "open_invoices"}
	var train, today drift.Sample
	train.Names, today.Names = names, names
	for i := range 1000 {
		train.X = append(train.X, float64(i%120), float64(i%7))
		train.Scores = append(train.Scores, float64(i%100)/100)
	}
	train.Rows = 1000
	for i := range 400 {
		dpd := float64(30 + i%120)
		if i%2 == 0 {
			dpd = math.NaN() // unknown
		}
		today.X = append(today.X, dpd, float64(i%7))
		today.Scores = append(today.Scores, float64(i%100)/100)
	}
	today.Rows = 400

	ref, err := drift.Capture(train, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := drift.Compare(ref, today, drift.Thresholds{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Level, rep.Alarm())
	for _, c := range rep.Columns {
		fmt.Println(c.Summary)
	}
	fmt.Println(rep.Score.Summary)
	// Output:
	// alarm true
	// days_past_due shifted (PSI 6.03): more rows missing (50.0% now, 0.0% in training)
	// open_invoices stable (PSI 0.00)
	// score stable (PSI 0.00)
}
