package drafting

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recoup-dev/recoup/shared/compliance"
)

// step is one scripted model answer.
type step struct {
	text  string
	stop  StopReason
	err   error
	block bool // wait for the caller's deadline
}

// scripted is a Model that plays steps in order and keeps the prompts.
type scripted struct {
	mu      sync.Mutex
	steps   []step
	prompts []Prompt
}

var stepUsage = Usage{InputTokens: 1000, OutputTokens: 200}

func (s *scripted) Converse(ctx context.Context, p Prompt) (Reply, error) {
	s.mu.Lock()
	s.prompts = append(s.prompts, p)
	st := s.steps[0]
	s.steps = s.steps[1:]
	s.mu.Unlock()
	if st.block {
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}
	if st.err != nil {
		return Reply{}, st.err
	}
	stop := st.stop
	if stop == "" {
		stop = StopEndTurn
	}
	return Reply{Text: st.text, StopReason: stop, Usage: stepUsage, ModelID: "test-model"}, nil
}

const goodEmailReply = "Subject: Your account with Acme Supply\n\n" + goodEmail

const goodSMS = "Acme Supply: Hi Jordan, $2,000.00 is past due. Call (800) 555-0100. " + miniMiranda + " Reply STOP to opt out."

var price = Price{InputMicroUSDPer1K: 35, OutputMicroUSDPer1K: 140} // Nova Micro

// perAttempt is stepUsage at price: 1000×35 + 200×140 nano-dollars.
const perAttempt = 63000

