package dynamics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/money"
)

// markerPrefix starts the key marker every created record carries. It has
// no '[', '_' or '%': F&O turns '*' wildcards into SQL LIKE, where those
// are special (WIRE.md).
const markerPrefix = "recoup:"

// marker is the stamp Find searches for.
func marker(key string) string { return markerPrefix + key }

// purposeMax is the length Activities.Purpose is cut to (WIRE.md,
// [inference]).
const purposeMax = 60

// errUnsupported is the refusal of payment_applied.
func errUnsupported(k erp.Kind) *erp.Error {
	return &erp.Error{Class: erp.ClassPermanent, Code: "unsupported", NotSent: true,
		Message: fmt.Sprintf("%s is not supported by the Dynamics adapter: settle in D365", k)}
}

// Apply writes a to F&O and returns the key of the record it created or
// changed, as OData addresses it. The reads it needs first (the customer,
// the invoice's transaction) fail as the action would.
func (c *Client) Apply(ctx context.Context, a erp.Action) (string, error) {
	if err := a.Validate(); err != nil {
		return "", erp.Classify(err)
	}
	if a.Kind == erp.KindPaymentApplied {
		return "", errUnsupported(a.Kind)
	}
	var (
		ref string
		err *erp.Error
	)
	switch a.Kind {
	case erp.KindCreditHold, erp.KindCreditRelease:
		ref, err = c.hold(ctx, a)
	case erp.KindNote:
		ref, err = c.note(ctx, a)
	case erp.KindTask, erp.KindDunningLetter:
		ref, err = c.activity(ctx, a)
	case erp.KindPromise, erp.KindDispute:
		ref, err = c.dispute(ctx, a)
	default:
		err = errUnsupported(a.Kind)
	}
	if err != nil {
		return "", err
	}
	return ref, nil
}

