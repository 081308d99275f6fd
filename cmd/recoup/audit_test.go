package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/audit"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// TestIntegrationAuditVerifyCatchesAHandEditedRecord appends a short chain,
// checks `recoup audit verify` and an exported file verify, then edits one
// stored record by hand and expects verify to fail naming it.
func TestIntegrationAuditVerifyCatchesAHandEditedRecord(t *testing.T) {
	localtest.Require(t)
	ctx := context.Background()
	if code := run(ctx, []string{"tables", "create"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("tables create exited %d", code)
	}
	store, err := openAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tenant := ledger.TenantID(fmt.Sprintf("aud%d", time.Now().UnixNano()))
	at := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	for i := range 5 {
		_, err := store.Append(ctx, tenant, audit.Record{At: at.Add(time.Duration(i) * time.Minute), Kind: audit.KindDecision,
			Account: fmt.Sprintf("C%d", i%2), Debt: "INV-1", Decision: "allow", PolicyVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
	}
	verify := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"audit", "verify", "--tenant", string(tenant)}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := verify(); code != 0 || !strings.Contains(out, "ok:") {
		t.Fatalf("verify of an intact chain exited %d:\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	var errOut bytes.Buffer
	if code := run(ctx, []string{"audit", "export", "--tenant", string(tenant), "--out", file}, &bytes.Buffer{}, &errOut); code != 0 {
		t.Fatalf("export exited %d: %s", code, errOut.String())
	}
	if code, out := verify("--file", file); code != 0 {
		t.Fatalf("verify of the export exited %d:\n%s", code, out)
	}
	var csvOut bytes.Buffer
	if code := run(ctx, []string{"audit", "export", "--tenant", string(tenant), "--account", "C1", "--format", "csv"}, &csvOut, &bytes.Buffer{}); code != 0 {
		t.Fatal("csv export failed")
	}
	if lines := strings.Count(strings.TrimSpace(csvOut.String()), "\n"); lines != 2 { // header + C1's two records
		t.Errorf("csv export for C1 has %d data lines, want 2:\n%s", lines, csvOut.String())
	}

	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = awsconfig.DynamoDB(cfg).UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(awsconfig.TablePrefix() + "audit"),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "T#" + string(tenant) + "#LOG#0"},
			"SK": &types.AttributeValueMemberS{Value: fmt.Sprintf("%020d", 3)},
		},
		UpdateExpression:          aws.String("SET decision = :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "block"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out := verify()
	if code != 1 || !strings.Contains(out, "seq 3: edited") {
		t.Errorf("verify after editing seq 3 exited %d, want 1 naming seq 3:\n%s", code, out)
	}
}
