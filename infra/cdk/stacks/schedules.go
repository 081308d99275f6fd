package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// The schedules, in UTC: EventBridge rules know no other zone. The daily
// run starts at 14:00 UTC (09:00 in New York in winter, 06:00 in Los
// Angeles); each contact is still held to the customer's own local hours
// by the dispatch gate, so the hour only decides when the work starts.
const (
	dailyCron  = "cron(0 14 ? * MON-FRI *)"
	weeklyCron = "cron(0 3 ? * SUN *)"
)

// newSchedules starts the daily collection run (the daily state machine,
// {"tenant", "as_of": the rule's time}) and the weekly retrain (the train
// function, {"tenants": [tenant]}), and routes Amazon Connect's contact
// events to the webhooks function. Each target retries and keeps what it
// could not deliver in the functions' dead-letter queue.
func (r *Recoup) newSchedules() {
	daily := awsevents.NewRule(r.Stack, jsii.String("DailyRun"), &awsevents.RuleProps{
		RuleName:    jsii.String("recoup-daily-run"),
		Description: jsii.String("Recoup's daily collection run for " + r.params.Tenant),
		Schedule:    awsevents.Schedule_Expression(jsii.String(dailyCron)),
	})
	daily.AddTarget(awseventstargets.NewSfnStateMachine(r.Daily, &awseventstargets.SfnStateMachineProps{
		Input: awsevents.RuleTargetInput_FromObject(map[string]any{
			"tenant": r.params.Tenant, "as_of": awsevents.EventField_Time()}),
		DeadLetterQueue: r.FunctionDLQ,
		RetryAttempts:   jsii.Number(3),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
	}))
	weekly := awsevents.NewRule(r.Stack, jsii.String("WeeklyRetrain"), &awsevents.RuleProps{
		RuleName:    jsii.String("recoup-weekly-retrain"),
		Description: jsii.String("Recoup's weekly retrain of the ranking model for " + r.params.Tenant),
		Schedule:    awsevents.Schedule_Expression(jsii.String(weeklyCron)),
	})
	weekly.AddTarget(awseventstargets.NewLambdaFunction(r.Functions["train"].Fn, &awseventstargets.LambdaFunctionProps{
		Event:           awsevents.RuleTargetInput_FromObject(map[string]any{"tenants": []string{r.params.Tenant}}),
		DeadLetterQueue: r.FunctionDLQ,
		RetryAttempts:   jsii.Number(2),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
	}))
	connect := awsevents.NewRule(r.Stack, jsii.String("ConnectContacts"), &awsevents.RuleProps{
		RuleName:     jsii.String("recoup-connect-contacts"),
		Description:  jsii.String("Amazon Connect contact events to Recoup's engagement stream"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.connect"), DetailType: jsii.Strings("Amazon Connect Contact Event")},
	})
	connect.AddTarget(awseventstargets.NewLambdaFunction(r.Functions["webhooks"].Fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: r.FunctionDLQ,
		RetryAttempts:   jsii.Number(8),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
	}))
}