// Find reads back whether a is applied: a hold by the customer's
// OnHoldStatus, everything else by the key marker.
func (c *Client) Find(ctx context.Context, a erp.Action) (string, bool, error) {
	var (
		ref   string
		found bool
		err   *erp.Error
	)
	switch a.Kind {
	case erp.KindCreditHold, erp.KindCreditRelease:
		var cu customer
		if cu, err = c.customer(ctx, a.Target.Customer); err == nil {
			ref, found = c.customerRef(a.Target.Customer), c.holdInPlace(a.Kind, cu.OnHoldStatus)
		}
	case erp.KindNote:
		ref, found, err = c.findNote(ctx, a)
	case erp.KindTask, erp.KindDunningLetter:
		ref, found, err = c.findActivity(ctx, a)
	case erp.KindPromise, erp.KindDispute:
		var id string
		if _, id, err = c.transaction(ctx, a); err == nil {
			var d *dispute
			if d, err = c.disputeOf(ctx, id); err == nil && d != nil && strings.Contains(d.Note, marker(a.Key)) {
				ref, found = c.disputeRef(d.RecID.String()), true
			}
		}
	default:
		// Nothing is ever written for payment_applied: "not found" lets the
		// delivery go on to Apply's refusal and fail the action once, where
		// an error here would be retried until dead-lettered.
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return ref, found, nil
}

// --- customers and holds ---

func (c *Client) customerPath(account string) string {
	return "CustomersV3(dataAreaId=" + str(c.cfg.Company) + ",CustomerAccount=" + str(account) + ")"
}

func (c *Client) customerRef(account string) string {
	return "CustomersV3(dataAreaId=" + lit(c.cfg.Company) + ",CustomerAccount=" + lit(account) + ")"
}

// customer reads the customer's hold and ETag. A 404 on the key is an
// account F&O does not know in the company: permanent, and named.
func (c *Client) customer(ctx context.Context, account string) (customer, *erp.Error) {
	rep, err := c.send(ctx, http.MethodGet, c.customerPath(account), query([2]string{"$select", "CustomerAccount,OnHoldStatus"}), nil, "")
	if err != nil {
		return customer{}, erp.Classify(err)
	}
	if rep.status == http.StatusNotFound {
		_, msg := message(rep.status, rep.body)
		return customer{}, &erp.Error{Class: erp.ClassPermanent, Code: "unknown_customer", NotSent: true,
			Message: fmt.Sprintf("customer account %s not found in company %s: %s", account, c.cfg.Company, msg)}
	}
	var cu customer
	if e := check("read customer", rep, false, &cu, func() bool {
		cu.ETag = etagOf(cu.ETag, rep)
		return cu.OnHoldStatus != "" && cu.ETag != ""
	}); e != nil {
		return customer{}, e
	}
	return cu, nil
}

// holdWanted is the OnHoldStatus an action sets.
func (c *Client) holdWanted(k erp.Kind) string {
	if k == erp.KindCreditHold {
		return c.cfg.HoldStatus
	}
	return "No"
}

// holdInPlace says whether status already does what the action asks: a
// hold is in place at the configured status or at All, which is stronger
// and never weakened; a release at No or Never (never on hold).
func (c *Client) holdInPlace(k erp.Kind, status string) bool {
	if k == erp.KindCreditHold {
		return status == c.cfg.HoldStatus || status == HoldAll
	}
	return status == "No" || status == "Never"
}

func (c *Client) hold(ctx context.Context, a erp.Action) (string, *erp.Error) {
	ref := c.customerRef(a.Target.Customer)
	body, _ := json.Marshal(map[string]string{"OnHoldStatus": c.holdWanted(a.Kind)})
	for attempt := 1; ; attempt++ {
		cu, e := c.customer(ctx, a.Target.Customer)
		if e != nil {
			return "", e
		}
		if c.holdInPlace(a.Kind, cu.OnHoldStatus) {
			return ref, nil // already as asked: nothing to change
		}
		rep, err := c.send(ctx, http.MethodPatch, c.customerPath(a.Target.Customer), "", body, cu.ETag)
		if err != nil {
			return "", erp.Classify(err)
		}
		e = check("update customer hold", rep, true, nil, nil)
		if e == nil {
			return ref, nil
		}
		if rep.status != http.StatusPreconditionFailed {
			return "", e
		}
		// Someone changed the customer since we read it: read again, as
		// the change may be the hold we want.
		if attempt == 2 {
			return "", etagConflict("customer " + a.Target.Customer)
		}
	}
}

func etagConflict(what string) *erp.Error {
	return &erp.Error{Class: erp.ClassTransient, Code: "etag_conflict", NotSent: true,
		Message: what + ": changed by someone else twice while we updated it (HTTP 412)"}
}

// --- notes ---

func (c *Client) note(ctx context.Context, a erp.Action) (string, *erp.Error) {
	if _, e := c.customer(ctx, a.Target.Customer); e != nil {
		return "", e
	}
	body, _ := json.Marshal(map[string]string{"dataAreaId": c.cfg.Company, "CustomerAccountNumber": a.Target.Customer,
		"TypeId": c.cfg.NoteType, "Name": marker(a.Key), "Notes": a.Text})
	rep, err := c.send(ctx, http.MethodPost, "CustomerAttachments", "", body, "")
	if err != nil {
		return "", erp.Classify(err)
	}
	var out attachment
	if e := check("create note", rep, true, &out, func() bool { return guid(out.DocumentID) }); e != nil {
		return "", e
	}
	return c.noteRef(out.DocumentID), nil
}

func (c *Client) noteRef(id string) string {
	return "CustomerAttachments(dataAreaId=" + lit(c.cfg.Company) + ",DocumentId=" + id + ")"
}

func (c *Client) findNote(ctx context.Context, a erp.Action) (string, bool, *erp.Error) {
	mk := marker(a.Key)
	q := query([2]string{"$filter", "dataAreaId eq " + lit(c.cfg.Company) + " and CustomerAccountNumber eq " + lit(a.Target.Customer) +
		" and Name eq " + lit(mk)}, [2]string{"$select", "DocumentId,CustomerAccountNumber,Name"})
	rep, err := c.send(ctx, http.MethodGet, "CustomerAttachments", q, nil, "")
	if err != nil {
		return "", false, erp.Classify(err)
	}
	var out collection[attachment]
	if e := check("find note", rep, false, &out, func() bool { return out.Value != nil }); e != nil {
		return "", false, e
	}
	for _, r := range *out.Value {
		if r.Name == mk && guid(r.DocumentID) {
			return c.noteRef(r.DocumentID), true, nil
		}
	}
	return "", false, nil
}

// guid reports whether s is a Guid as OData writes one, so it is safe bare
// in a key.
func guid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F'):
			return false
		}
	}
	return true
}

// --- tasks and dunning letters ---

func (c *Client) activity(ctx context.Context, a erp.Action) (string, *erp.Error) {
	if _, e := c.customer(ctx, a.Target.Customer); e != nil {
		return "", e
	}
	start := a.At.UTC().Truncate(time.Second)
	end := start
	category, what := "Task", a.Subject
	if a.Kind == erp.KindTask {
		due, _ := time.Parse(time.DateOnly, a.Date) // Validate checked it
		end = due.Add(12 * time.Hour)
		if end.Before(start) {
			start = end
		}
	} else {
		category, what = "Action", "dunning letter: "+a.Subject
	}
	notes := fmt.Sprintf("Customer %s: %s", a.Target.Customer, what)
	if a.Text != "" {
		notes += "\n\n" + a.Text
	}
	body, _ := json.Marshal(map[string]string{"dataAreaId": c.cfg.Company, "Category": category,
		"Purpose": cut(marker(a.Key)+" "+a.Subject, purposeMax), "Notes": notes,
		"StartDateTime": start.Format(time.RFC3339), "EndDateTime": end.Format(time.RFC3339), "Closed": "No"})
	rep, err := c.send(ctx, http.MethodPost, "Activities", "", body, "")
	if err != nil {
		return "", erp.Classify(err)
	}
	var out activity
	if e := check("create activity", rep, true, &out, func() bool { return out.Number != "" }); e != nil {
		return "", e
	}
	return c.activityRef(out.Number), nil
}

