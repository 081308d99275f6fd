package stacks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestChannelsComeBack checks that each configured channel sends through a
// configuration set whose events reach the webhooks, and that the webhooks
// accept that topic and map the SMS number to the tenant.
func TestChannelsComeBack(t *testing.T) {
	c := appCfn()
	fns := functions(t)
	send, hooks := fns["send"], fns["webhooks"]
	env := func(f deployedFunction, key string) string {
		return render(get(f.props, "Environment", "Variables", key))
	}

	ses := c.byProp(t, "AWS::SES::ConfigurationSet", "Name", channelConfigurationSet)
	sms := c.byProp(t, "AWS::SMSVOICE::ConfigurationSet", "ConfigurationSetName", channelConfigurationSet)
	if ses == "" || sms == "" {
		return
	}
	if got := env(send, "RECOUP_SES_CONFIGURATION_SET"); got != ref(ses) {
		t.Errorf("send's RECOUP_SES_CONFIGURATION_SET is %s, want the configuration set %s", got, ref(ses))
	}
	if got := env(send, "RECOUP_EMAIL_FROM"); got != params.EmailFrom {
		t.Errorf("send's RECOUP_EMAIL_FROM is %q, want %q", got, params.EmailFrom)
	}
	if got := env(send, "RECOUP_SMS_ORIGINATION"); got != params.SMSOrigination {
		t.Errorf("send's RECOUP_SMS_ORIGINATION is %q, want %q", got, params.SMSOrigination)
	}
	var numbers map[string]string
	if err := json.Unmarshal([]byte(env(hooks, "RECOUP_SMS_NUMBERS")), &numbers); err != nil || numbers[params.SMSNumber] != testTenant || len(numbers) != 1 {
		t.Errorf("webhooks' RECOUP_SMS_NUMBERS %q (%v), want {%q: %q}", env(hooks, "RECOUP_SMS_NUMBERS"), err, params.SMSNumber, testTenant)
	}

	for _, ch := range []struct{ channel, topicsVar string }{{"ses", "RECOUP_SES_TOPICS"}, {"sms", "RECOUP_SMS_TOPICS"}} {
		topic := c.byProp(t, "AWS::SNS::Topic", "TopicName", "recoup-"+ch.channel+"-events")
		if topic == "" {
			continue
		}
		if props(c.resources[topic])["KmsMasterKeyId"] == nil {
			t.Errorf("topic %s is not encrypted", topic)
		}
		if got := env(hooks, ch.topicsVar); got != ref(topic) {
			t.Errorf("webhooks' %s is %s, want the topic %s", ch.topicsVar, got, ref(topic))
		}
		var subscribed bool
		for _, id := range sortedIDs(c.ofType("AWS::SNS::Subscription")) {
			p := props(c.resources[id])
			if render(p["TopicArn"]) == ref(topic) && p["Protocol"] == "https" && strings.HasSuffix(render(p["Endpoint"]), "webhooks/"+ch.channel) {
				subscribed = true
			}
		}
		if !subscribed {
			t.Errorf("no https subscription of %s to the API's /webhooks/%s", topic, ch.channel)
		}
	}
	sesDest := c.ofType("AWS::SES::ConfigurationSetEventDestination")
	if len(sesDest) != 1 {
		t.Fatalf("%d SES event destinations, want 1", len(sesDest))
	}
	for _, d := range sesDest {
		got := strs(get(props(d), "EventDestination", "MatchingEventTypes"))
		for _, want := range []string{"delivery", "bounce", "complaint", "open", "click"} {
			if !slices.ContainsFunc(got, func(g string) bool { return strings.EqualFold(g, want) }) {
				t.Errorf("SES events %v lack %s", got, want)
			}
		}
	}
	// Sending through a configuration set needs the right on it too.
	var onSet bool
	for _, s := range roleAllows(roleOf(t, fns, "send")) {
		for _, r := range s.resources {
			if grants(s.actions, "ses:SendEmail") && strings.HasSuffix(r, ":configuration-set/"+channelConfigurationSet) {
				onSet = true
			}
		}
	}
	if !onSet {
		t.Error("send may not ses:SendEmail through the configuration set")
	}
}

// Each topic's TLS-only policy replaces SNS's default one, so the service
// that publishes to it needs an Allow of its own.
func TestTopicsLetTheirPublishersIn(t *testing.T) {
	c := appCfn()
	for topicName, service := range map[string]string{
		"recoup-ses-events": "ses.amazonaws.com", "recoup-sms-events": "sms-voice.amazonaws.com", "recoup-alarms": "cloudwatch.amazonaws.com",
	} {
		topic := c.byProp(t, "AWS::SNS::Topic", "TopicName", topicName)
		if topic == "" {
			continue
		}
		var allowed bool
		for _, id := range sortedIDs(c.ofType("AWS::SNS::TopicPolicy")) {
			p := props(c.resources[id])
			if !slices.Contains(strs(renderAll(p["Topics"])), ref(topic)) {
				continue
			}
			for _, st := range list(get(p, "PolicyDocument", "Statement")) {
				if get(st, "Effect") == "Allow" && render(get(st, "Principal", "Service")) == service &&
					grants(strs(get(st, "Action")), "sns:Publish") && get(st, "Condition") != nil {
					allowed = true
				}
			}
		}
		if !allowed {
			t.Errorf("topic %s: no policy lets %s publish (with a condition)", topicName, service)
		}
	}
}
