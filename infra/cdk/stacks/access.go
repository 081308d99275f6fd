package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"strings"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/recoup-dev/recoup/infra/statemachine"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// DynamoDB actions. Transactions need no action of their own: each item
// is authorised as the Put, Update, Delete or ConditionCheck it is.
var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
	tableWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
	// appendOnly are the writes of the tables that only grow: the consent
	// ledger puts entries and states (shared/store/dynamo/consent.go), the
	// audit log puts entries and moves its head (audit.go). Nothing may
	// delete a revocation or an audit record.
	appendOnly = map[string][]string{
		dynamo.ConsentTable: {"dynamodb:PutItem"},
		dynamo.AuditTable:   {"dynamodb:PutItem", "dynamodb:UpdateItem"},
	}
)

// tableAccess is what a function does to the tables: each table it reads,
// and each it also writes.
type tableAccess struct{ read, write []string }

// access lists, per function, the tables it reads and writes, as its code
// does (shared/store/dynamo: the stores each main.go builds).
var access = map[string]tableAccess{
	"approvals":  {write: []string{dynamo.ContactsTable}},
	"approve":    {read: []string{dynamo.LedgerTable}, write: []string{dynamo.ContactsTable}},
	"dispatch":   {read: []string{dynamo.ConsentTable}, write: []string{dynamo.ContactsTable, dynamo.AuditTable}},
	"draft":      {read: []string{dynamo.LedgerTable}},
	"engagement": {write: []string{dynamo.LedgerTable, dynamo.ContactsTable, dynamo.ConsentTable}},
	"ingest":     {write: []string{dynamo.LedgerTable}},
	"park":       {write: []string{dynamo.ContactsTable}},
	"plan":       {read: []string{dynamo.LedgerTable, dynamo.ContactsTable, dynamo.ConsentTable}},
	"score":      {read: []string{dynamo.LedgerTable, dynamo.ContactsTable}},
	"send":       {read: []string{dynamo.ConsentTable}, write: []string{dynamo.LedgerTable, dynamo.ContactsTable, dynamo.AuditTable}},
	"shadow":     {write: []string{dynamo.ContactsTable}},
	"train":      {read: []string{dynamo.LedgerTable}},
	"wake":       {write: []string{dynamo.ContactsTable}},
	"webhooks":   {read: []string{dynamo.LedgerTable}, write: []string{dynamo.ConsentTable}},
	"worklist":   {read: []string{dynamo.LedgerTable, dynamo.ContactsTable}},
	"writeback":  {write: []string{dynamo.LedgerTable, dynamo.AuditTable}},
}

// grantAccess gives each function what it touches and nothing else, and
// sets the environment that names those resources.
//
// Every table statement carries dynamodb:LeadingKeys: every partition
// key and index partition key starts with "T#<tenant>#", so a function
// can reach no other tenant's items whatever it is asked. (ForAllValues
// also holds for an empty set; no function is granted Scan, the one call
// without a leading key.)
func (r *Recoup) grantAccess() {
	leading := map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{"T#" + r.params.Tenant + "#*"}}}
	indexes := map[string][]string{}
	for _, spec := range dynamo.Schema() {
		for _, ix := range spec.Indexes {
			indexes[spec.Name] = append(indexes[spec.Name], ix.Name)
		}
	}
	// Queries read an index by name; items are read and written in the table.
	indexARNs := func(name string) []string {
		var out []string
		for _, ix := range indexes[name] {
			out = append(out, *r.data.Tables[name].TableArn()+"/index/"+ix)
		}
		return out
	}
	tableARNs := func(name string) []string { return []string{*r.data.Tables[name].TableArn()} }
	for _, name := range FunctionNames() {
		f := r.Functions[name]
		a, ok := access[name]
		if !ok {
			panic("stacks: no table access declared for function " + name)
		}
		for _, t := range a.read {
			f.allow(tableRead, tableARNs(t), leading)
			f.allow([]string{"dynamodb:Query"}, indexARNs(t), leading)
		}
		for _, t := range a.write {
			writes := tableWrite
			if w, ok := appendOnly[t]; ok {
				writes = w
			}
			f.allow(append(append([]string{}, tableRead...), writes...), tableARNs(t), leading)
			f.allow([]string{"dynamodb:Query"}, indexARNs(t), leading)
		}
		if len(a.read)+len(a.write) > 0 {
			r.allowKey(f, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
		}
	}
	r.grantServices()
}

