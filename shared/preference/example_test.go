package preference_test

import (
	"fmt"

	"github.com/recoup-dev/recoup/shared/engagement"
	"github.com/recoup-dev/recoup/shared/preference"
)

// A customer who never answered two emails but replied to the one text
// they got: texts come first, among the channels compliance allows today.
func Example() {
	population := []engagement.Features{} // in production, every customer of the tenant
	prior, err := preference.FitPrior(population)
	if err != nil {
		panic(err)
	}
	customer := engagement.Features{Counts: map[string]map[engagement.Signal]int{
		"email": {engagement.SignalDelivered: 2, engagement.SignalOpened: 1},
		"sms":   {engagement.SignalDelivered: 1, engagement.SignalReplied: 1},
	}}
	scores, err := preference.Estimate(prior, customer)
	if err != nil {
		panic(err)
	}
	allowed := []string{preference.Email, preference.SMS, preference.Letter} // from the compliance engine
	choice, err := preference.Choose(scores, allowed, "acme/C000371/2026-03-03", preference.DefaultOptions())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (%.0f%%): %s\n", choice.Channel, 100*choice.P, choice.Reason)
	// Output: sms (40%): responded to texts 1 of 1 times (estimate 40%)
}
