// Package local supervises Recoup's local AWS stack: DynamoDB Local (AWS's
// DynamoDBLocal.jar, shipped in the amplify-dynamodb-simulator npm package),
// kinesalite (a Kinesis emulator) and the Lambda host built from
// ./infra/local/cmd/lambdahost, plus the Step Functions tooling
// (aws-local-stepfunctions and asl-validator) run under a pinned Node 22.
//
// The npm packages are pinned in infra/local/package.json and
// package-lock.json and installed with npm ci by [Install]. [Up] starts the
// services as detached processes whose PID files, logs and data live in the
// state folder (default <repo>/.local):
//
//	<state>/pids/<service>.pid   PID (and process group) of each service
//	<state>/logs/<service>.log   stdout and stderr, appended across runs
//	<state>/dynamodb/            DynamoDB Local data (shared-local-instance.db)
//	<state>/kinesis/             kinesalite LevelDB store
//	<state>/bin/lambdahost       the built Lambda host
//	<state>/lambdahost.json      optional Lambda host config override
//	<state>/stack.lock           serialises concurrent Up/Down runs
//
// [Down] stops them, [Status] reports on them and [Env] returns the
// environment that points AWS SDK clients at them. All output is plain text
// written to the io.Writer the caller passes; `recoup local up|down|status|
// env|smoke` (cmd/recoup) calls these functions for the Makefile.
package local