// allowKey lets f use the deployment's key for what it encrypts and
// decrypts (tables, queues, the stream, the secret, model objects).
func (r *Recoup) allowKey(f *fn, actions ...string) {
	f.allow(actions, []string{*r.data.Key.KeyArn()}, nil)
}

// grantServices grants the queues, stream, state machines, buckets,
// secret and channels, and sets the variables that name them.
func (r *Recoup) grantServices() {
	cycle := r.stateMachineARN(statemachine.Cycle)
	cycleExecutions := strings.Replace(cycle, ":stateMachine:", ":execution:", 1) + ":*"
	env := func(name, key, value string) {
		r.Functions[name].Fn.AddEnvironment(jsii.String(key), jsii.String(value), nil)
	}
	fn := func(name string) *fn { return r.Functions[name] }
	sendTo := func(name string, queues ...string) {
		fn(name).allow([]string{"sqs:SendMessage"}, queues, nil)
		r.allowKey(fn(name), "kms:Decrypt", "kms:GenerateDataKey")
	}
	writeback := *r.data.Writeback.QueueArn()

	// Approvals and the approve API.
	fn("approvals").allow([]string{"states:SendTaskFailure"}, []string{cycle}, nil)
	fn("approve").allow([]string{"states:SendTaskSuccess", "states:SendTaskFailure"}, []string{cycle}, nil)
	fn("approve").allow([]string{"states:GetExecutionHistory"}, []string{cycleExecutions}, nil)
	env("approve", "RECOUP_API_AUTH", "cognito")

	// Drafting with Bedrock: the one model the deployment names.
	env("draft", "RECOUP_BEDROCK_MODEL_ID", r.params.ModelID)
	fn("draft").allow([]string{"bedrock:InvokeModel"}, r.modelARNs(), nil)

	// The engagement consumer: its dead letters, ERP actions, re-plans.
	env("engagement", "RECOUP_DLQ", *r.data.EngagementDLQ.QueueUrl())
	env("engagement", "RECOUP_WRITEBACK_QUEUE_URL", *r.data.Writeback.QueueUrl())
	env("engagement", "RECOUP_CYCLE_STATE_MACHINE", cycle)
	sendTo("engagement", *r.data.EngagementDLQ.QueueArn(), writeback)
	fn("engagement").allow([]string{"states:SendTaskSuccess"}, []string{cycle}, nil)
	fn("engagement").allow([]string{"states:DescribeExecution"}, []string{cycleExecutions}, nil)

	// The cycle's steps. The registry keeps each tenant's models under
	// <tenant>/ (shared/registry): the functions read only this tenant's.
	// ListBucket is what makes S3 answer 404, not 403, for a model not
	// there yet; it carries no prefix condition, which a GetObject's
	// check would not meet.
	models := *r.data.Models.ArnForObjects(jsii.String(r.params.Tenant + "/*"))
	for _, name := range []string{"score", "worklist"} {
		env(name, "RECOUP_MODEL_BUCKET", *r.data.Models.BucketName())
		fn(name).allow([]string{"s3:GetObject"}, []string{models}, nil)
		fn(name).allow([]string{"s3:ListBucket"}, []string{*r.data.Models.BucketArn()}, nil)
		r.allowKey(fn(name), "kms:Decrypt")
	}
	env("worklist", "RECOUP_CYCLE_STATE_MACHINE", cycle)
	fn("park").allow([]string{"states:SendTaskSuccess"}, []string{cycle}, nil)
	env("wake", "RECOUP_CYCLE_STATE_MACHINE", cycle)
	fn("wake").allow([]string{"states:StartExecution", "states:SendTaskSuccess"}, []string{cycle}, nil)
	fn("wake").allow([]string{"states:DescribeExecution"}, []string{cycleExecutions}, nil)
	env("send", "RECOUP_WRITEBACK_QUEUE_URL", *r.data.Writeback.QueueUrl())
	env("send", "RECOUP_LETTER_QUEUE_URL", *r.data.Writeback.QueueUrl())
	sendTo("send", writeback)

	// Training writes the registry.
	env("train", "RECOUP_MODEL_BUCKET", *r.data.Models.BucketName())
	env("train", "RECOUP_MODEL_KMS_KEY_ID", *r.data.Key.KeyArn())
	fn("train").allow([]string{"s3:GetObject", "s3:PutObject"}, []string{models}, nil)
	fn("train").allow([]string{"s3:ListBucket"}, []string{*r.data.Models.BucketArn()}, nil)
	r.allowKey(fn("train"), "kms:Decrypt", "kms:GenerateDataKey")

	// Webhooks publish to the stream and dead-letter what they refuse.
	env("webhooks", "RECOUP_EVENTS_STREAM", *r.data.Engagement.StreamName())
	env("webhooks", "RECOUP_DLQ_URL", *r.data.EngagementDLQ.QueueUrl())
	fn("webhooks").allow([]string{"kinesis:PutRecords", "kinesis:PutRecord"}, []string{*r.data.Engagement.StreamArn()}, nil)
	sendTo("webhooks", *r.data.EngagementDLQ.QueueArn())

	// The ERP: the pull and the write-back read the connection secret
	// and talk only to the deployed endpoint.
	for _, name := range []string{"ingest", "writeback"} {
		env(name, "RECOUP_ERP_SECRET", *r.data.ERPSecret.SecretArn())
		env(name, "RECOUP_ERP_ENDPOINT", r.params.ERPEndpoint)
		// Explicit rather than Secret.GrantRead, whose key grant would name
		// this stack's role in the data stack's key policy: a cycle.
		fn(name).allow([]string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, []string{*r.data.ERPSecret.SecretArn()}, nil)
		r.allowKey(fn(name), "kms:Decrypt")
	}
	env("writeback", "RECOUP_WRITEBACK_QUEUE", *r.data.Writeback.QueueUrl())
	env("writeback", "RECOUP_DLQ", *r.data.WritebackRejects.QueueUrl())
	fn("writeback").allow([]string{"sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}, []string{writeback}, nil)
	sendTo("writeback", *r.data.WritebackRejects.QueueArn())

	for _, name := range FunctionNames() {
		f := r.Functions[name]
		cdknag.NagSuppressions_AddResourceSuppressions(f.Role, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &[]any{"Resource::*"},
				Reason: jsii.String("X-Ray's PutTraceSegments and PutTelemetryRecords accept no resource-level permissions.")},
			{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &[]any{cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:recoup-cycle:\\*$/g")}},
				Reason: jsii.String("Executions are named at run time (one per customer and cycle); the grant covers the cycle machine's executions only, to read their state.")},
			{Id: jsii.String("AwsSolutions-IAM5"), AppliesTo: &[]any{cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<.*Models.*>\\/" + r.params.Tenant + "\\/\\*$/g")}},
				Reason: jsii.String("Model versions are named at training time; the grant covers this tenant's folder of the registry only.")},
		}, jsii.Bool(true))
	}
}

// modelARNs are what bedrock:InvokeModel needs for the model id: the
// foundation model, or for a geographic inference profile the profile
// and the model in every region it routes to.
func (r *Recoup) modelARNs() []string {
	id := r.params.ModelID
	if m := modelPattern.FindStringSubmatch(id); m != nil && m[1] != "" {
		base := strings.TrimPrefix(id, m[1]+".")
		return []string{
			arn(r.Stack, "bedrock", "inference-profile/"+id, nil, nil),
			arn(r.Stack, "bedrock", "foundation-model/"+base, jsii.String("*"), jsii.String("")),
		}
	}
	return []string{arn(r.Stack, "bedrock", "foundation-model/"+id, nil, jsii.String(""))}
}

// arn is the ARN of resource (type and name, "identity/ar@example.com") of
// service in the stack's partition, region and account; region or account
// override them when given ("" for a global resource such as a foundation
// model, "*" for any region).
func arn(stack awscdk.Stack, service, resource string, region, account *string) string {
	return *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource),
		Region: region, Account: account, ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})
}
