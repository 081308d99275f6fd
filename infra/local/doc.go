// Package local supervises Recoup's local AWS stack: DynamoDB Local (AWS's
// DynamoDBLocal.jar, shipped in the amplify-dynamodb-simulator npm package),
// kinesalite (a Kinesis emulator), the SQS emulator and the Lambda host built
// from ./infra/local/cmd/sqslocal and ./infra/local/cmd/lambdahost, the Step
// Functions server (sfnlocal/server.cjs), the outbox standing in for SES v2,
// End User Messaging SMS and Connect (./infra/local/cmd/outbox) and a fake
// Bedrock Runtime (./infra/local/cmd/bedrock), plus the Step Functions
// tooling (aws-local-stepfunctions and asl-validator). The Node programs run
// under a pinned Node 22.
//
// The npm packages are pinned in infra/local/package.json and
// package-lock.json and installed with npm ci by [Install]. [Up] starts the
// services as detached processes whose PID files, logs and data live in the
// state folder (default <repo>/.local), then deploys the state machines of
// infra/statemachine to the Step Functions server ([DeployStateMachines]):
//
//	<state>/pids/<service>.pid   PID (and process group) of each service
//	<state>/logs/<service>.log   stdout and stderr, appended across runs
//	<state>/dynamodb/            DynamoDB Local data (shared-local-instance.db)
//	<state>/kinesis/             kinesalite LevelDB store
//	<state>/sqs/                 SQS queues, saved on clean shutdown
//	<state>/sfn/                 Step Functions journal (machines, executions)
//	<state>/outbox/outbox.jsonl  every send the outbox accepted
//	<state>/bin/                 the built Go services
//	<state>/lambdahost.json      optional Lambda host config override
//	<state>/stack.lock           serialises concurrent Up/Down runs
//
// [Down] stops them, [Status] reports on them and [Env] returns the
// environment that points AWS SDK clients at them. All output is plain text
// written to the io.Writer the caller passes; `recoup local up|down|status|
// env|smoke` (cmd/recoup) calls these functions for the Makefile.
package local
