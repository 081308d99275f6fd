package ebssim

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// method is a deployed service method: its inputs as WIRE.md's table lists
// them and what the PL/SQL does.
type method struct {
	alias, name string
	inputs      []field
	// run is the PL/SQL behind the method, called with Server.mu held
	// once the inputs passed checkValues.
	run func(s *Server, in params) result
}

func (m *method) upper() string { return strings.ToUpper(m.name) }

// result is a PL/SQL call's OUT parameters.
type result struct {
	status string // X_RETURN_STATUS: S, E or U
	msg    string
	out    map[string]any
}

func success(out map[string]any) result { return result{status: "S", out: out} }

func fail(format string, args ...any) result {
	return result{status: "E", msg: fmt.Sprintf(format, args...)}
}

func (r result) body() any {
	p := map[string]any{"X_RETURN_STATUS": r.status, "X_MSG_COUNT": "0", "X_MSG_DATA": ""}
	if r.msg != "" {
		p["X_MSG_COUNT"], p["X_MSG_DATA"] = "1", r.msg
	}
	for k, v := range r.out {
		p[k] = v
	}
	return map[string]any{"OutputParameters": p}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// standard are the first inputs of the JTF, IEX and AR APIs; the contract
// always sends them with these values.
var standard = []field{fixed("P_API_VERSION", "1.0"), fixed("P_INIT_MSG_LIST", "T"), fixed("P_COMMIT", "T")}

func with(fs ...field) []field { return append(append([]field{}, standard...), fs...) }

// services are the default aliases of WIRE.md and their methods.
var services = func() map[string]map[string]*method {
	ms := []*method{
		{alias: "xx_recoup", name: "find_account", inputs: []field{str("P_ACCOUNT_NUMBER")}, run: findAccount},
		{alias: "xx_recoup", name: "find_action", inputs: []field{keyField("P_KEY")}, run: findAction},
		{alias: "xx_recoup", name: "find_transaction", inputs: []field{num("P_CUST_ACCOUNT_ID"), str("P_TRX_NUMBER")}, run: findTransaction},
		// P_TEXT is optional: the letter is printed from the ERP's own
		// dunning template, the text only goes with the request.
		{alias: "xx_recoup", name: "request_dunning", run: requestDunning,
			inputs: []field{num("P_CUST_ACCOUNT_ID"), keyField("P_KEY"), str("P_SUBJECT"), opt(str("P_TEXT"))}},
		{alias: "hz_cust_profile", name: "update_customer_profile", run: updateProfile, inputs: []field{
			fixed("P_INIT_MSG_LIST", "T"),
			rec("P_CUSTOMER_PROFILE_REC", num("CUST_ACCOUNT_PROFILE_ID"), enum("CREDIT_HOLD", "Y", "N")),
			num("P_OBJECT_VERSION_NUMBER")}},
		{alias: "jtf_notes", name: "secure_create_note", run: createNote, inputs: with(
			num("P_ORG_ID"), num("P_SOURCE_OBJECT_ID"), fixed("P_SOURCE_OBJECT_CODE", "IEX_ACCOUNT"),
			upTo(2000, str("P_NOTES")), opt(upTo(32767, str("P_NOTES_DETAIL"))), fixed("P_NOTE_STATUS", "I"),
			opt(str("P_NOTE_TYPE")), moment("P_ENTERED_DATE"), keyField("P_ATTRIBUTE15"),
			tbl("P_JTF_NOTE_CONTEXTS_TAB", fixed("NOTE_CONTEXT_TYPE", "PARTY"), num("NOTE_CONTEXT_TYPE_ID")))},
		{alias: "jtf_tasks", name: "create_task", run: createTask, inputs: with(
			upTo(80, str("P_TASK_NAME")), str("P_TASK_TYPE_NAME"), str("P_TASK_STATUS_NAME"),
			opt(upTo(4000, str("P_DESCRIPTION"))), fixed("P_OWNER_TYPE_CODE", "RS_EMPLOYEE"), num("P_OWNER_ID"),
			num("P_CUSTOMER_ID"), num("P_CUST_ACCOUNT_ID"), day("P_PLANNED_END_DATE"),
			fixed("P_SOURCE_OBJECT_TYPE_CODE", "PARTY"), num("P_SOURCE_OBJECT_ID"), keyField("P_ATTRIBUTE15"))},
		{alias: "iex_promises", name: "insert_promise", run: insertPromise, inputs: with(
			rec("P_PROMISE_REC", amt("PROMISE_AMOUNT"), str("CURRENCY_CODE"), day("PROMISE_DATE"),
				fixed("PROMISE_TARGET", "INVOICES"), num("CUST_ACCOUNT_ID"), num("DELINQUENCY_ID"),
				num("TAKEN_BY_RESOURCE_ID"), opt(upTo(2000, str("NOTE"))), rec("ATTRIBUTES", keyField("ATTRIBUTE15"))))},
		{alias: "iex_dispute", name: "create_dispute", run: createDispute, inputs: with(
			rec("P_DISP_HEADER_REC", num("CUST_TRX_ID"), fixed("LINE_CREDIT_FLAG", "N"), amt("LINE_AMT"),
				str("CM_REASON_CODE"), opt(upTo(2000, str("COMMENTS"))), num("DELINQUENCY_ID"), keyField("ATTRIBUTE15")))},
		{alias: "ar_receipt", name: "apply", run: applyReceipt, inputs: with(
			str("P_RECEIPT_NUMBER"), num("P_CUSTOMER_TRX_ID"), amt("P_AMOUNT_APPLIED"), num("P_ORG_ID"),
			rec("P_ATTRIBUTE_REC", keyField("ATTRIBUTE15")))},
	}
	out := map[string]map[string]*method{}
	for _, m := range ms {
		if out[m.alias] == nil {
			out[m.alias] = map[string]*method{}
		}
		out[m.alias][m.name] = m
	}
	return out
}()

func noAccount(custAccountID int64) result {
	return fail("HZ_API_NO_RECORD: no account id %d", custAccountID)
}

// checkOrg is the operating unit check: a P_ORG_ID other than the context's
// would write into another operating unit than the one granted.
func (s *Server) checkOrg(in params) (result, bool) {
	if org := in.str("P_ORG_ID"); org != s.cfg.Context.OrgID {
		return fail("FND_API_INVALID_PARAM: P_ORG_ID %s is not the context's operating unit %s", org, s.cfg.Context.OrgID), false
	}
	return result{}, true
}

func findAccount(s *Server, in params) result {
	n := in.str("P_ACCOUNT_NUMBER")
	a := s.st.accounts[n]
	if a == nil {
		return fail("HZ_API_NO_RECORD: no account %s", clip(n))
	}
	return success(map[string]any{"X_CUST_ACCOUNT_ID": id(a.CustAccountID), "X_PARTY_ID": id(a.PartyID),
		"X_CUST_ACCOUNT_PROFILE_ID": id(a.CustAccountProfileID), "X_CREDIT_HOLD": a.CreditHold,
		"X_OBJECT_VERSION_NUMBER": id(a.ObjectVersionNumber)})
}

func findAction(s *Server, in params) result {
	st := s.st.stamps[in.str("P_KEY")]
	if len(st) == 0 {
		return success(map[string]any{"X_FOUND": "N", "X_OBJECT_CODE": "", "X_OBJECT_ID": ""})
	}
	return success(map[string]any{"X_FOUND": "Y", "X_OBJECT_CODE": st[0].code, "X_OBJECT_ID": id(st[0].id)})
}

func findTransaction(s *Server, in params) result {
	a := s.st.byID[in.id("P_CUST_ACCOUNT_ID")]
	if a == nil {
		return noAccount(in.id("P_CUST_ACCOUNT_ID"))
	}
	n := in.str("P_TRX_NUMBER")
	t, found := a.transaction(n)
	if !found {
		return fail("AR_TRX_NOT_FOUND: no transaction %s", clip(n))
	}
	return success(map[string]any{"X_CUSTOMER_TRX_ID": id(t.CustomerTrxID), "X_DELINQUENCY_ID": id(t.DelinquencyID),
		"X_CURRENCY_CODE": t.Currency})
}

func requestDunning(s *Server, in params) result {
	a := s.st.byID[in.id("P_CUST_ACCOUNT_ID")]
	if a == nil {
		return noAccount(in.id("P_CUST_ACCOUNT_ID"))
	}
	o := s.st.create(&a.DunningRequests, &s.st.next.dunning, codeDunning, Object{Key: in.str("P_KEY"), Inputs: in})
	return success(map[string]any{"X_REQUEST_ID": id(o.ID)})
}

// updateProfile is HZ_CUSTOMER_PROFILE_V2PUB.update_customer_profile: the
// object version number is its optimistic lock, and it comes back
// incremented.
func updateProfile(s *Server, in params) result {
	r := in.rec("P_CUSTOMER_PROFILE_REC")
	a := s.st.byProfile[r.id("CUST_ACCOUNT_PROFILE_ID")]
	if a == nil {
		return fail("HZ_API_NO_RECORD: no customer profile %d", r.id("CUST_ACCOUNT_PROFILE_ID"))
	}
	if ovn := in.id("P_OBJECT_VERSION_NUMBER"); ovn != a.ObjectVersionNumber {
		return fail("HZ_API_RECORD_CHANGED: customer profile %d was changed by another user since it was read (version %d, not %d)",
			a.CustAccountProfileID, a.ObjectVersionNumber, ovn)
	}
	a.CreditHold = r.str("CREDIT_HOLD")
	a.ObjectVersionNumber++
	a.ProfileUpdates++
	return success(map[string]any{"P_OBJECT_VERSION_NUMBER": id(a.ObjectVersionNumber)})
}

func createNote(s *Server, in params) result {
	if r, good := s.checkOrg(in); !good {
		return r
	}
	a := s.st.byID[in.id("P_SOURCE_OBJECT_ID")]
	if a == nil {
		return noAccount(in.id("P_SOURCE_OBJECT_ID"))
	}
	notes, detail := in.str("P_NOTES"), in.str("P_NOTES_DETAIL")
	if detail != "" && (utf8.RuneCountInString(detail) <= 2000 || !strings.HasPrefix(detail, notes) || utf8.RuneCountInString(notes) != 2000) {
		return fail("FND_API_INVALID_PARAM: P_NOTES_DETAIL is sent only for a text longer than 2000 characters, with P_NOTES its first 2000")
	}
	ctx, _ := in.table("P_JTF_NOTE_CONTEXTS_TAB")
	if len(ctx) != 1 {
		return fail("FND_API_INVALID_PARAM: P_JTF_NOTE_CONTEXTS_TAB holds %d contexts, not the account's one PARTY", len(ctx))
	}
	if p := params(ctx[0]).id("NOTE_CONTEXT_TYPE_ID"); p != a.PartyID {
		return fail("HZ_API_NO_RECORD: no party %d for account id %d", p, a.CustAccountID)
	}
	o := s.st.create(&a.Notes, &s.st.next.note, codeNote, Object{Key: in.str("P_ATTRIBUTE15"), Inputs: in})
	return success(map[string]any{"X_JTF_NOTE_ID": id(o.ID)})
}

func createTask(s *Server, in params) result {
	a := s.st.byID[in.id("P_CUST_ACCOUNT_ID")]
	if a == nil {
		return noAccount(in.id("P_CUST_ACCOUNT_ID"))
	}
	for _, p := range []string{"P_CUSTOMER_ID", "P_SOURCE_OBJECT_ID"} {
		if in.id(p) != a.PartyID {
			return fail("HZ_API_NO_RECORD: %s: no party %d for account id %d", p, in.id(p), a.CustAccountID)
		}
	}
	o := s.st.create(&a.Tasks, &s.st.next.task, codeTask, Object{Key: in.str("P_ATTRIBUTE15"), Inputs: in})
	return success(map[string]any{"X_TASK_ID": id(o.ID)})
}

// insertPromise is IEX_PROMISES_PUB.insert_promise, whose PROMISE_DATE must
// be unique for the promised object: a blind retry fails instead of
// promising twice.
func insertPromise(s *Server, in params) result {
	r := in.rec("P_PROMISE_REC")
	a := s.st.byID[r.id("CUST_ACCOUNT_ID")]
	if a == nil {
		return noAccount(r.id("CUST_ACCOUNT_ID"))
	}
	t, found := a.delinquency(r.id("DELINQUENCY_ID"))
	if !found {
		return fail("AR_TRX_NOT_FOUND: no open delinquency %d for account id %d", r.id("DELINQUENCY_ID"), a.CustAccountID)
	}
	if sign(r.str("PROMISE_AMOUNT")) <= 0 {
		return fail("FND_API_INVALID_PARAM: P_PROMISE_REC.PROMISE_AMOUNT must be more than 0")
	}
	if c := r.str("CURRENCY_CODE"); c != t.Currency {
		return fail("FND_API_INVALID_PARAM: P_PROMISE_REC.CURRENCY_CODE %s is not the currency %s of transaction %s", clip(c), t.Currency, t.Number)
	}
	for _, p := range a.Promises {
		pr := params(p.Inputs).rec("P_PROMISE_REC")
		if pr.id("DELINQUENCY_ID") == t.DelinquencyID && pr.str("PROMISE_DATE") == r.str("PROMISE_DATE") {
			return fail("IEX_PROMISE_DATE_EXISTS: delinquency %d already has promise %d dated %s", t.DelinquencyID, p.ID, r.str("PROMISE_DATE"))
		}
	}
	o := Object{Key: r.rec("ATTRIBUTES").str("ATTRIBUTE15"), TrxNumber: t.Number, Inputs: in}
	noteID := ""
	if r.str("NOTE") != "" {
		o.NoteID = take(&s.st.next.note)
		noteID = id(o.NoteID)
	}
	o = s.st.create(&a.Promises, &s.st.next.promise, codePromise, o)
	return success(map[string]any{"X_PRORESP_REC": map[string]any{
		"PROMISE_ID": id(o.ID), "NOTE_ID": noteID, "STATUS": "COLLECTABLE", "STATE": "PROMISE"}})
}

func createDispute(s *Server, in params) result {
	r := in.rec("P_DISP_HEADER_REC")
	ref, found := s.st.trx[r.id("CUST_TRX_ID")]
	if !found {
		return fail("AR_TRX_NOT_FOUND: no transaction id %d", r.id("CUST_TRX_ID"))
	}
	t := ref.acct.Transactions[ref.i]
	if d := r.id("DELINQUENCY_ID"); d != t.DelinquencyID {
		return fail("AR_TRX_NOT_FOUND: delinquency %d is not the open delinquency of transaction %s", d, t.Number)
	}
	if sign(r.str("LINE_AMT")) >= 0 {
		return fail("FND_API_INVALID_PARAM: P_DISP_HEADER_REC.LINE_AMT must be negative: the credit asked")
	}
	o := s.st.create(&ref.acct.Disputes, &s.st.next.cmRequest, codeCMRequest, Object{Key: r.str("ATTRIBUTE15"), TrxNumber: t.Number, Inputs: in})
	return success(map[string]any{"X_REQUEST_ID": id(o.ID)})
}

func applyReceipt(s *Server, in params) result {
	if r, good := s.checkOrg(in); !good {
		return r
	}
	ref, found := s.st.trx[in.id("P_CUSTOMER_TRX_ID")]
	if !found {
		return fail("AR_TRX_NOT_FOUND: no transaction id %d", in.id("P_CUSTOMER_TRX_ID"))
	}
	if sign(in.str("P_AMOUNT_APPLIED")) <= 0 {
		return fail("FND_API_INVALID_PARAM: P_AMOUNT_APPLIED must be more than 0")
	}
	t := ref.acct.Transactions[ref.i]
	s.st.create(&ref.acct.Applications, &s.st.next.app, codeApplication,
		Object{Key: in.rec("P_ATTRIBUTE_REC").str("ATTRIBUTE15"), TrxNumber: t.Number, Inputs: in})
	return success(nil)
}
