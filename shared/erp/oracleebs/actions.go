package oracleebs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/erp"
)

// account is what find_account says of a customer account.
type account struct {
	ID, Party, Profile, Hold, Version string
}

func (c *Client) account(ctx context.Context, number string) (account, error) {
	out, err := c.call(ctx, c.cfg.Aliases.Recoup, "find_account", map[string]any{"P_ACCOUNT_NUMBER": number})
	if err != nil {
		return account{}, err
	}
	a := account{ID: out.str("X_CUST_ACCOUNT_ID"), Party: out.str("X_PARTY_ID"), Profile: out.str("X_CUST_ACCOUNT_PROFILE_ID"),
		Hold: out.str("X_CREDIT_HOLD"), Version: out.str("X_OBJECT_VERSION_NUMBER")}
	if a.ID == "" || a.Party == "" || a.Profile == "" || a.Version == "" {
		return account{}, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response",
			Message: "find_account: answer without the account's ids", NotSent: true}
	}
	return a, nil
}

// transaction is what find_transaction says of an invoice.
type transaction struct {
	ID, Delinquency, Currency string
}

func (c *Client) transaction(ctx context.Context, acct account, number string) (transaction, error) {
	out, err := c.call(ctx, c.cfg.Aliases.Recoup, "find_transaction", map[string]any{"P_CUST_ACCOUNT_ID": acct.ID, "P_TRX_NUMBER": number})
	if err != nil {
		return transaction{}, err
	}
	t := transaction{ID: out.str("X_CUSTOMER_TRX_ID"), Delinquency: out.str("X_DELINQUENCY_ID"), Currency: out.str("X_CURRENCY_CODE")}
	if t.ID == "" {
		return transaction{}, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response",
			Message: "find_transaction: answer without the transaction id", NotSent: true}
	}
	return t, nil
}

// holdValue is the CREDIT_HOLD a hold or release asks for.
func holdValue(k erp.Kind) string {
	if k == erp.KindCreditHold {
		return "Y"
	}
	return "N"
}

