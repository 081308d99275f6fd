package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/infra/local/ebssim"
	"github.com/recoup-dev/recoup/shared/approval"
	"github.com/recoup-dev/recoup/shared/awsconfig"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/store/dynamo"
)

// erpDemo is the demo's ERP side: it seeds the EBS simulator with the
// accounts the export came from, approves the credit holds the cycle
// proposes as a collector would, waits for the write-back queue to drain
// and shows what reached the ERP.
type erpDemo struct {
	sim       string // the EBS simulator's endpoint
	tenant    ledger.TenantID
	lambda    *awslambda.Client
	sqs       *sqs.Client
	approvals *dynamo.Approvals
	statuses  *dynamo.Writebacks
	http      *http.Client
	approved  int
}

func newERPDemo(ctx context.Context, lc local.Config, tenant ledger.TenantID, approvals *dynamo.Approvals) (*erpDemo, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	db := awsconfig.DynamoDB(cfg)
	audit, err := dynamo.NewAudit(db, awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	wb, err := dynamo.NewWritebacks(db, audit, awsconfig.TablePrefix())
	if err != nil {
		return nil, err
	}
	return &erpDemo{sim: lc.EBSEndpoint(), tenant: tenant, lambda: awslambda.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg),
		approvals: approvals, statuses: wb, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// seed puts every customer account of the ledger, with its invoices, in
// the simulator: in a real tenant the ERP holds them already.
func (e *erpDemo) seed(ctx context.Context, w io.Writer, store *dynamo.Ledger) error {
	customers, err := store.Customers(ctx, e.tenant)
	if err != nil {
		return err
	}
	invoices, err := store.Invoices(ctx, e.tenant)
	if err != nil {
		return err
	}
	byCustomer := map[string][]string{}
	for _, inv := range invoices {
		byCustomer[inv.Customer] = append(byCustomer[inv.Customer], inv.ID)
	}
	seeds := make([]ebssim.AccountSeed, 0, len(customers))
	for _, c := range customers {
		s := ebssim.AccountSeed{Number: c.ID, Transactions: byCustomer[c.ID]}
		if !c.Currency.IsZero() {
			s.Currency = c.Currency.Code()
		}
		seeds = append(seeds, s)
	}
	if err := e.post(ctx, "/_sim/accounts", map[string]any{"accounts": seeds}, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "   the Oracle EBS simulator at %s holds the %d customer accounts and %d invoices of the export\n", e.sim, len(seeds), len(invoices))
	return nil
}

// approveHolds approves, through the approve Lambda as the finance team's
// API would, every credit hold waiting for a collector. The executions
// resume, and their Send step queues the hold for the ERP.
func (e *erpDemo) approveHolds(ctx context.Context) (int, error) {
	var holds []approval.Request
	after := ""
	for {
		page, err := e.approvals.Pending(ctx, e.tenant, after, approval.MaxPageSize)
		if err != nil {
			return 0, err
		}
		for _, r := range page {
			if r.Action == "credit_hold" {
				holds = append(holds, r)
			}
		}
		if len(page) < approval.MaxPageSize {
			break
		}
		after = page[len(page)-1].Cursor()
	}
	for _, r := range holds {
		body, _ := json.Marshal(approval.DecisionBody{Tenant: string(e.tenant), Verdict: "approved", By: "demo-collector",
			Note: "Approved in the demo: the customer is past the hold step of its sequence."})
		req := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/approvals/" + r.ID + "/decision",
			Resource: "/approvals/{id}/decision", PathParameters: map[string]string{"id": r.ID}, Body: string(body)}
		payload, _ := json.Marshal(req)
		out, err := e.lambda.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("approve"), Payload: payload})
		if err != nil {
			return 0, fmt.Errorf("approve %s: %w", r.ID, err)
		}
		var resp events.APIGatewayProxyResponse
		if out.FunctionError != nil || json.Unmarshal(out.Payload, &resp) != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("approve %s: %s", r.ID, clipText(string(out.Payload), 300))
		}
	}
	e.approved += len(holds)
	return len(holds), nil
}

// settle waits until the write-back queue is empty: every action the
// cycle queued has been delivered (or, after its last receive, moved to
// the dead-letter queue).
func (e *erpDemo) settle(ctx context.Context, timeout time.Duration) error {
	url, err := e.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(local.WritebackQueue)})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		// Approved holds reach the queue only when their execution has
		// resumed and passed Send: wait for them to be recorded first.
		holds, open, err := e.count(ctx)
		if err != nil {
			return err
		}
		if holds < e.approved || open > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("after %s, %d of %d approved holds are recorded for the ERP and %d actions are still pending", timeout, holds, e.approved, open)
			}
			time.Sleep(250 * time.Millisecond)
			continue
		}
		out, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			return err
		}
		a := out.Attributes
		left := a["ApproximateNumberOfMessages"] + "/" + a["ApproximateNumberOfMessagesNotVisible"] + "/" + a["ApproximateNumberOfMessagesDelayed"]
		if left == "0/0/0" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the write-back queue still holds messages after %s (visible/in flight/delayed %s)", timeout, left)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// count returns how many credit holds the write-back ledger holds, and how