func (c *Client) activityRef(number string) string {
	return "Activities(dataAreaId=" + lit(c.cfg.Company) + ",ActivityNumber=" + lit(number) + ")"
}

func (c *Client) findActivity(ctx context.Context, a erp.Action) (string, bool, *erp.Error) {
	mk := marker(a.Key)
	q := query([2]string{"$filter", "dataAreaId eq " + lit(c.cfg.Company) + " and Purpose eq " + lit(mk+"*")},
		[2]string{"$select", "ActivityNumber,Purpose"})
	rep, err := c.send(ctx, http.MethodGet, "Activities", q, nil, "")
	if err != nil {
		return "", false, erp.Classify(err)
	}
	var out collection[activity]
	if e := check("find activity", rep, false, &out, func() bool { return out.Value != nil }); e != nil {
		return "", false, e
	}
	for _, r := range *out.Value {
		if strings.HasPrefix(r.Purpose, mk) && r.Number != "" {
			return c.activityRef(r.Number), true, nil
		}
	}
	return "", false, nil
}

// --- promises and disputes ---

// transaction finds the invoice's customer transaction and its RecId.
func (c *Client) transaction(ctx context.Context, a erp.Action) (custTrans, string, *erp.Error) {
	if a.Target.Transaction == "" {
		return custTrans{}, "", &erp.Error{Class: erp.ClassPermanent, Code: "no_transaction", NotSent: true,
			Message: fmt.Sprintf("F&O records a %s on an invoice's transaction; the action names no invoice", a.Kind)}
	}
	q := query([2]string{"$filter", "dataAreaId eq " + lit(c.cfg.Company) + " and AccountNum eq " + lit(a.Target.Customer) +
		" and Invoice eq " + lit(a.Target.Transaction)}, [2]string{"$select", "SysRecId,AccountNum,Invoice,CurrencyCode"})
	rep, err := c.send(ctx, http.MethodGet, "CustTransactions", q, nil, "")
	if err != nil {
		return custTrans{}, "", erp.Classify(err)
	}
	var out collection[custTrans]
	if e := check("find transaction", rep, false, &out, func() bool { return out.Value != nil }); e != nil {
		return custTrans{}, "", e
	}
	// F&O reads '*' in a literal as a wildcard: keep exact matches only.
	var hits []custTrans
	for _, t := range *out.Value {
		if t.Account == a.Target.Customer && t.Invoice == a.Target.Transaction {
			hits = append(hits, t)
		}
	}
	switch len(hits) {
	case 0:
		return custTrans{}, "", &erp.Error{Class: erp.ClassPermanent, Code: "unknown_transaction", NotSent: true,
			Message: fmt.Sprintf("no transaction for invoice %s of customer %s in company %s", a.Target.Transaction, a.Target.Customer, c.cfg.Company)}
	case 1:
	default:
		return custTrans{}, "", &erp.Error{Class: erp.ClassPermanent, Code: "ambiguous_transaction", NotSent: true,
			Message: fmt.Sprintf("%d transactions for invoice %s of customer %s in company %s", len(hits), a.Target.Transaction, a.Target.Customer, c.cfg.Company)}
	}
	id, ok := recID(hits[0].RecID)
	if !ok {
		return custTrans{}, "", &erp.Error{Class: erp.ClassTransient, Code: "malformed_response", NotSent: true,
			Message: fmt.Sprintf("find transaction: SysRecId %q is not a RecId", clip(hits[0].RecID.String(), 40))}
	}
	return hits[0], id, nil
}

// disputeOf reads the transaction's dispute row, nil when it has none.
func (c *Client) disputeOf(ctx context.Context, transID string) (*dispute, *erp.Error) {
	q := query([2]string{"$filter", "dataAreaId eq " + lit(c.cfg.Company) + " and CustTrans eq " + transID},
		[2]string{"$select", "SysRecId,CustTrans,Status,Note"})
	rep, err := c.send(ctx, http.MethodGet, "CustDisputes", q, nil, "")
	if err != nil {
		return nil, erp.Classify(err)
	}
	var out collection[dispute]
	if e := check("find dispute", rep, false, &out, func() bool {
		if out.Value == nil {
			return false
		}
		for _, d := range *out.Value {
			if _, ok := recID(d.RecID); !ok || d.ETag == "" {
				return false
			}
		}
		return true
	}); e != nil {
		return nil, e
	}
	for _, d := range *out.Value {
		if d.CustTrans.String() == transID {
			return &d, nil
		}
	}
	return nil, nil
}

