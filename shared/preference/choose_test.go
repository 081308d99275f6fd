package preference

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/engagement"
)

var everyChannel = Channels()

// collectionsPrior is a population where email answers best, then texts.
var collectionsPrior = Prior{Channels: map[string]ChannelPrior{
	Email: {Rate: 0.20, Strength: 10}, SMS: {Rate: 0.15, Strength: 10}, Voice: {Rate: 0.10, Strength: 10},
	AIVoice: {Rate: 0.08, Strength: 10}, Letter: {Rate: 0.05, Strength: 10},
}}

// apply runs events through the engagement consumer's own Effects, so the
// features are exactly what production keeps.
func apply(t *testing.T, evs ...events.Event) engagement.Features {
	t.Helper()
	var st engagement.State
	for _, ev := range evs {
		fx, err := st.Effects(ev)
		if err != nil {
			t.Fatal(err)
		}
		st.Features = fx.Features
	}
	return st.Features
}

func event(n int, ch events.Channel, p events.Payload) events.Event {
	return events.Event{ID: fmt.Sprintf("ev-%d", n), Tenant: "acme", Customer: "C1", Channel: ch, ContactPoint: "+16175550123",
		OccurredAt: time.Date(2026, 3, 2, 15, n, 0, 0, time.UTC), Source: "test", Payload: p}
}

// The requirement: one reply changes the next choice, with no
// retrain in between.
func TestOneReplyChangesTheNextChoice(t *testing.T) {
	tests := []struct {
		name   string
		events []events.Event
		want   Choice
	}{
		{"no history: the population's best", nil,
			Choice{Channel: Email, P: 0.2, Greedy: Email, Reason: "no emails tried yet; best population rate (20%)"}},
		{"one text reply", []events.Event{event(1, events.ChannelSMS, events.SMSDelivered{}),
			event(2, events.ChannelSMS, events.SMSInbound{Text: "ok will pay friday"})},
			Choice{Channel: SMS, P: 2.5 / 11, Greedy: SMS, Reason: "responded to texts 1 of 1 times (estimate 23%)"}},
		{"a reply whose delivery receipt never came", []events.Event{event(2, events.ChannelSMS, events.SMSInbound{Text: "call me"})},
			Choice{Channel: SMS, P: 2.5 / 11, Greedy: SMS, Reason: "responded to texts 1 of 1 times (estimate 23%)"}},
		{"a text delivered, no reply", []events.Event{event(1, events.ChannelSMS, events.SMSDelivered{})},
			Choice{Channel: Email, P: 0.2, Greedy: Email, Reason: "no emails tried yet; best population rate (20%)"}},
		{"STOP is no useful response", []events.Event{event(1, events.ChannelSMS, events.SMSDelivered{}),
			event(2, events.ChannelSMS, events.SMSInbound{Text: "STOP"})},
			Choice{Channel: Email, P: 0.2, Greedy: Email, Reason: "no emails tried yet; best population rate (20%)"}},
		{"two AI calls answered (events spell it voice_ai)", []events.Event{
			event(1, events.ChannelVoiceAI, events.CallOutcome{Outcome: events.OutcomeConversation, AttemptID: "a1"}),
			event(2, events.ChannelVoiceAI, events.CallOutcome{Outcome: events.OutcomeConnected, AttemptID: "a2"})},
			Choice{Channel: AIVoice, P: 2.8 / 12, Greedy: AIVoice, Reason: "responded to AI calls 2 of 2 times (estimate 23%)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scores, err := Estimate(collectionsPrior, apply(t, tc.events...))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Choose(scores, everyChannel, "acme/C1/2026-03-03", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("choice (-want +got):\n%s", diff)
			}
			// With exploration on, the bound leaves the greedy choice in
			// at least nine choices in ten.
			greedy := 0
			for day := range 1000 {
				c, err := Choose(scores, everyChannel, fmt.Sprintf("acme/C1/%d", day), DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				if c.Channel == tc.want.Channel {
					greedy++
				}
			}
			if greedy < 880 {
				t.Errorf("%d of 1000 keys chose %s, want at least 880", greedy, tc.want.Channel)
			}
		})
	}
}

var approx = cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })

// beta returns a score with the posterior Beta(alpha, beta).
func beta(ch string, alpha, b float64, trials, successes int) ChannelScore {
	return ChannelScore{Channel: ch, P: alpha / (alpha + b), Alpha: alpha, Beta: b, Trials: trials, Successes: successes}
}

