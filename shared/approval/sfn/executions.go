package sfn

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/cycle"
)

// ExecutionsAPI is the part of the Step Functions client the collection
// cycle drives.
type ExecutionsAPI interface {
	StartExecution(ctx context.Context, in *awssfn.StartExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *awssfn.DescribeExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.DescribeExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *awssfn.SendTaskSuccessInput, optFns ...func(*awssfn.Options)) (*awssfn.SendTaskSuccessOutput, error)
}

var (
	_ ExecutionsAPI    = (*awssfn.Client)(nil)
	_ cycle.Executions = (*Executions)(nil)
)

// Executions starts, inspects and wakes the cycle's executions
// (cycle.Executions).
type Executions struct {
	api ExecutionsAPI
}

// NewExecutions returns the adapter over api (build it with NewClient).
func NewExecutions(api ExecutionsAPI) (*Executions, error) {
	if api == nil {
		return nil, errors.New("sfn: nil Step Functions client")
	}
	return &Executions{api: api}, nil
}

// Start implements cycle.Executions: Step Functions itself makes a start
// idempotent by name and input while the execution runs.
func (e *Executions) Start(ctx context.Context, machine, name string, input []byte) (string, error) {
	out, err := e.api.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String(name), Input: aws.String(string(input))})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return "", cycle.ErrAlreadyRan
	}
	if err != nil {
		return "", classify("StartExecution", err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Running implements cycle.Executions.
func (e *Executions) Running(ctx context.Context, execution string) (bool, error) {
	out, err := e.api.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(execution)})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false, nil
	}
	if err != nil {
		return false, classify("DescribeExecution", err)
	}
	return out.Status == types.ExecutionStatusRunning, nil
}

// SendTaskSuccess implements cycle.Executions.
func (e *Executions) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	_, err := e.api.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
	err = classify("SendTaskSuccess", err)
	if errors.Is(err, approval.ErrExpired) {
		return errors.Join(cycle.ErrTaskGone, err)
	}
	return err
}
