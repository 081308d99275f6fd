package ranking

import (
	"encoding/json"
	"fmt"
	"math"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Reason is one feature's push on the 30-day pay probability.
type Reason struct {
	Feature string
	// Effect is the push in log-odds: positive makes payment more likely.
	Effect float64
	// Value is the feature's value for the invoice (NaN: unknown).
	Value float64
}

// Text says the reason as a collector would: the fact, then which way it
// pushes. It is worded on demand: a scoring run makes millions of
// reasons and shows a few.
func (r Reason) Text() string { return Describe(featureIndex[r.Feature], r.Value, r.Effect) }

// MarshalJSON writes the reason with its text, and the value as null
// when it is unknown (JSON has no NaN).
func (r Reason) MarshalJSON() ([]byte, error) {
	var v *float64
	if !math.IsNaN(r.Value) {
		v = &r.Value
	}
	return json.Marshal(struct {
		Feature string   `json:"feature"`
		Effect  float64  `json:"effect"`
		Value   *float64 `json:"value"`
		Text    string   `json:"text"`
	}{r.Feature, r.Effect, v, r.Text()})
}

// reasons are the features that moved a row's 30-day probability most;
// there is always at least one, even when every push is zero.
func reasons(rs []scoring.Reason, row []float64, out []Reason) []Reason {
	for i, r := range rs {
		if r.Effect == 0 && i > 0 {
			break
		}
		out = append(out, Reason{Feature: r.Feature, Effect: r.Effect, Value: row[r.Column]})
	}
	return out
}

// english groups thousands ("12,400"): the reasons show scale, not cents.
var english = message.NewPrinter(language.English)

var featureIndex = func() map[string]int {
	m := make(map[string]int, features.Count)
	for i, n := range features.Names {
		m[n] = i
	}
	return m
}()

// Describe says what feature j's value v means, and (by the sign of
// effect) whether it makes payment more or less likely.
func Describe(j int, v, effect float64) string {
	fact := describe(j, v)
	switch {
	case effect > 0:
		return fact + ": payment more likely"
	case effect < 0:
		return fact + ": payment less likely"
	}
	return fact
}

func describe(j int, v float64) string {
	unknown := math.IsNaN(v)
	n := int(math.Round(v))
	plural := func(n int, one, many string) string {
		if n == 1 || n == -1 {
			return fmt.Sprintf(one, n)
		}
		return fmt.Sprintf(many, n)
	}
	noHistory := "no payment history yet"
	switch j {
	case features.DaysPastDue:
		switch {
		case n > 0:
			return plural(n, "%d day past due", "%d days past due")
		case n == 0:
			return "due today"
		}
		return plural(-n, "due in %d day", "due in %d days")
	case features.TermsDays:
		return fmt.Sprintf("%d-day payment terms", n)
	case features.LogAmount:
		return "invoice of " + english.Sprintf("%.0f", math.Max(0, math.Expm1(v)))
	case features.AmountVsHistory:
		if unknown {
			return "the customer's first invoice"
		}
		if r := math.Exp(v); r >= 1 {
			return fmt.Sprintf("%.1f× the customer's usual invoice", r)
		}
		return fmt.Sprintf("smaller than the customer's usual invoice (%.1f×)", math.Exp(v))
	case features.BalanceShare:
		return fmt.Sprintf("%.0f%% of the customer's open balance", 100*v)
	case features.OpenInvoices:
		return plural(n, "%d open invoice", "%d open invoices")
	case features.CustomerAgeDays:
		if n == 0 {
			return "a new customer"
		}
		return plural(n, "customer for %d day", "customer for %d days")
	case features.SettledCount:
		if n == 0 {
			return noHistory
		}
		return plural(n, "%d invoice paid before", "%d invoices paid before")
	case features.LateShare, features.LateShareSmoothed:
		if unknown {
			return noHistory
		}
		return fmt.Sprintf("paid %.0f%% of past invoices late", 100*v)
	case features.DaysLateMean:
		if unknown {
			return noHistory
		}
		return fmt.Sprintf("pays %.0f days late on average", v)
	case features.DaysLateSpread:
		if unknown {
			return noHistory
		}
		return fmt.Sprintf("payment timing varies by about %.0f days", v)
	case features.DaysToPayMean:
		if unknown {
			return noHistory
		}
		return fmt.Sprintf("takes %.0f days to pay on average", v)
	case features.LateTrend:
		switch {
		case unknown:
			return noHistory
		case v > 0:
			return fmt.Sprintf("recent payments %.0f days later than usual", v)
		case v < 0:
			return fmt.Sprintf("recent payments %.0f days sooner than usual", -v)
		}
		return "recent payments on the usual schedule"
	case features.LastDaysLate:
		switch {
		case unknown:
			return noHistory
		case n == 0:
			return "last invoice paid on time"
		}
		return plural(n, "last invoice paid %d day late", "last invoice paid %d days late")
	case features.DaysSincePayment:
		if unknown {
			return "no payment received yet"
		}
		return plural(n, "last payment %d day ago", "last payment %d days ago")
	case features.Disputed:
		if v == 1 {
			return "the invoice is in dispute"
		}
		return "the invoice is not disputed"
	case features.DisputeCount:
		return plural(n, "%d past dispute", "%d past disputes")
	case features.PromisesKept:
		return plural(n, "kept %d promise to pay", "kept %d promises to pay")
	case features.PromisesBroken:
		return plural(n, "broke %d promise to pay", "broke %d promises to pay")
	case features.Paperless:
		switch {
		case unknown:
			return "billing medium unknown"
		case v == 1:
			return "billed electronically"
		}
		return "billed on paper"
	case features.DaysSinceEmailResponse, features.DaysSinceSMSResponse, features.DaysSinceVoiceResponse:
		by := map[int]string{features.DaysSinceEmailResponse: "by email", features.DaysSinceSMSResponse: "by text",
			features.DaysSinceVoiceResponse: "on a call"}[j]
		if unknown {
			return "never responded " + by
		}
		return fmt.Sprintf("responded %s %s", by, plural(n, "%d day ago", "%d days ago"))
	case features.DaysSinceContact:
		if unknown {
			return "not contacted yet"
		}
		return plural(n, "last contacted %d day ago", "last contacted %d days ago")
	}
	return fmt.Sprintf("%s = %g", features.Names[j], v)
}