func TestChoose(t *testing.T) {
	scores := []ChannelScore{
		beta(Email, 3, 7, 4, 1),      // 30%
		beta(SMS, 2.7, 7.3, 6, 2),    // 27%
		beta(Voice, 1, 9, 5, 0),      // 10%
		beta(Letter, 0.5, 9.5, 0, 0), // 5%
	}
	tests := []struct {
		name    string
		allowed []string
		opts    Options
		want    Choice
	}{
		{"the best estimate", everyChannel, Options{},
			Choice{Channel: Email, P: 0.3, Greedy: Email, Reason: "responded to emails 1 of 4 times (estimate 30%)"}},
		{"never a channel compliance does not allow", []string{SMS, Voice}, Options{},
			Choice{Channel: SMS, P: 0.27, Greedy: SMS, Reason: "responded to texts 2 of 6 times (estimate 27%)"}},
		{"the only channel allowed", []string{Voice, "fax"}, DefaultOptions(),
			Choice{Channel: Voice, P: 0.1, Greedy: Voice, Reason: "only channel allowed; responded to calls 0 of 5 times (estimate 10%)"}},
		// A response worth $10 and an email costing 50 cents: 30% - 5%
		// is less than the free text's 27%.
		{"net of cost", everyChannel, Options{Value: 1000, Cost: map[string]int64{Email: 50}},
			Choice{Channel: SMS, P: 0.27, Greedy: SMS, Reason: "responded to texts 2 of 6 times (estimate 27%), net of cost"}},
		{"a cost too small to matter", everyChannel, Options{Value: 1000, Cost: map[string]int64{Email: 20}},
			Choice{Channel: Email, P: 0.3, Greedy: Email, Reason: "responded to emails 1 of 4 times (estimate 30%), net of cost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Choose(scores, tc.allowed, "k", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, approx); diff != "" {
				t.Errorf("choice (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChooseRefuses(t *testing.T) {
	scores := []ChannelScore{beta(Email, 3, 7, 4, 1), beta(SMS, 2.7, 7.3, 6, 2)}
	tests := []struct {
		name    string
		scores  []ChannelScore
		allowed []string
		opts    Options
		is      error
		want    string
	}{
		{"nothing allowed", scores, nil, Options{}, ErrNoChannel, `allowed [], scored ["email" "sms"]`},
		{"nothing allowed is scored", scores, []string{"fax"}, Options{}, ErrNoChannel, `allowed ["fax"]`},
		{"explore share", scores, everyChannel, Options{ExploreShare: 1.5}, ErrInvalid, "explore share 1.5 is not within [0, 1]"},
		{"regret bound", scores, everyChannel, Options{RegretBound: -0.1}, ErrInvalid, "regret bound -0.1"},
		{"min trials", scores, everyChannel, Options{MinTrials: -1}, ErrInvalid, "min trials -1 is negative"},
		{"cost without value", scores, everyChannel, Options{Cost: map[string]int64{SMS: 2}}, ErrInvalid, "costs need the value"},
		{"negative cost", scores, everyChannel, Options{Value: 10, Cost: map[string]int64{SMS: -2}}, ErrInvalid, "cost of sms: -2 is negative"},
		{"score without a posterior", []ChannelScore{{Channel: SMS, P: 0.3}}, everyChannel, Options{}, ErrInvalid,
			"score of sms: alpha 0 and beta 0 must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Choose(tc.scores, tc.allowed, "k", tc.opts)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v containing %q", err, tc.is, tc.want)
			}
		})
	}
}

// Exploration is bounded: at most ExploreShare of keys explore; only a
// channel within RegretBound of the best or tried fewer than MinTrials
// times may replace the best; and the same key gives the same choice
// however the allowed channels are listed.
func TestExplorationIsBounded(t *testing.T) {
	scores := []ChannelScore{
		beta(Email, 9, 21, 20, 6),    // 30%, the best
		beta(SMS, 8.1, 21.9, 20, 5),  // 27%: within 5 points
		beta(Voice, 2, 18, 20, 1),    // 10%: too far below, tried enough
		beta(AIVoice, 1, 9, 1, 0),    // 10%: too far below, tried once
		beta(Letter, 0.5, 9.5, 0, 0), // 5%: never tried
	}
	reasons := map[string]string{
		SMS:     "exploring texts: estimate 27%, within 5 points of emails (30%)",
		AIVoice: "exploring AI calls: responded 0 of 1 times so far (estimate 10%)",
		Letter:  "never tried letters; exploring (population rate 5%)",
	}
	reversed := []string{Letter, AIVoice, Voice, SMS, Email}
	for _, share := range []float64{0, 0.1, 1} {
		opts := DefaultOptions()
		opts.ExploreShare = share
		const keys = 20000
		explored := map[string]int{}
		n := 0
		for i := range keys {
			key := fmt.Sprintf("acme/C%d/2026-03-03", i)
			c, err := Choose(scores, everyChannel, key, opts)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Choose(scores, reversed, key, opts)
			if err != nil {
				t.Fatal(err)
			}
			if again != c {
				t.Fatalf("key %s: %+v, then %+v with the channels listed in reverse", key, c, again)
			}
			if !c.Explored {
				if c.Channel != Email {
					t.Fatalf("key %s: not explored but %s chosen", key, c.Channel)
				}
				continue
			}
			n++
			explored[c.Channel]++
			if c.Reason != reasons[c.Channel] || c.Greedy != Email {
				t.Fatalf("key %s: explored %+v, want reason %q", key, c, reasons[c.Channel])
			}
		}
		// The share is a bound by construction; 3 standard errors of slack
		// for the hash being a sample.
		if limit := share + 3*math.Sqrt(share*(1-share)/keys); float64(n)/keys > limit {
			t.Errorf("share %v: %d of %d keys explored, above %v", share, n, keys, limit)
		}
		if explored[Voice] > 0 {
			t.Errorf("share %v: voice explored %d times though 20 points below the best after 20 trials", share, explored[Voice])
		}
		if share > 0 && (explored[SMS] == 0 || explored[Letter] == 0 || explored[AIVoice] == 0) {
			t.Errorf("share %v: explored %v, want texts, AI calls and letters each explored", share, explored)
		}
		t.Logf("share %v: explored %d of %d keys: %v", share, n, keys, explored)
	}
}
