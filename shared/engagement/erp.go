package engagement

import (
	"fmt"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/erp"
)

// Days a collector has for the ERP task an event raises.
const (
	disputeTaskDays  = 5
	hardshipTaskDays = 2
)

// erpEffects is what an event records in the tenant's ERP, so the finance
// team sees it where they work: a promise to pay on its invoice, a task to
// verify a dispute or review a hardship, a note of a cease request. Each is
// caused by the event, so a redelivered event queues the same actions.
//
// A promise covering several invoices, or the whole balance, becomes a
// note: the ERP's promise is per invoice and the event does not say how
// the amount splits. A dispute becomes a task, not the ERP's dispute
// record: that needs the amount in dispute, which the person did not say.
func erpEffects(ev events.Event) []erp.Action {
	cause := "event:" + ev.ID
	target := erp.Target{Customer: ev.Customer}
	at := ev.OccurredAt.UTC()
	day := func(d int) string { return at.AddDate(0, 0, d).Format(time.DateOnly) }
	via := ""
	if ev.Channel != "" {
		via = " by " + string(ev.Channel)
	}
	switch p := ev.Payload.(type) {
	case events.PromiseMade:
		if len(p.Invoices) == 1 {
			t := target
			t.Transaction = p.Invoices[0]
			a := erp.New(ev.Tenant, erp.KindPromise, cause, t, at)
			amt := erp.MoneyOf(p.Amount)
			a.Amount, a.Date = &amt, p.PromisedDate.Format(time.DateOnly)
			a.Text = "Promise to pay made" + via + " (Recoup)."
			return []erp.Action{a}
		}
		covers := "the open balance"
		if len(p.Invoices) > 0 {
			covers = strings.Join(p.Invoices, ", ")
		}
		a := erp.New(ev.Tenant, erp.KindNote, cause, target, at)
		a.Text = fmt.Sprintf("Recoup: promise to pay %s by %s covering %s, made%s.", p.Amount, p.PromisedDate.Format(time.DateOnly), covers, via)
		return []erp.Action{a}
	case events.DisputeRaised:
		a := erp.New(ev.Tenant, erp.KindTask, cause, target, at)
		a.Subject = "Verify disputed invoice " + p.Invoice
		kind := "orally"
		if p.Written {
			kind = "in writing (verification is required before collecting: 15 USC 1692g(b))"
		}
		a.Text = fmt.Sprintf("Invoice %s disputed %s%s. Reason given: %s. Collection on it is paused until the dispute is resolved.",
			p.Invoice, kind, via, or(p.Reason, "none"))
		a.Date = day(disputeTaskDays)
		return []erp.Action{a}
	case events.HardshipStated:
		a := erp.New(ev.Tenant, erp.KindTask, cause, target, at)
		a.Subject = "Review a statement of hardship"
		a.Text = "The customer said they cannot pay" + via + ". Automated contact waits for a collector's review."
		a.Date = day(hardshipTaskDays)
		return []erp.Action{a}
	case events.CeaseRequested:
		a := erp.New(ev.Tenant, erp.KindNote, cause, target, at)
		if p.Written {
			a.Text = "Recoup: written request to cease communication received; no further collection contact (12 CFR 1006.6(c))."
		} else {
			a.Text = "Recoup: oral request to stop contact" + via + "; automated calls and texts stopped (47 CFR 64.1200(a)(10))."
		}
		return []erp.Action{a}
	}
	return nil
}

func or(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
