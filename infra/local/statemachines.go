package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/recoup-dev/recoup/infra/statemachine"
)

// localRoleARN is the execution role the local state machines name. The
// API requires one; the local server never assumes it.
const localRoleARN = "arn:aws:iam::" + Account + ":role/recoup-local-stepfunctions"

// StateMachineName is the name the state machine statemachine.<name>
// (cycle, daily) has on the local stack: recoup-cycle, recoup-daily.
func StateMachineName(name string) string { return "recoup-" + name }

// StateMachineARN is the ARN of the state machine statemachine.<name> on
// the local stack.
func StateMachineARN(name string) string {
	return "arn:aws:states:" + Region + ":" + Account + ":stateMachine:" + StateMachineName(name)
}

// functionForPlaceholder is the Lambda function a definition placeholder
// stands for: ScoreFunctionArn is the function "score". Deriving it keeps a
// new Task state from needing a table entry here; a placeholder of another
// form is an error, so a typo fails at up rather than at run time.
func functionForPlaceholder(placeholder string) (string, error) {
	fn, ok := strings.CutSuffix(placeholder, "FunctionArn")
	if !ok || fn == "" {
		return "", fmt.Errorf("placeholder ${%s} does not name a Lambda function (want ${<Name>FunctionArn})", placeholder)
	}
	return strings.ToLower(fn), nil
}

// LocalDefinition returns the definition of the state machine name (one of
// statemachine.Names) with every placeholder replaced by the ARN of the
// local Lambda function it stands for (arn:aws:lambda:us-east-1:
// 000000000000:function:score for ${ScoreFunctionArn}).
func LocalDefinition(name string) (string, error) {
	def, err := statemachine.Definition(name)
	if err != nil {
		return "", err
	}
	values := map[string]string{}
	for _, p := range statemachine.Placeholders(def) {
		fn, err := functionForPlaceholder(p)
		if err != nil {
			return "", fmt.Errorf("state machine %s: %w", name, err)
		}
		values[p] = statemachine.LambdaARN(Region, Account, fn)
	}
	return statemachine.Substitute(def, values)
}

// DeployStateMachines makes the stack's Step Functions server hold every
// state machine in statemachine.Names, under [StateMachineName], with its
// [LocalDefinition]: it creates a missing one, updates one whose definition
// differs and leaves the others alone. It prints each machine's ARN and
// returns the ARNs in the order of statemachine.Names. The Lambda functions
// need not exist yet: the server invokes them only when a task runs.
func DeployStateMachines(ctx context.Context, cfg Config, out io.Writer) ([]string, error) {
	client := sfn.New(sfn.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, ""),
		BaseEndpoint: aws.String(cfg.SFNEndpoint()),
	})
	existing := map[string]string{} // name → ARN
	pages := sfn.NewListStateMachinesPaginator(client, &sfn.ListStateMachinesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("step functions at %s: ListStateMachines: %w", cfg.SFNEndpoint(), err)
		}
		for _, m := range page.StateMachines {
			existing[aws.ToString(m.Name)] = aws.ToString(m.StateMachineArn)
		}
	}

	var arns []string
	var errs []error
	for _, name := range statemachine.Names {
		arn, how, err := deployStateMachine(ctx, client, name, existing)
		if err != nil {
			errs = append(errs, fmt.Errorf("step functions at %s: state machine %s: %w", cfg.SFNEndpoint(), StateMachineName(name), err))
			continue
		}
		fmt.Fprintf(out, "%-12s state machine %s %s: %s\n", ServiceSFN+":", StateMachineName(name), how, arn)
		arns = append(arns, arn)
	}
	return arns, errors.Join(errs...)
}

// deployStateMachine creates or updates one machine and says which it did.
func deployStateMachine(ctx context.Context, client *sfn.Client, name string, existing map[string]string) (arn, how string, err error) {
	def, err := LocalDefinition(name)
	if err != nil {
		return "", "", err
	}
	full := StateMachineName(name)
	arn, ok := existing[full]
	if !ok {
		created, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(full),
			Definition: aws.String(def),
			RoleArn:    aws.String(localRoleARN),
		})
		if err != nil {
			return "", "", fmt.Errorf("CreateStateMachine: %w", err)
		}
		return aws.ToString(created.StateMachineArn), "created", nil
	}
	desc, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return "", "", fmt.Errorf("DescribeStateMachine: %w", err)
	}
	// Unchanged machines are left alone, so that a second up does not
	// grow the server's journal.
	if aws.ToString(desc.Definition) == def && aws.ToString(desc.RoleArn) == localRoleARN {
		return arn, "unchanged", nil
	}
	if _, err := client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn: aws.String(arn),
		Definition:      aws.String(def),
		RoleArn:         aws.String(localRoleARN),
	}); err != nil {
		return "", "", fmt.Errorf("UpdateStateMachine: %w", err)
	}
	return arn, "updated", nil
}
