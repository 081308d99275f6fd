package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/recoup-dev/recoup/infra/statemachine"
)

// newOrchestration deploys the repository's state machines
// (infra/statemachine/*.asl.json, the same files the local stack runs)
// with their ${XFunctionArn} placeholders substituted by CloudFormation,
// every event logged and X-Ray tracing on.
func (r *Recoup) newOrchestration() {
	for _, name := range statemachine.Names {
		def, err := statemachine.Definition(name)
		if err != nil {
			panic(err) // the definitions are embedded: a missing one is a build error
		}
		subs := map[string]*string{}
		var invoked []*fn
		for _, ph := range statemachine.Placeholders(def) {
			fname, ok := strings.CutSuffix(ph, "FunctionArn")
			f := r.Functions[strings.ToLower(fname)]
			if !ok || f == nil {
				panic(fmt.Sprintf("state machine %s: placeholder ${%s} names no function", name, ph))
			}
			subs[ph] = f.Fn.FunctionArn()
			invoked = append(invoked, f)
		}
		logs := awslogs.NewLogGroup(r.Stack, jsii.String("Logs-sfn-"+name), &awslogs.LogGroupProps{
			// Under /aws/vendedlogs/ Step Functions needs no statement of
			// its own in the account's (size-limited) CloudWatch Logs
			// resource policy; the stack's id makes the name new for each
			// deployment, since the group outlives a destroy.
			LogGroupName: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("/aws/vendedlogs/states/" + stateMachineName(name) + "-"),
				awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), r.StackId(), nil))}),
			Retention:     awslogs.RetentionDays_ONE_YEAR,
			EncryptionKey: r.data.Key,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		sm := awsstepfunctions.NewStateMachine(r.Stack, jsii.String("StateMachine-"+name), &awsstepfunctions.StateMachineProps{
			StateMachineName:        jsii.String(stateMachineName(name)),
			StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
			DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(def)),
			DefinitionSubstitutions: &subs,
			// Execution data holds names, balances and drafts: the log
			// keeps the events, not the personal data.
			Logs:           &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(false)},
			TracingEnabled: jsii.Bool(true),
		})
		var versions []any
		for _, f := range invoked {
			f.Fn.GrantInvoke(sm.Role())
			versions = append(versions, "Resource::<"+*r.GetLogicalId(f.Fn.Node().DefaultChild().(awscdk.CfnElement))+".Arn>:*")
		}
		cdknag.NagSuppressions_AddResourceSuppressions(sm.Role(), &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &versions, Reason: jsii.String("The grant covers the functions' versions and aliases (<arn>:*) as well as $LATEST, so a later move to aliases keeps working; only the functions this machine names.")},
			{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &[]any{"Resource::*"}, Reason: jsii.String("X-Ray segments and CloudWatch Logs vended log delivery accept no resource-level permissions.")},
		}, jsii.Bool(true))
		switch name {
		case statemachine.Cycle:
			r.Cycle = sm
		case statemachine.Daily:
			r.Daily = sm
		}
	}
}
