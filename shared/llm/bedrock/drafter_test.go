package bedrock_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/llm/bedrock/fakeconverse"
)

// TestDrafterThroughBedrock runs the whole drafting path over the real SDK
// and the fake service: bad drafts are caught, retried once with the
// failure named, and replaced by the template when the retry fails too;
// throttling and timeouts go straight to the template.
func TestDrafterThroughBedrock(t *testing.T) {
	type attempt struct {
		Rules   []drafting.Rule
		ErrCode string
	}
	for _, tc := range []struct {
		name     string
		ch       compliance.Channel
		script   []fakeconverse.Behaviour
		source   drafting.Source
		attempts []attempt
		named    string // the retry prompt names it
	}{
		{"good email", compliance.ChannelEmail, nil, drafting.SourceModel, []attempt{{}}, ""},
		{"good sms", compliance.ChannelSMS, nil, drafting.SourceModel, []attempt{{}}, ""},
		{"good call script", compliance.ChannelCall, nil, drafting.SourceModel, []attempt{{}}, ""},
		{"good AI-voice script", compliance.ChannelAIVoice, nil, drafting.SourceModel, []attempt{{}}, ""},
		{"good letter", compliance.ChannelLetter, nil, drafting.SourceModel, []attempt{{}}, ""},
		{"wrong amount, then good", compliance.ChannelEmail,
			[]fakeconverse.Behaviour{fakeconverse.WrongAmount()},
			drafting.SourceModelRetry, []attempt{{Rules: []drafting.Rule{drafting.RuleAmount}}, {}}, `amount: "$3,000.00"`},
		{"threat twice", compliance.ChannelEmail,
			[]fakeconverse.Behaviour{fakeconverse.Threat(), fakeconverse.Threat()},
			drafting.SourceTemplate, []attempt{{Rules: []drafting.Rule{drafting.RuleBanned}}, {Rules: []drafting.Rule{drafting.RuleBanned}}}, "arrested"},
		{"missing disclosure, then good", compliance.ChannelSMS,
			[]fakeconverse.Behaviour{fakeconverse.MissingDisclosure()},
			drafting.SourceModelRetry, []attempt{{Rules: []drafting.Rule{drafting.RuleDisclosure}}, {}}, "mini_miranda"},
		{"link twice", compliance.ChannelLetter,
			[]fakeconverse.Behaviour{fakeconverse.Link(), fakeconverse.Link()},
			drafting.SourceTemplate, []attempt{{Rules: []drafting.Rule{drafting.RuleLink}}, {Rules: []drafting.Rule{drafting.RuleLink}}}, "only the system adds links"},
		{"sms too long twice", compliance.ChannelSMS,
			[]fakeconverse.Behaviour{fakeconverse.LongSMS(), fakeconverse.LongSMS()},
			drafting.SourceTemplate, []attempt{{Rules: []drafting.Rule{drafting.RuleLength}}, {Rules: []drafting.Rule{drafting.RuleLength}}}, "segments"},
		{"invented signer, then good", compliance.ChannelEmail,
			[]fakeconverse.Behaviour{fakeconverse.WrongName()},
			drafting.SourceModelRetry, []attempt{{Rules: []drafting.Rule{drafting.RuleName}}, {}}, "Sarah"},
		{"truncated, then good", compliance.ChannelEmail,
			[]fakeconverse.Behaviour{fakeconverse.Truncated()},
			drafting.SourceModelRetry, []attempt{{Rules: []drafting.Rule{drafting.RuleTruncated, drafting.RuleDisclosure}}, {}}, "truncated"},
		{"throttled", compliance.ChannelSMS,
			[]fakeconverse.Behaviour{fakeconverse.Throttle()},
			drafting.SourceTemplate, []attempt{{ErrCode: "ThrottlingException"}}, ""},
		{"timeout", compliance.ChannelEmail,
			[]fakeconverse.Behaviour{fakeconverse.Delay(5*time.Second, fakeconverse.Good())},
			drafting.SourceTemplate, []attempt{{ErrCode: "timeout"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, fake := newModel(t)
			fake.Enqueue(tc.script...)
			d, err := drafting.NewDrafter(m, drafting.Config{
				Price:   drafting.Price{InputMicroUSDPer1K: 35, OutputMicroUSDPer1K: 140},
				Timeout: 300 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			f := facts(tc.ch)
			got, err := d.Draft(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var as []attempt
			for _, a := range got.Attempts {
				x := attempt{ErrCode: a.ErrCode}
				for _, v := range a.Violations {
					if len(x.Rules) == 0 || x.Rules[len(x.Rules)-1] != v.Rule {
						x.Rules = append(x.Rules, v.Rule)
					}
				}
				as = append(as, x)
			}
			if got.Source != tc.source {
				t.Errorf("source %s, want %s (attempts %+v)", got.Source, tc.source, got.Attempts)
			}
			if diff := cmp.Diff(tc.attempts, as, cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b drafting.Rule) bool { return a < b })); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if vs := drafting.CheckDraft(f, got.Subject, got.Body); len(vs) != 0 {
				t.Errorf("returned draft fails the guardrails: %v", vs)
			}
			// Usage as the service reported it, priced exactly.
			var usage drafting.Usage
			for _, a := range got.Attempts {
				usage = usage.Add(a.Usage)
			}
			if got.Usage != usage || got.CostNanoUSD != usage.InputTokens*35+usage.OutputTokens*140 {
				t.Errorf("usage %+v cost %d", got.Usage, got.CostNanoUSD)
			}
			if got.Attempts[0].ErrCode == "" && (got.ModelID != modelID || usage.InputTokens == 0) {
				t.Errorf("model %q usage %+v", got.ModelID, usage)
			}
			// A call the client gave up on is logged when the server sees
			// the connection go, which can be just after Draft returns.
			calls := fake.Calls()
			for deadline := time.Now().Add(5 * time.Second); len(calls) < len(got.Attempts) && time.Now().Before(deadline); calls = fake.Calls() {
				time.Sleep(10 * time.Millisecond)
			}
			if len(calls) != len(got.Attempts) {
				t.Fatalf("%d calls for %d attempts", len(calls), len(got.Attempts))
			}
			if len(calls) == 2 {
				msgs := calls[1].Request.Messages
				last := msgs[len(msgs)-1].Content[0].Text
				if len(msgs) != 3 || msgs[1].Role != "assistant" || !strings.Contains(last, tc.named) {
					t.Errorf("the retry does not name %q: %d messages, last %q", tc.named, len(msgs), last)
				}
			}
		})
	}
}

// TestGoodDraftsAcrossFacts: the fake's default drafts pass the guardrails
// for every channel, tone and level, so the local demo runs on the model
// path.
func TestGoodDraftsAcrossFacts(t *testing.T) {
	m, _ := newModel(t)
	d, _ := drafting.NewDrafter(m, drafting.Config{})
	for _, ch := range drafting.Channels {
		for lv := drafting.LevelReminder; lv <= drafting.LevelFinal; lv++ {
			for _, one := range []bool{false, true} {
				f := facts(ch)
				f.Level = lv
				if one {
					f.Invoices = f.Invoices[:1]
				}
				got, err := d.Draft(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				if got.Source != drafting.SourceModel {
					t.Errorf("%s/%d one=%v: source %s, attempts %+v", ch, lv, one, got.Source, got.Attempts)
				}
			}
		}
	}
}
