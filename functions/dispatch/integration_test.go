package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/recoup-dev/recoup/infra/local/localtest"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/ledger"
)

// TestIntegrationDispatchBootstrap invokes the real bootstrap through the
// local Lambda host: an email inside Ohio's hours is allowed, the same
// email at 06:00 local is blocked with the instant it becomes lawful.
func TestIntegrationDispatchBootstrap(t *testing.T) {
	localtest.Require(t, "AWS_ENDPOINT_URL_LAMBDA")
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := lambda.NewFromConfig(cfg)
	tenant := ledger.TenantID(fmt.Sprintf("fn%d", time.Now().UnixNano()))
	invoke := func(id string, at time.Time) dispatch.Outcome {
		req := dispatch.Request{Tenant: tenant, AttemptID: id, Collector: ledger.ThirdParty, Customer: "C1",
			Consumer: compliance.Consumer{ID: "C1", State: "OH", ZIP: "43215",
				Emails: []compliance.EmailAddress{{Address: "pat@example.com"}}},
			Debts: []compliance.Debt{{ID: "A"}},
			Attempt: compliance.Attempt{At: at, Channel: compliance.ChannelEmail, Debt: "A", To: "pat@example.com",
				Purpose: compliance.PurposeCollection, Disclosures: []compliance.Disclosure{
					compliance.DisclosureMiniMiranda, compliance.DisclosureDebtCollector, compliance.DisclosureOptOut}}}
		payload, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("dispatch"), Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		if out.FunctionError != nil {
			t.Fatalf("dispatch failed: %s", out.Payload)
		}
		var o dispatch.Outcome
		if err := json.Unmarshal(out.Payload, &o); err != nil {
			t.Fatalf("decode %s: %v", out.Payload, err)
		}
		return o
	}
	day := time.Date(2026, 4, 14, 0, 0, 0, 0, time.UTC)
	if o := invoke("mail-1", day.Add(15*time.Hour)); o.Result.Decision != compliance.Allow {
		t.Errorf("email at 11:00 in Columbus: %+v, want allow", o.Result)
	}
	o := invoke("mail-2", day.Add(10*time.Hour)) // 06:00 EDT
	want := day.Add(12 * time.Hour)              // 08:00 EDT
	if o.Result.Decision != compliance.Block || o.Result.EarliestAllowedAt == nil || !o.Result.EarliestAllowedAt.Equal(want) {
		t.Errorf("email at 06:00 in Columbus: %+v, want blocked until %s", o.Result, want)
	}
}
