package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// The consent ledger and the audit log only grow: no role may delete
// from them, nor overwrite in bulk, and the consent ledger takes puts only.
func TestAppendOnlyTables(t *testing.T) {
	forbidden := map[string][]string{
		dynamo.ConsentTable: {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"},
		dynamo.AuditTable:   {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"},
	}
	for table, actions := range forbidden {
		id := *data.GetLogicalId(data.Tables[table].Node().DefaultChild().(awscdk.CfnElement))
		var seen bool
		for _, s := range allows() {
			for _, r := range s.resources {
				if !strings.Contains(r, id) {
					continue
				}
				seen = true
				for _, a := range actions {
					if grants(s.actions, a) {
						t.Errorf("%s grants %s on the %s table (%s)", s.where, a, table, r)
					}
				}
			}
		}
		if !seen {
			t.Errorf("no statement names the %s table (%s): the test sees nothing", table, id)
		}
	}
}
