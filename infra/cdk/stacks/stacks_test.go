package stacks

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// The app is built once: starting jsii and synthesising cost seconds each.
var (
	params   Params
	data     *Data
	app      *Recoup
	template assertions.Template // the data stack's
	appTmpl  assertions.Template // the application stack's
	findings []string            // unsuppressed cdk-nag errors and warnings
)

// testTenant is the tenant the test deployment is for.
const testTenant = "acme"

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		out, err := os.MkdirTemp("", "recoup-cdk-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(out)
		dist := filepath.Join(out, "dist")
		for _, name := range FunctionNames() {
			if err := WriteELF(filepath.Join(dist, name, "bootstrap"), elf.EM_AARCH64); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		ctx, err := FeatureFlags(filepath.Join("..", "cdk.json"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		params = Params{Tenant: testTenant, ModelID: "amazon.nova-micro-v1:0", ERPEndpoint: "https://ebs.acme.example:4443",
			AlarmEmail: "ar-alerts@acme.example", EmailFrom: "ar@acme.example",
			SMSOrigination: "arn:aws:sms-voice:us-east-1:111122223333:phone-number/phone-0123456789abcdef", SMSNumber: "+18005550100", Dist: dist}
		if err := params.Validate(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cdkApp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(out, "cdk.out")), Context: &ctx})
		data = NewData(cdkApp, "RecoupData", nil)
		app = NewRecoup(cdkApp, "Recoup", &RecoupProps{Params: params, Data: data})
		Check(cdkApp)
		template = assertions.Template_FromStack(data.Stack, nil)
		appTmpl = assertions.Template_FromStack(app.Stack, nil)
		findings = Findings(cdkApp.Synth(nil))
		return m.Run()
	}()
	os.Exit(code)
}

func TestNoUnsuppressedNagFindings(t *testing.T) {
	sort.Strings(findings)
	for _, f := range findings {
		t.Error(f)
	}
}

func TestTables(t *testing.T) {
	template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(len(dynamo.Schema())))
	for _, spec := range dynamo.Schema() {
		props := map[string]any{
			"TableName":                        dynamo.DefaultPrefix + spec.Name,
			"BillingMode":                      "PAY_PER_REQUEST",
			"DeletionProtectionEnabled":        true,
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": assertions.Match_AnyValue()},
			"KeySchema": []any{
				map[string]any{"AttributeName": "PK", "KeyType": "HASH"},
				map[string]any{"AttributeName": "SK", "KeyType": "RANGE"},
			},
		}
		if spec.TTLAttr != "" {
			props["TimeToLiveSpecification"] = map[string]any{"AttributeName": spec.TTLAttr, "Enabled": true}
		}
		var gsis []any
		for _, ix := range spec.Indexes {
			gsis = append(gsis, assertions.Match_ObjectLike(&map[string]any{"IndexName": ix.Name}))
		}
		props["GlobalSecondaryIndexes"] = gsis
		template.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"Properties":     assertions.Match_ObjectLike(&props),
			"DeletionPolicy": "Retain",
		})
	}
}

func TestEncryptedStreamAndQueues(t *testing.T) {
	template.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	template.HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"Name": "recoup-engagement", "ShardCount": 4, "RetentionPeriodHours": 168,
		"StreamEncryption": map[string]any{"EncryptionType": "KMS", "KeyId": assertions.Match_AnyValue()}})
	template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"QueueName": "recoup-writeback.fifo", "FifoQueue": true, "VisibilityTimeout": 360,
		"KmsMasterKeyId": assertions.Match_AnyValue(),
		"RedrivePolicy":  map[string]any{"maxReceiveCount": 10, "deadLetterTargetArn": assertions.Match_AnyValue()}})
	for _, name := range []string{"recoup-writeback-dlq.fifo", "recoup-writeback-rejects", "recoup-engagement-dlq", "recoup-engagement-failures"} {
		template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName": name, "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": assertions.Match_AnyValue()})
	}
	// Every queue refuses plain HTTP.
	policies := template.FindResources(jsii.String("AWS::SQS::QueuePolicy"), nil)
	if n := len(*policies); n != 5 {
		t.Errorf("%d queue policies, want one per queue (5)", n)
	}
	for id, p := range *policies {
		if s := fmt.Sprint(p); !strings.Contains(s, "aws:SecureTransport") || !strings.Contains(s, "Deny") {
			t.Errorf("queue policy %s does not deny insecure transport: %s", id, s)
		}
	}
	template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), map[string]any{
		"Name": "recoup/erp-connection", "KmsKeyId": assertions.Match_AnyValue(),
		// Starts empty, so the functions say what is missing, not that a
		// generated password is not JSON.
		"SecretString": "{}"})
}
