package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// Alarm thresholds.
const (
	// iteratorAgeMS: an opt-out must reach the dispatch gate within
	// seconds; a minute behind the stream's head means it does not.
	iteratorAgeMS = 60_000
	// optOutSpike is opt-outs in an hour that no ordinary day produces
	// for a small or mid-sized portfolio: a message or a list gone wrong.
	optOutSpike = 25
	// metricsNamespace holds the metrics read from the functions' logs.
	metricsNamespace = "Recoup"
)

// newObservability builds the alarm topic (e-mail to the alarm address),
// the alarms and a dashboard:
//   - the engagement function's iterator age (opt-outs falling behind);
//   - each dead-letter queue holding anything;
//   - each function's errors and throttles;
//   - each state machine's failed executions and the API's 5xx;
//   - an opt-out spike, counted from the engagement log's opt_outs;
//   - model drift: a daily worklist whose drift reached the alarm level
//     (drift_level, shared/drift), its largest PSI on the dashboard.
func (r *Recoup) newObservability() {
	r.Alarms = awssns.NewTopic(r.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		TopicName: jsii.String("recoup-alarms"), MasterKey: r.data.Key, EnforceSSL: jsii.Bool(true)})
	r.Alarms.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(r.params.AlarmEmail), nil))
	// The TLS-only policy replaces SNS's default one: CloudWatch needs its
	// own right to publish, for this deployment's alarms only.
	r.Alarms.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*r.Alarms.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": *r.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": *r.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
				ResourceName: jsii.String("recoup-*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})},
		},
	}))
	notify := awscloudwatchactions.NewSnsAction(r.Alarms)
	alarm := func(id, description string, m awscloudwatch.IMetric, threshold float64) awscloudwatch.Alarm {
		a := m.(awscloudwatch.Metric).CreateAlarm(r.Stack, jsii.String("Alarm-"+id), &awscloudwatch.CreateAlarmOptions{
			AlarmName:          jsii.String("recoup-" + id),
			AlarmDescription:   jsii.String(description),
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(notify)
		return a
	}
	five := awscdk.Duration_Minutes(jsii.Number(5))

	iterator := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/Lambda"), MetricName: jsii.String("IteratorAge"),
		DimensionsMap: &map[string]*string{"FunctionName": r.Functions["engagement"].Fn.FunctionName()},
		Statistic:     jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(1))})
	alarm("engagement-iterator-age", "The engagement function is more than a minute behind the stream: opt-outs are not reaching the dispatch gate in time.", iterator, iteratorAgeMS)

	queues := []awssqs.IQueue{r.data.EngagementDLQ, r.data.EngagementFailures, r.data.WritebackDLQ, r.data.WritebackRejects, r.FunctionDLQ}
	var depths []awscloudwatch.IMetric
	for i, q := range queues {
		m := q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five})
		depths = append(depths, m)
		alarm("dlq-"+[]string{"engagement", "engagement-failures", "writeback", "writeback-rejects", "functions"}[i],
			"A dead-letter queue holds messages: read their reasons, mend, then replay (recoup writeback replay for ERP actions).", m, 1)
	}

	var errs, throttles []awscloudwatch.IMetric
	for _, name := range FunctionNames() {
		f := r.Functions[name].Fn
		e := f.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
		t := f.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
		errs, throttles = append(errs, e), append(throttles, t)
		alarm("errors-"+name, "The "+name+" function failed; its log group has the reason.", e, 1)
		alarm("throttles-"+name, "The "+name+" function was throttled: raise its concurrency or the account's limit.", t, 1)
	}
	var failed []awscloudwatch.IMetric
	for _, sm := range []struct {
		name    string
		machine awsstepfunctions.StateMachine
	}{{"cycle", r.Cycle}, {"daily", r.Daily}} {
		m := sm.machine.MetricFailed(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
		failed = append(failed, m)
		alarm("failed-"+sm.name, "An execution of the "+sm.name+" state machine failed.", m, 1)
	}
	api5xx := r.API.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
	alarm("api-5xx", "The API answered with server errors.", api5xx, 1)

	optOuts := r.logMetric("OptOuts", r.Functions["engagement"].Logs, `{ $.msg = "engagement event applied" && $.opt_outs > 0 }`, "$.opt_outs")
	optOutsHourly := optOuts.With(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Hours(jsii.Number(1))})
	alarm("opt-out-spike", "Many opt-outs within an hour: check the last messages sent and the contact list before the next run.", optOutsHourly, optOutSpike)
	// The alarm follows the worklist's own verdict (the tenant's thresholds,
	// shared/drift); the largest PSI is on the dashboard beside it.
	psi := r.logMetric("DriftPSI", r.Functions["worklist"].Logs, `{ $.msg = "worklist built" }`, "$.drift_psi").
		With(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Days(jsii.Number(1))})
	drifted := r.logMetric("DriftAlarms", r.Functions["worklist"].Logs, `{ $.msg = "worklist built" && $.drift_level = "alarm" }`, "1").
		With(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Days(jsii.Number(1))})
	alarm("model-drift", "The ranking model is scoring a population it did not learn from (drift at the alarm level): check the data feed, then retrain.", drifted, 1)

	widget := func(title string, left []awscloudwatch.IMetric) awscloudwatch.GraphWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12)})
	}
	awscloudwatch.NewDashboard(r.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String("recoup"),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{widget("Engagement iterator age (ms)", []awscloudwatch.IMetric{iterator}), widget("Opt-outs per hour", []awscloudwatch.IMetric{optOutsHourly})},
			{widget("Dead-letter queues", depths), widget("Model drift: largest PSI, and worklists at the alarm level", []awscloudwatch.IMetric{psi, drifted})},
			{widget("Function errors", errs), widget("Function throttles", throttles)},
			{widget("Failed executions", failed), widget("API 5xx", []awscloudwatch.IMetric{api5xx})},
		},
	})
}

// logMetric counts what a function logs: a metric filter on its log group.
func (r *Recoup) logMetric(name string, logs awslogs.ILogGroup, pattern, value string) awscloudwatch.Metric {
	f := awslogs.NewMetricFilter(r.Stack, jsii.String("Metric-"+name), &awslogs.MetricFilterProps{
		LogGroup:        logs,
		FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(pattern)),
		MetricNamespace: jsii.String(metricsNamespace),
		MetricName:      jsii.String(name),
		MetricValue:     jsii.String(value),
	})
	return f.Metric(nil)
}
