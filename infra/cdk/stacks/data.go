// Package stacks holds Recoup's CDK stacks, one per concern. The names of
// tables, the stream and the queues come from the root module (the same
// ones the local stack creates), so what is deployed is what the code and
// its tests use.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// DataProps configure the data stack.
type DataProps struct {
	awscdk.StackProps
	// Prefix is prepended to every table name (dynamo.DefaultPrefix).
	Prefix string
}

// Data is the stateful part of a deployment: the customer-managed key
// everything is encrypted with, the DynamoDB tables, the engagement stream
// and the queues. It is retained when the stack is deleted: a finance
// team's ledger and audit log must outlive a mistaken `cdk destroy`.
type Data struct {
	awscdk.Stack
	Key        awskms.Key
	Tables     map[string]awsdynamodb.Table
	Engagement awskinesis.Stream
	// EngagementDLQ keeps engagement records that cannot be applied.
	EngagementDLQ awssqs.Queue
	// Writeback is the FIFO queue of ERP actions, WritebackDLQ its
	// dead-letter queue, WritebackRejects the queue for messages that are
	// not actions.
	Writeback, WritebackDLQ, WritebackRejects awssqs.Queue
	// ERPSecret holds the ERP connection document (shared/erp/erpconfig).
	ERPSecret awssecretsmanager.Secret
}

// dlqRetention is SQS's longest: dead letters wait for a person.
var dlqRetention = awscdk.Duration_Days(jsii.Number(14))

// NewData builds the data stack.
func NewData(scope constructs.Construct, id string, props *DataProps) *Data {
	if props == nil {
		props = &DataProps{}
	}
	if props.Prefix == "" {
		props.Prefix = dynamo.DefaultPrefix
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	d := &Data{Stack: stack, Tables: map[string]awsdynamodb.Table{}}
	d.Key = awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String("alias/recoup"),
		Description:       jsii.String("Recoup: ledger, consent, contact history, audit log, engagement stream, queues and ERP credentials"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	for _, spec := range dynamo.Schema() {
		t := awsdynamodb.NewTable(stack, jsii.String("Table-"+spec.Name), &awsdynamodb.TableProps{
			TableName:    jsii.String(props.Prefix + spec.Name),
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("PK"), Type: awsdynamodb.AttributeType_STRING},
			SortKey:      &awsdynamodb.Attribute{Name: jsii.String("SK"), Type: awsdynamodb.AttributeType_STRING},
			BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true)},
			DeletionProtection: jsii.Bool(true),
			Encryption:         awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
			EncryptionKey:      d.Key,
			RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
			TimeToLiveAttribute: func() *string {
				if spec.TTLAttr == "" {
					return nil
				}
				return jsii.String(spec.TTLAttr)
			}(),
		})
		for _, ix := range spec.Indexes {
			t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
				IndexName:    jsii.String(ix.Name),
				PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(ix.HashKey), Type: awsdynamodb.AttributeType_STRING},
				SortKey:      &awsdynamodb.Attribute{Name: jsii.String(ix.RangeKey), Type: awsdynamodb.AttributeType_STRING},
			})
		}
		d.Tables[spec.Name] = t
	}
	d.Engagement = awskinesis.NewStream(stack, jsii.String("Engagement"), &awskinesis.StreamProps{
		StreamName:      jsii.String(local.EngagementStream),
		ShardCount:      jsii.Number(local.EngagementShards),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(7)),
		Encryption:      awskinesis.StreamEncryption_KMS,
		EncryptionKey:   d.Key,
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(d.Engagement, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-KDS3"), Reason: jsii.String("The stream carries personal data (phone numbers, e-mail addresses, what people said); " +
			"it is encrypted with the deployment's customer-managed key, as every other store, so one key policy governs and audits all of it.")},
	}, jsii.Bool(true))
	queue := func(id string, p *awssqs.QueueProps) awssqs.Queue {
		p.Encryption, p.EncryptionMasterKey, p.EnforceSSL = awssqs.QueueEncryption_KMS, d.Key, jsii.Bool(true)
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
		return awssqs.NewQueue(stack, jsii.String(id), p)
	}
	d.EngagementDLQ = queue("EngagementDLQ", &awssqs.QueueProps{QueueName: jsii.String(local.EngagementDLQ), RetentionPeriod: dlqRetention})
	d.WritebackDLQ = queue("WritebackDLQ", &awssqs.QueueProps{QueueName: jsii.String(local.WritebackDLQ), Fifo: jsii.Bool(true),
		RetentionPeriod: dlqRetention})
	// Six times the writeback function's timeout, as AWS advises for a
	// queue feeding a function (the local stack uses the same).
	d.Writeback = queue("Writeback", &awssqs.QueueProps{QueueName: jsii.String(local.WritebackQueue), Fifo: jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(360)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: d.WritebackDLQ, MaxReceiveCount: jsii.Number(local.WritebackMaxReceives)}})
	d.WritebackRejects = queue("WritebackRejects", &awssqs.QueueProps{QueueName: jsii.String(local.WritebackRejects), RetentionPeriod: dlqRetention})
	d.ERPSecret = awssecretsmanager.NewSecret(stack, jsii.String("ERPConnection"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String("recoup/erp-connection"),
		Description:   jsii.String("The tenant's ERP connection document (shared/erp/erpconfig): which ERP, its URL, the integration user's credentials"),
		EncryptionKey: d.Key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(d.ERPSecret, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String("The secret holds the ERP integration user's password, which the ERP's own policy rotates; " +
			"a rotation Lambda here could not change it in the ERP. The tenant's ERP administrator updates the secret when they rotate it.")},
	}, jsii.Bool(true))
	for _, q := range []awssqs.Queue{d.EngagementDLQ, d.WritebackDLQ, d.WritebackRejects} {
		cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is itself a dead-letter queue: its messages wait for a person and a replay, not for another queue.")},
		}, jsii.Bool(true))
	}
	return d
}
