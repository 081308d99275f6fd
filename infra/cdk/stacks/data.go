// Package stacks holds Recoup's CDK stacks, one per concern. The names of
// tables, the stream and the queues come from the root module (the same
// ones the local stack creates), so what is deployed is what the code and
// its tests use.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
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
	// EngagementDLQ keeps engagement records that cannot be applied;
	// EngagementFailures the stream batches the engagement function still
	// failed after its retries (the event source's on-failure destination).
	EngagementDLQ, EngagementFailures awssqs.Queue
	// Writeback is the FIFO queue of ERP actions, WritebackDLQ its
	// dead-letter queue, WritebackRejects the queue for messages that are
	// not actions.
	Writeback, WritebackDLQ, WritebackRejects awssqs.Queue
	// ERPSecret holds the ERP connection document (shared/erp/erpconfig).
	ERPSecret awssecretsmanager.Secret
	// Models is the model registry (shared/registry); AuditArchive keeps
	// audit exports under S3 Object Lock in compliance mode; AccessLogs
	// receives both buckets' server access logs.
	Models, AuditArchive, AccessLogs awss3.Bucket
}

// auditRetention is how long no one, the root user included, can delete
// or overwrite an archived audit export: the design keeps the audit log
// at least three years after the last activity.
var auditRetention = awscdk.Duration_Days(jsii.Number(3*365 + 1))

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
	// CloudWatch Logs encrypts the functions', state machines' and API's
	// log groups with the key, for this account's log groups only.
	d.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"),
				ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})}},
	}), jsii.Bool(false))
	// SES and End User Messaging SMS publish their events to encrypted
	// topics, on this account's behalf only (both set aws:SourceAccount).
	// EventBridge (to encrypted dead-letter queues) and CloudWatch alarms
	// (to the encrypted alarm topic) are allowed without that condition,
	// which their calls to KMS do not reliably carry; the queue and topic
	// policies name who may send.
	service := func(name string) awsiam.IPrincipal {
		return awsiam.NewServicePrincipal(jsii.String(name+".amazonaws.com"), nil)
	}
	d.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{service("ses"), service("sms-voice")},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": *stack.Account()}},
	}), jsii.Bool(false))
	d.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{service("events"), service("cloudwatch")},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(false))
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
	d.EngagementFailures = queue("EngagementFailures", &awssqs.QueueProps{QueueName: jsii.String(local.EngagementFailures), RetentionPeriod: dlqRetention})
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
		// An empty document, not a generated password: until the tenant
		// stores the connection, the write-back and the ERP pull say
		// "erp is missing" rather than fail to read a random string. It
		// holds nothing secret.
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String("{}")),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(d.ERPSecret, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String("The secret holds the ERP integration user's password, which the ERP's own policy rotates; " +
			"a rotation Lambda here could not change it in the ERP. The tenant's ERP administrator updates the secret when they rotate it.")},
	}, jsii.Bool(true))
	d.newBuckets()
	for _, q := range []awssqs.Queue{d.EngagementDLQ, d.EngagementFailures, d.WritebackDLQ, d.WritebackRejects} {
		cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is itself a dead-letter queue: its messages wait for a person and a replay, not for another queue.")},
		}, jsii.Bool(true))
	}
	return d
}

// newBuckets builds the model registry and the audit archive, both
// versioned, encrypted with the key, TLS-only and logged, and their
// access-log bucket.
func (d *Data) newBuckets() {
	d.AccessLogs = awss3.NewBucket(d.Stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		// S3 server access logging can deliver only to SSE-S3 buckets.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(400)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30))}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(d.AccessLogs, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("This is the access-log bucket; logging its own access would log forever.")},
		{Id: jsii.String("PCI.DSS.321-S3BucketLoggingEnabled"), Reason: jsii.String("This is the access-log bucket; logging its own access would log forever.")},
		{Id: jsii.String("PCI.DSS.321-S3DefaultEncryptionKMS"), Reason: jsii.String("S3 server access logging delivers only to buckets encrypted with S3-managed keys.")},
		{Id: jsii.String("PCI.DSS.321-S3BucketReplicationEnabled"), Reason: jsii.String("Access logs are kept for 400 days in the deployment's region; replicating them is the tenant's DR choice.")},
	}, jsii.Bool(true))
	bucket := func(id, prefix string, p *awss3.BucketProps) awss3.Bucket {
		p.Encryption, p.EncryptionKey, p.BucketKeyEnabled = awss3.BucketEncryption_KMS, d.Key, jsii.Bool(true)
		p.BlockPublicAccess, p.EnforceSSL, p.Versioned = awss3.BlockPublicAccess_BLOCK_ALL(), jsii.Bool(true), jsii.Bool(true)
		p.ServerAccessLogsBucket, p.ServerAccessLogsPrefix = d.AccessLogs, jsii.String(prefix)
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
		b := awss3.NewBucket(d.Stack, jsii.String(id), p)
		cdknag.NagSuppressions_AddResourceSuppressions(b, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("PCI.DSS.321-S3BucketReplicationEnabled"), Reason: jsii.String("Cross-region replication is the tenant's disaster-recovery choice; " +
				"the bucket is versioned, and the archive is under Object Lock, so nothing in it can be lost to a delete.")},
		}, jsii.Bool(true))
		return b
	}
	d.Models = bucket("Models", "models/", &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{{NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(365))}},
	})
	d.AuditArchive = bucket("AuditArchive", "audit-archive/", &awss3.BucketProps{
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: awss3.ObjectLockRetention_Compliance(auditRetention),
	})
}
