package stacks

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssmsvoice"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// channelConfigurationSet names the SES and SMS configuration sets whose
// events come back to the webhooks.
const channelConfigurationSet = "recoup"

// smsEvents are the End User Messaging event types the SMS normaliser
// reads (shared/webhooks/sms): delivery and every failure.
var smsEvents = []string{"TEXT_DELIVERED", "TEXT_SUCCESSFUL", "TEXT_BLOCKED", "TEXT_TTL_EXPIRED", "TEXT_CARRIER_UNREACHABLE",
	"TEXT_INVALID", "TEXT_INVALID_MESSAGE", "TEXT_CARRIER_BLOCKED", "TEXT_UNREACHABLE", "TEXT_SPAM", "TEXT_UNKNOWN", "TEXT_PROTECT_BLOCKED"}

// newChannels configures the channels the deployment was given, each
// with its way back: the send function sends through a configuration set
// whose events SNS delivers to POST /webhooks/<channel>, and the webhooks
// function accepts that topic's messages only (their SNS signatures
// verified). Letters always go to the write-back queue.
func (r *Recoup) newChannels() {
	send, hooks := r.Functions["send"], r.Functions["webhooks"]
	topic := func(channel, publisher string) awssns.Topic {
		t := awssns.NewTopic(r.Stack, jsii.String("Events-"+channel), &awssns.TopicProps{
			TopicName: jsii.String("recoup-" + channel + "-events"), MasterKey: r.data.Key, EnforceSSL: jsii.Bool(true)})
		// The TLS-only policy replaces SNS's default one, so the channel's
		// service needs its own right to publish, for this account only.
		t.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(publisher), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*t.TopicArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": *r.Account()}},
		}))
		t.AddSubscription(awssnssubscriptions.NewUrlSubscription(r.API.UrlForPath(jsii.String("/webhooks/"+channel)),
			&awssnssubscriptions.UrlSubscriptionProps{Protocol: awssns.SubscriptionProtocol_HTTPS, RawMessageDelivery: jsii.Bool(false)}))
		return t
	}
	configSet := func(service string) string {
		return arn(r.Stack, service, "configuration-set/"+channelConfigurationSet, nil, nil)
	}
	if from := r.params.EmailFrom; from != "" {
		events := topic("ses", "ses.amazonaws.com")
		set := awsses.NewConfigurationSet(r.Stack, jsii.String("EmailConfigurationSet"), &awsses.ConfigurationSetProps{
			ConfigurationSetName: jsii.String(channelConfigurationSet),
			TlsPolicy:            awsses.ConfigurationSetTlsPolicy_REQUIRE,
		})
		set.AddEventDestination(jsii.String("Webhooks"), &awsses.ConfigurationSetEventDestinationOptions{
			Destination: awsses.EventDestination_SnsTopic(events),
			Events: &[]awsses.EmailSendingEvent{awsses.EmailSendingEvent_DELIVERY, awsses.EmailSendingEvent_BOUNCE,
				awsses.EmailSendingEvent_COMPLAINT, awsses.EmailSendingEvent_OPEN, awsses.EmailSendingEvent_CLICK},
		})
		send.Fn.AddEnvironment(jsii.String("RECOUP_EMAIL_FROM"), jsii.String(from), nil)
		send.Fn.AddEnvironment(jsii.String("RECOUP_SES_CONFIGURATION_SET"), set.ConfigurationSetName(), nil)
		identity := func(name string) string { return arn(r.Stack, "ses", "identity/"+name, nil, nil) }
		domain := from[strings.LastIndex(from, "@")+1:]
		send.allow([]string{"ses:SendEmail"}, []string{identity(from), identity(domain), configSet("ses")}, nil)
		hooks.Fn.AddEnvironment(jsii.String("RECOUP_SES_TOPICS"), events.TopicArn(), nil)
		awscdk.NewCfnOutput(r.Stack, jsii.String("EmailEventsTopic"), &awscdk.CfnOutputProps{Value: events.TopicArn()})
	}
	if orig := r.params.SMSOrigination; orig != "" {
		events := topic("sms", "sms-voice.amazonaws.com")
		set := awssmsvoice.NewCfnConfigurationSet(r.Stack, jsii.String("SMSConfigurationSet"), &awssmsvoice.CfnConfigurationSetProps{
			ConfigurationSetName: jsii.String(channelConfigurationSet),
			EventDestinations: &[]any{&awssmsvoice.CfnConfigurationSet_EventDestinationProperty{
				EventDestinationName: jsii.String("webhooks"), Enabled: jsii.Bool(true), MatchingEventTypes: jsii.Strings(smsEvents...),
				SnsDestination: &awssmsvoice.CfnConfigurationSet_SnsDestinationProperty{TopicArn: events.TopicArn()}}},
		})
		send.Fn.AddEnvironment(jsii.String("RECOUP_SMS_ORIGINATION"), jsii.String(orig), nil)
		send.Fn.AddEnvironment(jsii.String("RECOUP_SMS_CONFIGURATION_SET"), set.ConfigurationSetName(), nil)
		// SendTextMessage is also authorised on the opt-out list it checks.
		optOuts := arn(r.Stack, "sms-voice", "opt-out-list/Default", nil, nil)
		send.allow([]string{"sms-voice:SendTextMessage"}, []string{orig, configSet("sms-voice"), optOuts}, nil)
		hooks.Fn.AddEnvironment(jsii.String("RECOUP_SMS_TOPICS"), events.TopicArn(), nil)
		numbers, _ := json.Marshal(map[string]string{r.params.SMSNumber: r.params.Tenant})
		hooks.Fn.AddEnvironment(jsii.String("RECOUP_SMS_NUMBERS"), jsii.String(string(numbers)), nil)
		// Replies (STOP among them) arrive on the number's two-way
		// channel, which belongs to the number: point it at this topic.
		awscdk.NewCfnOutput(r.Stack, jsii.String("SMSEventsTopic"), &awscdk.CfnOutputProps{Value: events.TopicArn(),
			Description: jsii.String("Set the origination number's two-way channel to this topic, so replies such as STOP reach Recoup")})
	}
}
