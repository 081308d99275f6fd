package preference

import (
	"time"

	"github.com/recoup-dev/recoup/shared/datasets"
)

// BankSplit divides the bank-marketing calls by time: the 2008 calls train
// (fit the priors and the best overall arm), the 2009 and 2010 calls are
// replayed.
var BankSplit = time.Date(2009, time.January, 1, 0, 0, 0, 0, time.UTC)

// bankCaveat says what the bank replay can and cannot show.
const bankCaveat = "Observational data: the bank chose which line to call (cellular, telephone, or not recorded: " +
	"unknown); the contact type was not randomised and goes with who was called and when, so the replay is biased " +
	"and confounded. A policy is credited only on rows where the bank used its pick, and response rates rose " +
	"from about 6% in 2008 to over 50% in late 2010, so a policy matching more late rows looks better for that " +
	"alone. It is an outbound sales campaign, not collections. Read the gaps as indicative, never as the effect " +
	"of a channel. Call duration, known only after the call, is never used."

// BankContext is what a policy may know about a bank client before
// calling: an age band and the previous campaign's outcome. Call duration
// is left out because it is known only after the call (and all but decides
// the outcome); so are the campaign's call count, which includes this call
// and grows until the client says yes, and the date.
func BankContext(c datasets.BankContact) string {
	var age string
	switch {
	case c.Age < 30:
		age = "age <30"
	case c.Age < 45:
		age = "age 30-44"
	case c.Age < 60:
		age = "age 45-59"
	default:
		age = "age 60+"
	}
	return age + ", previous " + c.POutcome
}

// BankLog turns bank calls into logged rows, the contact type as the arm,
// split at split: calls before it train, the others are replayed.
func BankLog(rows []datasets.BankContact, split time.Time) (train, test []Logged) {
	for _, c := range rows {
		l := Logged{Arm: c.Contact, Context: BankContext(c), Period: c.Date.Format("2006-01"), Reward: c.Y}
		if c.Date.Before(split) {
			train = append(train, l)
		} else {
			test = append(test, l)
		}
	}
	return train, test
}

// BankReplay replays the bank-marketing calls split at BankSplit (see
// Replay), with the caveat that the data is observational.
func BankReplay(rows []datasets.BankContact, opts ReplayOptions) (ReplayResult, error) {
	train, test := BankLog(rows, BankSplit)
	res, err := Replay(train, test, opts)
	if err != nil {
		return ReplayResult{}, err
	}
	res.Caveat = bankCaveat
	return res, nil
}
