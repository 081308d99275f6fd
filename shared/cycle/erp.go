package cycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// ERPWriter queues actions for the tenant's ERP (writeback.Submitter). It
// records each as pending before queueing, and the same action submitted
// twice is queued once, so the Send step may submit again on a retry.
type ERPWriter interface {
	Submit(ctx context.Context, actions []erp.Action) (int, error)
}

// SourceNone is the Draft step's source for an action without a message.
const SourceNone = "none"

// erpOnly reports whether an action may go without a message: it is a
// change in the ERP, not a contact.
func erpOnly(a strategy.Action) bool {
	return a == strategy.ActionCreditHold || a == strategy.ActionHandOff
}

// ERPRef names an action the Send step queued for the ERP.
type ERPRef struct {
	Kind erp.Kind `json:"kind"`
	Key  string   `json:"key"`
}

// noteInvoices is how many invoice numbers a collector note names.
const noteInvoices = 20

// handOffDays is how long the collector who takes a handed-off account has
// to act on it, the due date of the ERP task.
const handOffDays = 2

// erpDecision is what an approved decision itself changes in the ERP,
// whatever becomes of its message: a credit hold, or for a hand-off a
// task for the collector who takes the account to an agency or to legal.
// The cause is the pass through the Send state, so a retried pass
// submits the same action and a later pass (a new decision) a new one.
func erpDecision(t ledger.TenantID, customer, attempt string, dec Plan, now time.Time) []erp.Action {
	cause := "cycle:" + attempt
	target := erp.Target{Customer: customer}
	switch dec.Action {
	case strategy.ActionCreditHold:
		a := erp.New(t, erp.KindCreditHold, cause, target, now)
		a.Text = dec.Reason
		return []erp.Action{a}
	case strategy.ActionHandOff:
		a := erp.New(t, erp.KindTask, cause, target, now)
		a.Subject = "Hand off to collections agency or legal"
		a.Text = dec.Reason
		a.Date = now.AddDate(0, 0, handOffDays).Format(time.DateOnly)
		return []erp.Action{a}
	}
	return nil
}

// erpNote is the collector note a message that went out leaves on the
// customer's account, so the finance team sees the contact in the ERP's
// own collections history. Letters leave none: the dunning request is its
// own record there.
func erpNote(t ledger.TenantID, customer string, sent Sent, dec Plan, now time.Time) (erp.Action, bool) {
	if sent.Status != sender.StatusSent || dec.Channel == "" || dec.Channel == "letter" {
		return erp.Action{}, false
	}
	a := erp.New(t, erp.KindNote, "cycle:"+sent.AttemptID, erp.Target{Customer: customer}, now)
	step := strings.ReplaceAll(string(dec.Action), "_", " ")
	about := dec.Invoices
	more := ""
	if len(about) > noteInvoices {
		// A customer with hundreds of overdue invoices: the note names the
		// first ones and stays within what the ERP's note takes.
		about, more = about[:noteInvoices], fmt.Sprintf(" and %d more", len(dec.Invoices)-noteInvoices)
	}
	a.Text = fmt.Sprintf("Recoup: %s sent by %s about %s%s (step %s, attempt %s).",
		step, dec.Channel, strings.Join(about, ", "), more, dec.Step, sent.AttemptID)
	return a, true
}
