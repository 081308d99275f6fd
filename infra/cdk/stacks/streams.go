package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"
)

// The event source mappings, as the local stack's Lambda host runs them
// (infra/local/lambdahost.json; a test holds the two together).
const (
	engagementBatch   = 100
	engagementRetries = 10
	writebackBatch    = 10
	writebackPollers  = 4
)

// wireStreams connects the engagement stream to its function and the
// write-back queue to its.
//
// Engagement: a batch that fails is split in two until the failing record
// is alone (bisect), the function reports the records it could not apply
// (partial batch responses) and dead-letters poison records itself
// (RECOUP_DLQ); a batch still failing after its retries goes to the
// on-failure destination, so no record is lost to the stream's retention.
//
// Write-back: the FIFO queue's own redrive policy dead-letters an action
// after its receives; the function reports failures per message.
func (r *Recoup) wireStreams() {
	// The mapping is declared directly, not through KinesisEventSource and
	// SqsDlq, whose grants include wildcard KMS actions (kms:ReEncrypt*,
	// kms:GenerateDataKey*) and kinesis:ListStreams on every stream.
	eng := r.Functions["engagement"]
	stream, failures := *r.data.Engagement.StreamArn(), *r.data.EngagementFailures.QueueArn()
	eng.allow([]string{"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"},
		[]string{stream}, nil)
	eng.allow([]string{"sqs:SendMessage"}, []string{failures}, nil)
	r.allowKey(eng, "kms:Decrypt", "kms:GenerateDataKey")
	mapping := awslambda.NewCfnEventSourceMapping(r.Stack, jsii.String("EngagementStream"), &awslambda.CfnEventSourceMappingProps{
		FunctionName:                   eng.Fn.FunctionName(),
		EventSourceArn:                 jsii.String(stream),
		StartingPosition:               jsii.String("TRIM_HORIZON"),
		BatchSize:                      jsii.Number(engagementBatch),
		MaximumBatchingWindowInSeconds: jsii.Number(1),
		BisectBatchOnFunctionError:     jsii.Bool(true),
		MaximumRetryAttempts:           jsii.Number(engagementRetries),
		FunctionResponseTypes:          jsii.Strings("ReportBatchItemFailures"),
		DestinationConfig: &awslambda.CfnEventSourceMapping_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventSourceMapping_OnFailureProperty{Destination: jsii.String(failures)}},
	})
	// Lambda checks the role's rights when the mapping is created.
	mapping.Node().AddDependency(eng.Role)
	r.Functions["writeback"].Fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(r.data.Writeback, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(writebackBatch),
		MaxConcurrency:          jsii.Number(writebackPollers),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
}