// Apply writes a to EBS and returns the id EBS gave what it created (the
// profile id for a hold). Reads it needs first (the account's ids, the
// invoice's delinquency) fail as the action would.
func (c *Client) Apply(ctx context.Context, a erp.Action) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	acct, err := c.account(ctx, a.Target.Customer)
	if err != nil {
		return "", err
	}
	var trx transaction
	switch a.Kind {
	case erp.KindPromise, erp.KindDispute, erp.KindPaymentApplied:
		if a.Target.Transaction == "" {
			return "", erp.Permanent("no_transaction", "EBS records a %s against an invoice's delinquency; the action names no invoice", a.Kind)
		}
		if trx, err = c.transaction(ctx, acct, a.Target.Transaction); err != nil {
			return "", err
		}
	}
	std := map[string]any{"P_API_VERSION": "1.0", "P_INIT_MSG_LIST": "T", "P_COMMIT": "T"}
	with := func(m map[string]any) map[string]any {
		for k, v := range std {
			m[k] = v
		}
		return m
	}
	switch a.Kind {
	case erp.KindCreditHold, erp.KindCreditRelease:
		want := holdValue(a.Kind)
		if acct.Hold == want {
			return acct.Profile, nil // already as asked: nothing to change
		}
		_, err := c.call(ctx, c.cfg.Aliases.Profile, "update_customer_profile", map[string]any{
			"P_INIT_MSG_LIST":         "T",
			"P_CUSTOMER_PROFILE_REC":  map[string]any{"CUST_ACCOUNT_PROFILE_ID": acct.Profile, "CREDIT_HOLD": want},
			"P_OBJECT_VERSION_NUMBER": acct.Version,
		})
		return acct.Profile, err

	case erp.KindNote:
		notes, detail := cut(a.Text, 2000), ""
		if notes != a.Text {
			detail = a.Text
		}
		in := with(map[string]any{"P_ORG_ID": c.cfg.Context.OrgID, "P_SOURCE_OBJECT_ID": acct.ID,
			"P_SOURCE_OBJECT_CODE": "IEX_ACCOUNT", "P_NOTES": notes, "P_NOTE_STATUS": "I",
			"P_ENTERED_DATE": a.At.UTC().Format(time.DateOnly), "P_ATTRIBUTE15": a.Key,
			"P_JTF_NOTE_CONTEXTS_TAB": map[string]any{"P_JTF_NOTE_CONTEXTS_TAB_ITEM": []map[string]any{
				{"NOTE_CONTEXT_TYPE": "PARTY", "NOTE_CONTEXT_TYPE_ID": acct.Party}}}})
		if detail != "" {
			in["P_NOTES_DETAIL"] = detail
		}
		if c.cfg.NoteType != "" {
			in["P_NOTE_TYPE"] = c.cfg.NoteType
		}
		out, err := c.call(ctx, c.cfg.Aliases.Notes, "secure_create_note", in)
		return ref(out, "X_JTF_NOTE_ID"), err

	case erp.KindTask:
		out, err := c.call(ctx, c.cfg.Aliases.Tasks, "create_task", with(map[string]any{
			"P_TASK_NAME": cut(a.Subject, 80), "P_TASK_TYPE_NAME": c.cfg.TaskType, "P_TASK_STATUS_NAME": c.cfg.TaskStatus,
			"P_DESCRIPTION": cut(a.Text, 4000), "P_OWNER_TYPE_CODE": "RS_EMPLOYEE", "P_OWNER_ID": c.cfg.Resource,
			"P_CUSTOMER_ID": acct.Party, "P_CUST_ACCOUNT_ID": acct.ID, "P_PLANNED_END_DATE": a.Date,
			"P_SOURCE_OBJECT_TYPE_CODE": "PARTY", "P_SOURCE_OBJECT_ID": acct.Party, "P_ATTRIBUTE15": a.Key}))
		return ref(out, "X_TASK_ID"), err

	case erp.KindPromise:
		amt, err := a.Amount.Amount()
		if err != nil {
			return "", erp.Permanent("invalid_action", "promise amount: %v", err)
		}
		if trx.Currency != "" && trx.Currency != amt.Currency.Code() {
			return "", erp.Permanent("currency", "promise in %s on an invoice in %s", amt.Currency.Code(), trx.Currency)
		}
		out, err := c.call(ctx, c.cfg.Aliases.Promises, "insert_promise", with(map[string]any{"P_PROMISE_REC": map[string]any{
			"PROMISE_AMOUNT": amt.Decimal(), "CURRENCY_CODE": amt.Currency.Code(), "PROMISE_DATE": a.Date,
			"PROMISE_TARGET": "INVOICES", "CUST_ACCOUNT_ID": acct.ID, "DELINQUENCY_ID": trx.Delinquency,
			"TAKEN_BY_RESOURCE_ID": c.cfg.Resource, "NOTE": cut(a.Text, 2000),
			"ATTRIBUTES": map[string]any{"ATTRIBUTE15": a.Key}}}))
		if err != nil {
			return "", err
		}
		var rec struct {
			PromiseID string `json:"PROMISE_ID"`
		}
		if raw, ok := out["X_PRORESP_REC"]; ok {
			_ = json.Unmarshal(raw, &rec)
		}
		return rec.PromiseID, nil

	case erp.KindDispute:
		amt, err := a.Amount.Amount()
		if err != nil {
			return "", erp.Permanent("invalid_action", "dispute amount: %v", err)
		}
		out, err := c.call(ctx, c.cfg.Aliases.Disputes, "create_dispute", with(map[string]any{"P_DISP_HEADER_REC": map[string]any{
			"CUST_TRX_ID": trx.ID, "LINE_CREDIT_FLAG": "N", "LINE_AMT": "-" + amt.Decimal(), "CM_REASON_CODE": c.cfg.ReasonCode,
			"COMMENTS": cut(a.Text, 2000), "DELINQUENCY_ID": trx.Delinquency, "ATTRIBUTE15": a.Key}}))
		return ref(out, "X_REQUEST_ID"), err

	case erp.KindDunningLetter:
		out, err := c.call(ctx, c.cfg.Aliases.Recoup, "request_dunning", map[string]any{
			"P_CUST_ACCOUNT_ID": acct.ID, "P_KEY": a.Key, "P_SUBJECT": a.Subject, "P_TEXT": a.Text})
		return ref(out, "X_REQUEST_ID"), err

	case erp.KindPaymentApplied:
		amt, err := a.Amount.Amount()
		if err != nil {
			return "", erp.Permanent("invalid_action", "payment amount: %v", err)
		}
		_, err = c.call(ctx, c.cfg.Aliases.Receipts, "apply", with(map[string]any{"P_RECEIPT_NUMBER": a.Receipt,
			"P_CUSTOMER_TRX_ID": trx.ID, "P_AMOUNT_APPLIED": amt.Decimal(), "P_ORG_ID": c.cfg.Context.OrgID,
			"P_ATTRIBUTE_REC": map[string]any{"ATTRIBUTE15": a.Key}}))
		return a.Receipt + "/" + a.Target.Transaction, err
	}
	return "", erp.Permanent("unsupported", "action kind %s", a.Kind)
}

// Find reads back whether a is applied: a hold by the profile's
// CREDIT_HOLD, everything else by the key stamped in ATTRIBUTE15.
func (c *Client) Find(ctx context.Context, a erp.Action) (string, bool, error) {
	if a.Kind == erp.KindCreditHold || a.Kind == erp.KindCreditRelease {
		acct, err := c.account(ctx, a.Target.Customer)
		if err != nil {
			return "", false, err
		}
		return acct.Profile, acct.Hold == holdValue(a.Kind), nil
	}
	out, err := c.call(ctx, c.cfg.Aliases.Recoup, "find_action", map[string]any{"P_KEY": a.Key})
	if err != nil {
		return "", false, err
	}
	switch out.str("X_FOUND") {
	case "Y":
		id := out.str("X_OBJECT_ID")
		if a.Kind == erp.KindPaymentApplied {
			id = a.Receipt + "/" + a.Target.Transaction
		}
		return id, true, nil
	case "N":
		return "", false, nil
	}
	return "", false, &erp.Error{Class: erp.ClassTransient, Code: "malformed_response",
		Message: fmt.Sprintf("find_action: X_FOUND %q", out.str("X_FOUND")), NotSent: true}
}

// ref reads the id EBS returned; an applied action whose answer lacks it is
// still applied, so "" is returned rather than a failure.
func ref(out output, name string) string {
	if out == nil {
		return ""
	}
	return out.str(name)
}

// cut shortens s to at most n characters (EBS column lengths count
// characters in AL32UTF8 databases), never splitting one.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