func TestDraft(t *testing.T) {
	throttled := &ModelError{Code: "ThrottlingException", Transient: true, Err: errors.New("slow down")}
	denied := &ModelError{Code: "AccessDeniedException", Err: errors.New("no")}
	type attempt struct {
		Rules     []Rule
		ErrCode   string
		Transient bool
	}
	for _, tc := range []struct {
		name     string
		ch       compliance.Channel
		steps    []step
		source   Source
		attempts []attempt
		retryFor string // the retry prompt must quote this
	}{
		{"first draft passes", compliance.ChannelEmail, []step{{text: goodEmailReply}},
			SourceModel, []attempt{{}}, ""},
		{"wrong amount, fixed on retry", compliance.ChannelEmail,
			[]step{{text: strings.Replace(goodEmailReply, "$2,000.00", "$2,100.00", 1)}, {text: goodEmailReply}},
			SourceModelRetry, []attempt{{Rules: []Rule{RuleAmount}}, {}}, `amount: "$2,100.00"`},
		{"missing disclosure twice: template", compliance.ChannelEmail,
			[]step{{text: strings.Replace(goodEmailReply, miniMiranda, "", 1)}, {text: strings.Replace(goodEmailReply, miniMiranda, "", 1)}},
			SourceTemplate, []attempt{{Rules: []Rule{RuleDisclosure}}, {Rules: []Rule{RuleDisclosure}}}, "disclosure: mini_miranda"},
		{"threat twice: template", compliance.ChannelEmail,
			[]step{{text: goodEmailReply + "\nWe will have you arrested."}, {text: goodEmailReply + "\nYour employer will hear of this."}},
			SourceTemplate, []attempt{{Rules: []Rule{RuleBanned}}, {Rules: []Rule{RuleBanned}}}, "criminal_threat"},
		{"own link, fixed on retry", compliance.ChannelEmail,
			[]step{{text: goodEmailReply + "\nPay at https://pay.example.com"}, {text: goodEmailReply}},
			SourceModelRetry, []attempt{{Rules: []Rule{RuleLink}}, {}}, "link:"},
		{"missing subject, fixed on retry", compliance.ChannelEmail,
			[]step{{text: goodEmail}, {text: goodEmailReply}},
			SourceModelRetry, []attempt{{Rules: []Rule{RuleFormat}}, {}}, "needs a subject line"},
		{"sms too long twice: template", compliance.ChannelSMS,
			[]step{{text: goodSMS + strings.Repeat(" Thank you.", 20)}, {text: goodSMS + strings.Repeat(" Thank you.", 20)}},
			SourceTemplate, []attempt{{Rules: []Rule{RuleLength}}, {Rules: []Rule{RuleLength}}}, "segments"},
		{"sms curly quotes are straightened", compliance.ChannelSMS,
			[]step{{text: strings.Replace(goodSMS, "Hi Jordan,", "Hi Jordan, it’s a reminder:", 1)}},
			SourceModel, []attempt{{}}, ""},
		{"cut off at the token limit", compliance.ChannelEmail,
			[]step{{text: goodEmailReply, stop: StopMaxTokens}, {text: goodEmailReply}},
			SourceModelRetry, []attempt{{Rules: []Rule{RuleTruncated}}, {}}, "truncated"},
		{"throttled: template at once", compliance.ChannelEmail, []step{{err: throttled}},
			SourceTemplate, []attempt{{ErrCode: "ThrottlingException", Transient: true}}, ""},
		{"timeout: template at once", compliance.ChannelSMS, []step{{block: true}},
			SourceTemplate, []attempt{{ErrCode: "timeout", Transient: true}}, ""},
		{"access denied: template", compliance.ChannelCall, []step{{err: denied}},
			SourceTemplate, []attempt{{ErrCode: "AccessDeniedException"}}, ""},
		{"bad retry after good-looking first", compliance.ChannelEmail,
			[]step{{text: goodEmailReply + " Dear Sam"}, {err: throttled}},
			SourceTemplate, []attempt{{Rules: []Rule{RuleName}}, {ErrCode: "ThrottlingException", Transient: true}}, "Sam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &scripted{steps: tc.steps}
			d, err := NewDrafter(m, Config{Price: price, Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			f := sampleFacts(tc.ch)
			got, err := d.Draft(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != tc.source {
				t.Errorf("source %s, want %s", got.Source, tc.source)
			}
			var as []attempt
			for _, a := range got.Attempts {
				x := attempt{ErrCode: a.ErrCode, Transient: a.Transient}
				for _, v := range a.Violations {
					if !containsRule(x.Rules, v.Rule) {
						x.Rules = append(x.Rules, v.Rule)
					}
				}
				as = append(as, x)
			}
			if diff := cmp.Diff(tc.attempts, as, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			// Whatever happened, the result passes the guardrails.
			if vs := CheckDraft(f, got.Subject, got.Body); len(vs) != 0 {
				t.Errorf("the returned draft fails: %v", vs)
			}
			// Usage and cost add up over the attempts that reached the model.
			answered := int64(0)
			for _, a := range got.Attempts {
				if a.Err == "" {
					answered++
				}
			}
			if got.CostNanoUSD != answered*perAttempt || got.Usage.InputTokens != answered*stepUsage.InputTokens {
				t.Errorf("cost %d usage %+v for %d answers", got.CostNanoUSD, got.Usage, answered)
			}
			if got.PromptVersion != PromptVersion {
				t.Errorf("prompt version %q", got.PromptVersion)
			}
			if (got.Source == SourceTemplate) != (got.TemplateID != "") {
				t.Errorf("source %s with template id %q", got.Source, got.TemplateID)
			}
			// A retry shows the model its draft and names each failure.
			if len(m.prompts) == 2 {
				msgs := m.prompts[1].Messages
				if len(msgs) != 3 || msgs[1].Role != RoleAssistant || msgs[2].Role != RoleUser {
					t.Fatalf("retry messages %+v", msgs)
				}
				if msgs[1].Text != tc.steps[0].text {
					t.Errorf("retry does not show the rejected draft")
				}
				if !strings.Contains(msgs[2].Text, tc.retryFor) {
					t.Errorf("retry prompt does not name %q:\n%s", tc.retryFor, msgs[2].Text)
				}
			}
		})
	}
}

func containsRule(rs []Rule, r Rule) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func TestDraftRefusesBadFacts(t *testing.T) {
	d, _ := NewDrafter(&scripted{}, Config{})
	f := sampleFacts(compliance.ChannelEmail)
	f.Disclosures.MiniMiranda = ""
	if _, err := d.Draft(context.Background(), f); !errors.Is(err, ErrFacts) {
		t.Fatalf("err %v, want ErrFacts", err)
	}
	f = sampleFacts(compliance.ChannelVoicemail)
	if _, err := d.Draft(context.Background(), f); !errors.Is(err, ErrFacts) {
		t.Fatalf("err %v, want ErrFacts", err)
	}
}

func TestNewDrafterRefuses(t *testing.T) {
	if _, err := NewDrafter(nil, Config{}); err == nil {
		t.Error("nil model accepted")
	}
	if _, err := NewDrafter(&scripted{}, Config{Temperature: 1.5}); err == nil {
		t.Error("temperature 1.5 accepted")
	}
	if _, err := NewDrafter(&scripted{}, Config{Price: Price{InputMicroUSDPer1K: -1}}); err == nil {
		t.Error("negative price accepted")
	}
}

func TestAppendPaymentLink(t *testing.T) {
	sms := sampleFacts(compliance.ChannelSMS)
	email := sampleFacts(compliance.ChannelEmail)
	link := "https://pay.acme.example/p/abc123"
	for _, tc := range []struct {
		name    string
		d       Draft
		f       Facts
		link    string
		want    string
		wantErr error
	}{
		{"sms", Draft{Channel: compliance.ChannelSMS, Body: goodSMS}, sms, link, goodSMS + " " + link, nil},
		{"email", Draft{Channel: compliance.ChannelEmail, Body: "Hello"}, email, link, "Hello\n\nPay online: " + link, nil},
		{"sms over budget", Draft{Channel: compliance.ChannelSMS, Body: goodSMS + strings.Repeat(" ok", 40)}, sms, link, "", ErrNoSafeDraft},
		{"script", Draft{Channel: compliance.ChannelCall, Body: "Hello"}, sms, link, "", ErrLinkChannel},
		{"plain http", Draft{Channel: compliance.ChannelSMS, Body: "Hi"}, sms, "http://pay.acme.example", "", ErrLink},
		{"not a url", Draft{Channel: compliance.ChannelSMS, Body: "Hi"}, sms, "pay here", "", ErrLink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPaymentLink(tc.d, tc.f, tc.link)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && got.Body != tc.want {
				t.Errorf("body %q, want %q", got.Body, tc.want)
			}
		})
	}
}
