package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// RecoupProps configure the application stack.
type RecoupProps struct {
	awscdk.StackProps
	Params Params
	// Data is the stateful stack the functions use.
	Data *Data
}

// Recoup is the stateless part of a deployment, built by concern: the
// functions and their access (functions.go, access.go), the stream and
// queue wiring (streams.go), the state machines (orchestration.go), the
// API (api.go), the schedules (schedules.go) and the dashboard and alarms
// (observability.go). It can be destroyed and deployed again; the data
// stack keeps everything that must last.
type Recoup struct {
	awscdk.Stack
	Functions    map[string]*fn
	Cycle, Daily awsstepfunctions.StateMachine
	API          awsapigateway.RestApi
	Users        awscognito.UserPool
	Alarms       awssns.Topic
	// FunctionDLQ keeps the events of asynchronous invocations (the
	// schedules, EventBridge) that failed after their retries. It lives
	// here, not in the data stack: EventBridge's right to write to it
	// names the rules, and the data stack cannot refer to this one.
	FunctionDLQ awssqs.Queue

	params Params
	data   *Data
	prefix string
}

// NewRecoup builds the application stack.
func NewRecoup(scope constructs.Construct, id string, props *RecoupProps) *Recoup {
	r := &Recoup{Stack: awscdk.NewStack(scope, jsii.String(id), &props.StackProps),
		params: props.Params, data: props.Data, prefix: dynamo.DefaultPrefix}
	r.AddDependency(props.Data.Stack, jsii.String("the functions use its tables, stream, queues, key and buckets"))
	r.FunctionDLQ = awssqs.NewQueue(r.Stack, jsii.String("FunctionDLQ"), &awssqs.QueueProps{
		RetentionPeriod: dlqRetention,
		Encryption:      awssqs.QueueEncryption_KMS, EncryptionMasterKey: props.Data.Key, EnforceSSL: jsii.Bool(true),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(r.FunctionDLQ, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is itself a dead-letter queue: its messages wait for a person and a replay, not for another queue.")},
	}, jsii.Bool(true))
	r.newFunctions()
	r.grantAccess()
	r.wireStreams()
	r.newOrchestration()
	r.newAPI()
	r.newChannels()
	r.newSchedules()
	r.newObservability()
	cdknag.NagSuppressions_AddStackSuppressions(r.Stack, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("PCI.DSS.321-IAMNoInlinePolicy"), Reason: jsii.String("Each inline policy belongs to one role that exists for one function or state machine, " +
			"and is created, reviewed and deleted with it; a managed policy could be attached to other principals and drift from the role it was written for.")},
		{Id: jsii.String("PCI.DSS.321-LambdaInsideVPC"), Reason: jsii.String("The functions reach only AWS APIs (over TLS, SigV4-signed, confined by IAM) and the tenant's ERP at its pinned https endpoint; " +
			"they hold no network-reachable state. A VPC would add NAT and ten interface endpoints without narrowing what IAM already confines.")},
	}, jsii.Bool(true))
	return r
}

// stateMachineARN is the ARN of one of the app's state machines, from its
// name rather than a reference: the functions that start and wake cycles
// name the machine that invokes them, and a reference would be a cycle.
func (r *Recoup) stateMachineARN(name string) string {
	return *r.FormatArn(&awscdk.ArnComponents{Service: jsii.String("states"), Resource: jsii.String("stateMachine"),
		ResourceName: jsii.String(stateMachineName(name)), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
}

// stateMachineName matches the local stack's (infra/local.StateMachineName).
func stateMachineName(name string) string { return "recoup-" + name }
