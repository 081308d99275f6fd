package ranking

import (
	"math"
	"testing"

	"github.com/recoup-dev/recoup/shared/features"
)

func TestDescribe(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		feature   int
		v, effect float64
		want      string
	}{
		{features.DaysPastDue, 45, -0.3, "45 days past due: payment less likely"},
		{features.DaysPastDue, 1, -0.3, "1 day past due: payment less likely"},
		{features.DaysPastDue, 0, 0, "due today"},
		{features.DaysPastDue, -12, 0.2, "due in 12 days: payment more likely"},
		{features.LogAmount, math.Log1p(12400), 0.1, "invoice of 12,400: payment more likely"},
		{features.AmountVsHistory, nan, 0.1, "the customer's first invoice: payment more likely"},
		{features.AmountVsHistory, math.Log(2.5), -0.1, "2.5× the customer's usual invoice: payment less likely"},
		{features.LateShare, 0.7, -1, "paid 70% of past invoices late: payment less likely"},
		{features.LateShare, nan, -1, "no payment history yet: payment less likely"},
		{features.LastDaysLate, 0, 1, "last invoice paid on time: payment more likely"},
		{features.Disputed, 1, -2, "the invoice is in dispute: payment less likely"},
		{features.PromisesBroken, 2, -1, "broke 2 promises to pay: payment less likely"},
		{features.PromisesKept, 1, 1, "kept 1 promise to pay: payment more likely"},
		{features.Paperless, nan, 0.1, "billing medium unknown: payment more likely"},
		{features.DaysSinceSMSResponse, 3, 0.5, "responded by text 3 days ago: payment more likely"},
		{features.DaysSinceVoiceResponse, nan, -0.1, "never responded on a call: payment less likely"},
		{features.DaysSinceContact, nan, 0, "not contacted yet"},
	} {
		if got := Describe(tc.feature, tc.v, tc.effect); got != tc.want {
			t.Errorf("%s = %v: %q, want %q", features.Names[tc.feature], tc.v, got, tc.want)
		}
	}
	// Every feature has words of its own, not the fallback "name = value".
	for j := range features.Count {
		if got := describe(j, 1); got == features.Names[j]+" = 1" {
			t.Errorf("%s has no words", features.Names[j])
		}
	}
}