// many actions are not yet settled (pending or in flight).
func (e *erpDemo) count(ctx context.Context) (holds, open int, err error) {
	for _, s := range []erp.State{erp.StatePending, erp.StateSent, erp.StateConfirmed, erp.StateFailed, erp.StateDeadLettered} {
		for st, err := range e.statuses.List(ctx, e.tenant, s) {
			if err != nil {
				return 0, 0, err
			}
			if st.Action.Kind == erp.KindCreditHold {
				holds++
			}
			if s == erp.StatePending || s == erp.StateSent {
				open++
			}
		}
	}
	return holds, open, nil
}

// print shows what reached the ERP: the delivery states Recoup recorded,
// and what the simulator holds — accounts on credit hold, dunning letter
// requests, collector notes and tasks — with one example of each.
func (e *erpDemo) print(ctx context.Context, w io.Writer) error {
	states := map[erp.State]int{}
	var problems []erp.Status
	for _, s := range []erp.State{erp.StatePending, erp.StateSent, erp.StateConfirmed, erp.StateFailed, erp.StateDeadLettered} {
		for st, err := range e.statuses.List(ctx, e.tenant, s) {
			if err != nil {
				return err
			}
			states[s]++
			if s == erp.StateFailed || s == erp.StateDeadLettered {
				problems = append(problems, st)
			}
		}
	}
	fmt.Fprintf(w, "   %d credit holds approved by a collector through the approve API\n", e.approved)
	fmt.Fprintf(w, "   write-back ledger: %d confirmed, %d failed, %d dead-lettered, %d pending, %d in flight\n",
		states[erp.StateConfirmed], states[erp.StateFailed], states[erp.StateDeadLettered], states[erp.StatePending], states[erp.StateSent])
	for i, p := range problems {
		if i == 3 {
			fmt.Fprintf(w, "     ... and %d more (`recoup writeback list --state failed`)\n", len(problems)-3)
			break
		}
		fmt.Fprintf(w, "     %s %s for %s: %s\n", p.State, p.Action.Kind, p.Action.Target.Customer, p.Error)
	}
	var out struct {
		Accounts []ebssim.Account `json:"accounts"`
	}
	if err := e.get(ctx, "/_sim/state", &out); err != nil {
		return err
	}
	var held []string
	var notes, tasks, letters, promises, disputes int
	var note, letter, task *ebssim.Object
	var noteOn, letterOn, taskOn string
	for _, a := range out.Accounts {
		if a.CreditHold == "Y" {
			held = append(held, fmt.Sprintf("%s (profile %d, version %d)", a.Number, a.CustAccountProfileID, a.ObjectVersionNumber))
		}
		notes += len(a.Notes)
		tasks += len(a.Tasks)
		letters += len(a.DunningRequests)
		promises += len(a.Promises)
		disputes += len(a.Disputes)
		if note == nil && len(a.Notes) > 0 {
			note, noteOn = &a.Notes[0], a.Number
		}
		if letter == nil && len(a.DunningRequests) > 0 {
			letter, letterOn = &a.DunningRequests[0], a.Number
		}
		if task == nil && len(a.Tasks) > 0 {
			task, taskOn = &a.Tasks[0], a.Number
		}
	}
	sort.Strings(held)
	fmt.Fprintf(w, "   in the ERP (the simulator's state): %d accounts on credit hold, %d dunning letter requests, %d collector notes, %d tasks, %d promises, %d disputes\n",
		len(held), letters, notes, tasks, promises, disputes)
	for i, h := range held {
		if i == 5 {
			fmt.Fprintf(w, "     ... and %d more\n", len(held)-5)
			break
		}
		fmt.Fprintf(w, "     on hold: %s\n", h)
	}
	show := func(what, on string, o *ebssim.Object, fields ...string) {
		if o == nil {
			return
		}
		var parts []string
		for _, f := range fields {
			if v, ok := o.Inputs[f].(string); ok && v != "" {
				parts = append(parts, fmt.Sprintf("%s=%q", f, clipText(v, 90)))
			}
		}
		fmt.Fprintf(w, "     %s %d on %s (key %s): %s\n", what, o.ID, on, o.Key, strings.Join(parts, " "))
	}
	show("dunning request", letterOn, letter, "P_SUBJECT")
	show("note", noteOn, note, "P_NOTES")
	show("task", taskOn, task, "P_TASK_NAME", "P_PLANNED_END_DATE")
	dup := 0
	applied := map[string]int{}
	if err := e.get(ctx, "/_sim/applied", &applied); err != nil {
		return err
	}
	for _, n := range applied {
		if n > 1 {
			dup++
		}
	}
	fmt.Fprintf(w, "   actions applied more than once in the ERP: %d\n", dup)
	if dup != 0 {
		return fmt.Errorf("%d actions were applied more than once in the ERP", dup)
	}
	return nil
}

func (e *erpDemo) post(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.sim+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return e.do(req, out)
}

func (e *erpDemo) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.sim+path, nil)
	if err != nil {
		return err
	}
	return e.do(req, out)
}

func (e *erpDemo) do(req *http.Request, out any) error {
	resp, err := e.http.Do(req)
	if err != nil {
		return fmt.Errorf("EBS simulator (is the local stack up? run `make up`): %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("EBS simulator %s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, clipText(string(b), 300))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