func (c *Client) disputeRef(id string) string {
	return "CustDisputes(dataAreaId=" + lit(c.cfg.Company) + ",SysRecId=" + id + ")"
}

func (c *Client) dispute(ctx context.Context, a erp.Action) (string, *erp.Error) {
	if _, e := c.customer(ctx, a.Target.Customer); e != nil {
		return "", e
	}
	trans, transID, e := c.transaction(ctx, a)
	if e != nil {
		return "", e
	}
	amt, err := a.Amount.Amount()
	if err != nil { // Validate checked it
		return "", erp.Permanent("invalid_action", "%s amount: %v", a.Kind, err)
	}
	if trans.Currency != "" && !strings.EqualFold(trans.Currency, amt.Currency.Code()) {
		return "", &erp.Error{Class: erp.ClassPermanent, Code: "currency", NotSent: true,
			Message: fmt.Sprintf("%s in %s on invoice %s in %s", a.Kind, amt.Currency.Code(), a.Target.Transaction, trans.Currency)}
	}
	mk := marker(a.Key)
	line, fields := disputeLine(a, amt)

	var refused *erp.Error // the POST's refusal, kept while we look for a row created meanwhile
	patches := 0
	for {
		d, e := c.disputeOf(ctx, transID)
		if e != nil {
			return "", e
		}
		if d != nil && strings.Contains(d.Note, mk) {
			return c.disputeRef(d.RecID.String()), nil // applied by an earlier attempt
		}
		if d == nil {
			if refused != nil {
				return "", refused
			}
			body := map[string]any{"dataAreaId": c.cfg.Company, "CustTrans": json.Number(transID), "Note": line}
			for k, v := range fields {
				body[k] = v
			}
			ref, e := c.postDispute(ctx, body)
			if e == nil {
				return ref, nil
			}
			if e.Class != erp.ClassPermanent {
				return "", e
			}
			// Another action on the same invoice may have created the
			// row first: read again and update it if so.
			refused = e
			continue
		}
		patches++
		note := line
		if d.Note != "" {
			note = d.Note + "\n" + line
		}
		body := map[string]any{"Note": note}
		for k, v := range fields {
			body[k] = v
		}
		b, _ := json.Marshal(body)
		id := d.RecID.String()
		rep, err := c.send(ctx, http.MethodPatch, "CustDisputes(dataAreaId="+str(c.cfg.Company)+",SysRecId="+id+")", "", b, d.ETag)
		if err != nil {
			return "", erp.Classify(err)
		}
		e = check("update dispute", rep, true, nil, nil)
		switch {
		case e == nil:
			return c.disputeRef(id), nil
		case rep.status != http.StatusPreconditionFailed:
			return "", e
		case patches == 2:
			return "", etagConflict("dispute of invoice " + a.Target.Transaction)
		}
	}
}

func (c *Client) postDispute(ctx context.Context, body map[string]any) (string, *erp.Error) {
	b, _ := json.Marshal(body)
	rep, err := c.send(ctx, http.MethodPost, "CustDisputes", "", b, "")
	if err != nil {
		return "", erp.Classify(err)
	}
	var out dispute
	if e := check("create dispute", rep, true, &out, func() bool { _, ok := recID(out.RecID); return ok }); e != nil {
		return "", e
	}
	return c.disputeRef(out.RecID.String()), nil
}

// disputeLine is the note line a promise or dispute adds, with its key
// marker, and the fields it sets besides the note.
func disputeLine(a erp.Action, amt money.Amount) (string, map[string]any) {
	fields := map[string]any{}
	what := fmt.Sprintf("Disputed %s %s", amt.Decimal(), amt.Currency.Code())
	if a.Kind == erp.KindPromise {
		fields["Status"] = "PromiseToPay"
		what = fmt.Sprintf("Promise to pay %s %s by %s", amt.Decimal(), amt.Currency.Code(), a.Date)
	} else {
		fields["Status"] = "Disputed"
		// A decimal from minor units, sent as a JSON number: never a float.
		fields["AmountCur"] = json.Number(amt.Decimal())
	}
	if a.Date != "" {
		fields["FollowUpDate"] = a.Date + "T12:00:00Z"
	}
	line := a.At.UTC().Format(time.DateOnly) + " " + marker(a.Key) + " " + what
	if t := strings.TrimSpace(a.Text); t != "" {
		line += ": " + cut(strings.ReplaceAll(t, "\n", " "), 2000)
	}
	return line, fields
}

// cut shortens s to at most n characters (F&O string lengths count
// characters), never splitting one.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
