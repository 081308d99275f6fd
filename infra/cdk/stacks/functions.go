package stacks

import (
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// fnSpec is how one functions/<name> is deployed. Timeouts match the local
// stack's (infra/local/lambdahost.json; a test holds them together), so a
// queue's visibility timeout and a state's retries mean the same in both.
type fnSpec struct {
	name, description string
	timeout, memory   float64
	// async functions are invoked by EventBridge, which does not wait for
	// them: a failure goes to the functions' dead-letter queue.
	async bool
}

var fnSpecs = []fnSpec{
	{name: "approvals", description: "Approval state of the cycle: stores an approval request with its task token", timeout: 30, memory: 256},
	{name: "approve", description: "Collectors' approval API: lists waiting approvals and applies verdicts", timeout: 30, memory: 256},
	{name: "dispatch", description: "Dispatch gate: the compliance decision, recorded atomically with the attempt", timeout: 30, memory: 256},
	{name: "draft", description: "Draft step: Bedrock drafts under deterministic guardrails, templates as fallback", timeout: 60, memory: 256},
	{name: "engagement", description: "Engagement stream consumer: opt-outs, promises, payments, re-plans", timeout: 60, memory: 256},
	{name: "ingest", description: "Imports AR exports, or pulls them from the ERP, into the ledger", timeout: 60, memory: 512},
	{name: "park", description: "Park step: waits for the planned time or an event", timeout: 30, memory: 256},
	{name: "plan", description: "Plan step: the strategy engine's next action", timeout: 30, memory: 256},
	{name: "score", description: "Score step: ranking and channel models for one customer", timeout: 30, memory: 512},
	{name: "send", description: "Send step: sends through the dispatch gate and queues ERP actions", timeout: 30, memory: 256},
	{name: "shadow", description: "Shadow step (pilot mode): records the plan beside what the team does", timeout: 30, memory: 256},
	{name: "train", description: "Weekly training: a challenger ranking model, promoted if it beats the champion", timeout: 900, memory: 3008, async: true},
	{name: "wake", description: "Starts or wakes a customer's collection cycle", timeout: 30, memory: 256},
	{name: "webhooks", description: "Channel webhooks (SES, SMS, Connect) to the engagement stream", timeout: 30, memory: 256, async: true},
	{name: "worklist", description: "Daily run's worklist: scores the open receivables, most valuable first", timeout: 120, memory: 1024},
	{name: "writeback", description: "ERP write-back: applies queued actions exactly once", timeout: 60, memory: 256},
}

// FunctionNames lists the deployed functions, one per functions/<name>.
func FunctionNames() []string {
	var out []string
	for _, s := range fnSpecs {
		out = append(out, s.name)
	}
	slices.Sort(out)
	return out
}

// functionName is a function's deployed name; the local stack names them
// without the prefix.
func functionName(name string) string { return "recoup-" + name }

// fn is one deployed function with its role and log group.
type fn struct {
	Fn   awslambda.Function
	Role awsiam.Role
	Logs awslogs.LogGroup
}

// allow adds a statement to the function's role (its default policy,
// which the function depends on).
func (f *fn) allow(actions []string, resources []string, conditions map[string]any) {
	st := &awsiam.PolicyStatementProps{Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...)}
	if conditions != nil {
		st.Conditions = &conditions
	}
	f.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(st))
}

// newFunctions builds every function: arm64 on provided.al2023 from
// <dist>/<name>/bootstrap, traced, logging JSON to its own encrypted log
// group, with its own role and nothing granted yet (access.go grants).
// The log groups, like every retained resource of this stack, get names
// CloudFormation makes up: a fixed name would survive `make destroy` and
// make the next deploy fail on it.
func (r *Recoup) newFunctions() {
	r.Functions = map[string]*fn{}
	for _, spec := range fnSpecs {
		id := jsii.String("Fn-" + spec.name)
		logs := awslogs.NewLogGroup(r.Stack, jsii.String("Logs-"+spec.name), &awslogs.LogGroupProps{
			Retention:     awslogs.RetentionDays_ONE_YEAR,
			EncryptionKey: r.data.Key,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		role := awsiam.NewRole(r.Stack, jsii.String("Role-"+spec.name), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Recoup " + spec.name + ": only what this function touches"),
		})
		f := &fn{Role: role, Logs: logs}
		// The group's ARN ends in ":*", its streams: Lambda names them.
		f.allow([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{*logs.LogGroupArn()}, nil)
		props := &awslambda.FunctionProps{
			FunctionName:          jsii.String(functionName(spec.name)),
			Description:           jsii.String(spec.description),
			Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:          awslambda.Architecture_ARM_64(),
			Handler:               jsii.String("bootstrap"),
			Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(r.params.Dist, spec.name)), nil),
			Timeout:               awscdk.Duration_Seconds(jsii.Number(spec.timeout)),
			MemorySize:            jsii.Number(spec.memory),
			Role:                  role,
			LogGroup:              logs,
			LoggingFormat:         awslambda.LoggingFormat_JSON,
			Tracing:               awslambda.Tracing_ACTIVE,
			EnvironmentEncryption: r.data.Key,
			Environment: &map[string]*string{
				"RECOUP_TABLE_PREFIX": jsii.String(r.prefix),
				"RECOUP_TENANT":       jsii.String(r.params.Tenant),
			},
		}
		if spec.async {
			props.DeadLetterQueue = r.FunctionDLQ
			props.RetryAttempts = jsii.Number(2)
			props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
		}
		f.Fn = awslambda.NewFunction(r.Stack, id, props)
		r.Functions[spec.name] = f
	}
}
