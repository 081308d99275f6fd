package d365sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// answer is what a request that ran answers.
type answer struct {
	status int
	body   map[string]any // nil for none
	etag   string
}

// op runs a checked request against the state, with s.mu held. fault is
// the injected fault, which FaultConcurrentUpdate acts on.
type op func(st *state, fault FaultKind) answer

func fail(status int, msg, inner string) answer {
	return answer{status: status, body: errorBody("", msg, inner)}
}

// etag is the weak ETag of a row version.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// nullDate is how F&O writes an empty date-time.
const nullDate = "1900-01-01T00:00:00Z"

// data serves a request under /data/: the checks of the package
// documentation, in order, then the request with any injected fault.
func (s *Server) data(w *recorder, r *http.Request) {
	tok, uses, ok := s.authenticate(r)
	if !ok {
		unauthorized(w, "the access token is missing, unknown or expired")
		return
	}
	set, keyText, keyed, perr := splitPath(strings.TrimPrefix(r.URL.Path, dataPrefix))
	e := entities[set]
	if e == nil {
		writeError(w, http.StatusNotFound, "", "Resource not found for the segment '"+clip(set)+"'.", "")
		return
	}
	w.route = set
	s.mu.Lock()
	s.requests[r.Method+" "+set]++
	s.mu.Unlock()
	refuse := func(err *apiError) { writeError(w, err.status, err.code, err.msg, err.detail) }
	if perr != nil {
		refuse(perr)
		return
	}
	if v := r.Header.Get("OData-Version"); v != "4.0" {
		refuse(badRequest("The OData-Version header is missing or not supported.", "send OData-Version: 4.0 (WIRE.md), got %q", clip(v)))
		return
	}
	if a := r.Header.Get("Accept"); !accepts(a) {
		refuse(&apiError{status: http.StatusNotAcceptable, msg: "The requested format is not supported.", detail: "Accept " + clip(a) + " does not list " + jsonType})
		return
	}
	hasBody := r.Method == http.MethodPost || r.Method == http.MethodPatch
	if ct := r.Header.Get("Content-Type"); hasBody && !jsonContent(ct) {
		refuse(&apiError{status: http.StatusUnsupportedMediaType, msg: "The request's content type is not supported.", detail: "Content-Type " + clip(ct) + " is not " + jsonType})
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(syntaxError("the query string does not decode: %v", err))
		return
	}
	if aerr := checkQuery(q, r.Method, keyed); aerr != nil {
		refuse(aerr)
		return
	}
	var key map[string]string
	if keyed {
		if key, perr = parseKey(keyText, e); perr != nil {
			refuse(perr)
			return
		}
	}
	var body []byte
	if hasBody {
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			refuse(badRequest("The request body could not be read.", "%v", err))
			return
		}
	}
	run, aerr := s.prepare(e, r, key, q, body)
	if aerr != nil {
		refuse(aerr)
		return
	}
	s.serve(w, r, run, tok, uses)
}

// checkQuery allows cross-company=true on every request (required), and
// $filter and $select only where WIRE.md sends them.
func checkQuery(q url.Values, method string, keyed bool) *apiError {
	if cc := q["cross-company"]; len(cc) != 1 || cc[0] != "true" {
		return badRequest("The query specified in the URI is not valid.", "send cross-company=true on every request (WIRE.md): the key or $filter names the company")
	}
	for name, v := range q {
		if len(v) != 1 {
			return syntaxError("%s is given %d times", clip(name), len(v))
		}
		switch {
		case name == "cross-company":
		case name == "$select" && method == http.MethodGet:
		case name == "$filter" && method == http.MethodGet && !keyed:
		default:
			return badRequest("The query specified in the URI is not valid.", "%s is not supported on %s of this resource by the simulator (WIRE.md)", clip(name), method)
		}
	}
	return nil
}

// prepare checks what is left (the method, $filter and $select, the body,
// If-Match) and answers the operation.
func (s *Server) prepare(e *entity, r *http.Request, key map[string]string, q url.Values, body []byte) (op, *apiError) {
	notAllowed := &apiError{status: http.StatusMethodNotAllowed, msg: "The requested resource does not support http method '" + clip(r.Method) + "'.",
		detail: "WIRE.md makes no such request of " + e.set}
	base := "http://" + r.Host + "/data/$metadata#" + e.set
	keyed := key != nil
	switch {
	case r.Method == http.MethodGet && keyed && e.getKey, r.Method == http.MethodGet && !keyed && e.getCollection:
		var sel []string
		if v, ok := q["$select"]; ok {
			var err *apiError
			if sel, err = parseSelect(v[0], e); err != nil {
				return nil, err
			}
		}
		if keyed {
			return func(st *state, _ FaultKind) answer {
				row, ver, found := st.row(e, key)
				if !found {
					return fail(http.StatusNotFound, "Resource not found for the segment '"+e.set+"'.", "")
				}
				out := project(row, sel)
				out["@odata.context"], out["@odata.etag"] = base+"/$entity", etag(ver)
				return answer{status: http.StatusOK, body: out, etag: etag(ver)}
			}, nil
		}
		f, ok := q["$filter"]
		if !ok {
			return nil, badRequest("The query specified in the URI is not valid.", "collection reads carry a $filter on dataAreaId (WIRE.md)")
		}
		clauses, company, err := parseFilter(f[0], e)
		if err != nil {
			return nil, err
		}
		return func(st *state, _ FaultKind) answer {
			value := []any{}
			for _, rv := range st.rows(e, company) {
				if !slices.ContainsFunc(clauses, func(c clause) bool { return !matches(c.value, fmt.Sprint(rv.row[c.field])) }) {
					out := project(rv.row, sel)
					out["@odata.etag"] = etag(rv.version)
					value = append(value, out)
				}
			}
			return answer{status: http.StatusOK, body: map[string]any{"@odata.context": base, "value": value}}
		}, nil

	case r.Method == http.MethodPost && !keyed && e.post:
		in, err := parseBody(body, e, e.postFields)
		if err != nil {
			return nil, err
		}
		return func(st *state, _ FaultKind) answer {
			a := st.create(e, in)
			if a.body != nil && a.status == http.StatusCreated {
				a.body["@odata.context"] = base + "/$entity"
			}
			return a
		}, nil

	case r.Method == http.MethodPatch && keyed && e.patch:
		im := r.Header.Get("If-Match")
		if im == "" || im == "*" {
			return nil, &apiError{status: http.StatusPreconditionRequired, msg: "The request must be conditional.",
				detail: "send If-Match with the ETag as read, never * (WIRE.md)"}
		}
		in, err := parseBody(body, e, e.patchFields)
		if err != nil {
			return nil, err
		}
		return func(st *state, f FaultKind) answer { return st.update(e, key, im, in, f == FaultConcurrentUpdate) }, nil
	}
	return nil, notAllowed
}

// project keeps the selected properties of row (all when sel is empty).
func project(row map[string]any, sel []string) map[string]any {
	out := map[string]any{}
	for k, v := range row {
		if len(sel) == 0 || slices.Contains(sel, k) {
			out[k] = v
		}
	}
	return out
}

// rowVersion is an entity row with its version.
type rowVersion struct {
	row     map[string]any
	version int64
}

func num(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

func orNull(date string) string {
	if date == "" {
		return nullDate
	}
	return date
}

func customerRow(c *Customer) map[string]any {
	return map[string]any{"dataAreaId": c.Company, "CustomerAccount": c.Account, "OnHoldStatus": c.OnHoldStatus, "SalesCurrencyCode": c.Currency}
}

func disputeRow(company string, d *Dispute) map[string]any {
	amt := d.AmountCur
	if amt == "" {
		amt = "0"
	}
	return map[string]any{"dataAreaId": company, "SysRecId": num(d.RecID), "CustTrans": num(d.CustTrans), "Status": d.Status,
		"FollowUpDate": orNull(d.FollowUpDate), "Note": d.Note, "AmountCur": json.Number(amt)}
}

func activityRow(a *Activity) map[string]any {
	return map[string]any{"dataAreaId": a.Company, "ActivityNumber": a.Number, "Category": a.Category, "Purpose": a.Purpose,
		"Notes": a.Notes, "StartDateTime": a.StartDateTime, "EndDateTime": a.EndDateTime, "Closed": a.Closed}
}

func attachmentRow(c *Customer, a Attachment) map[string]any {
	return map[string]any{"dataAreaId": c.Company, "DocumentId": a.DocumentID, "CustomerAccountNumber": c.Account,
		"TypeId": a.TypeID, "Name": a.Name, "Notes": a.Notes}
}

// row answers the entity with key (only CustomersV3 is read by key).
func (st *state) row(e *entity, key map[string]string) (map[string]any, int64, bool) {
	if e.set != "CustomersV3" {
		return nil, 0, false
	}
	c := st.customer(key["dataAreaId"], key["CustomerAccount"])
	if c == nil {
		return nil, 0, false
	}
	return customerRow(c), c.Version, true
}

// rows answers the rows of a collection in company, in creation order.
func (st *state) rows(e *entity, company string) []rowVersion {
	var out []rowVersion
	switch e.set {
	case "CustomerAttachments":
		for _, k := range st.order {
			c := st.customers[k]
			if strings.EqualFold(c.Company, company) {
				for _, a := range c.Attachments {
					out = append(out, rowVersion{attachmentRow(c, a), 1})
				}
			}
		}
	case "Activities":
		for _, a := range st.activities {
			if strings.EqualFold(a.Company, company) {
				out = append(out, rowVersion{activityRow(a), 1})
			}
		}
	case "CustTransactions":
		for _, k := range st.order {
			c := st.customers[k]
			if strings.EqualFold(c.Company, company) {
				for _, t := range c.Transactions {
					out = append(out, rowVersion{map[string]any{"dataAreaId": c.Company, "SysRecId": num(t.RecID), "AccountNum": c.Account,
						"Invoice": t.Invoice, "CurrencyCode": t.Currency}, 1})
				}
			}
		}
	case "CustDisputes":
		for _, k := range st.order {
			c := st.customers[k]
			if strings.EqualFold(c.Company, company) {
				for _, t := range c.Transactions {
					if t.Dispute != nil {
						out = append(out, rowVersion{disputeRow(c.Company, t.Dispute), t.Dispute.Version})
					}
				}
			}
		}
	}
	return out
}

// infolog is F&O's answer to a write its business logic refuses.
func infolog(typ, msg string) answer {
	return fail(http.StatusBadRequest, "An error has occurred.",
		"Write failed for table row of type '"+typ+"'. Infolog: Error: "+msg)
}

// create runs a POST whose body passed the checks.
func (st *state) create(e *entity, in map[string]string) answer {
	company := in["dataAreaId"]
	switch e.set {
	case "CustomerAttachments":
		c := st.customer(company, in["CustomerAccountNumber"])
		if c == nil {
			return infolog("CustomerAttachmentEntity", "The customer account does not exist in the company.")
		}
		if !slices.Contains(st.noteTypes, in["TypeId"]) {
			return infolog("CustomerAttachmentEntity", "The document type does not exist.")
		}
		a := Attachment{DocumentID: fmt.Sprintf("%08x-0000-4000-8000-%012x", take(&st.next.doc), 0xd365),
			TypeID: in["TypeId"], Name: in["Name"], Notes: in["Notes"]}
		c.Attachments = append(c.Attachments, a)
		st.stamp("", a.Name)
		return answer{status: http.StatusCreated, body: withETag(attachmentRow(c, a), 1), etag: etag(1)}

	case "Activities":
		if !st.company(company) {
			return infolog("smmActivityEntity", "The company does not exist.")
		}
		if in["EndDateTime"] < in["StartDateTime"] { // same layout: text order is time order
			return infolog("smmActivityEntity", "The end date and time is before the start date and time.")
		}
		a := &Activity{Company: company, Number: fmt.Sprintf("ACT-%06d", take(&st.next.activity)), Category: in["Category"],
			Purpose: in["Purpose"], Notes: in["Notes"], StartDateTime: in["StartDateTime"], EndDateTime: in["EndDateTime"], Closed: in["Closed"]}
		st.activities = append(st.activities, a)
		st.stamp("", a.Purpose)
		return answer{status: http.StatusCreated, body: withETag(activityRow(a), 1), etag: etag(1)}

	case "CustDisputes":
		rec, _ := strconv.ParseInt(in["CustTrans"], 10, 64)
		c, t := st.transaction(company, rec)
		if t == nil {
			return infolog("CustDisputeEntity", "The customer transaction does not exist.")
		}
		if t.Dispute != nil {
			return infolog("CustDisputeEntity", "Cannot create a record in Dispute (CustDispute). The record already exists.")
		}
		d := &Dispute{RecID: take(&st.next.dispute), CustTrans: rec, Status: in["Status"], FollowUpDate: in["FollowUpDate"],
			AmountCur: in["AmountCur"], Note: in["Note"], Version: 1}
		t.Dispute = d
		st.disputes[d.RecID] = rec
		st.stamp("", d.Note)
		return answer{status: http.StatusCreated, body: withETag(disputeRow(c.Company, d), 1), etag: etag(1)}
	}
	return fail(http.StatusMethodNotAllowed, "The requested resource does not support http method 'POST'.", "")
}

func withETag(row map[string]any, version int64) map[string]any {
	row["@odata.etag"] = etag(version)
	return row
}

// update runs a PATCH whose body passed the checks. interfere changes the
// row first, as another user would (FaultConcurrentUpdate).
func (st *state) update(e *entity, key map[string]string, ifMatch string, in map[string]string, interfere bool) answer {
	notFound := fail(http.StatusNotFound, "Resource not found for the segment '"+e.set+"'.", "")
	stale := fail(http.StatusPreconditionFailed, "The record has been modified by someone else since it was read.",
		"If-Match "+clip(ifMatch)+" does not match the current ETag")
	switch e.set {
	case "CustomersV3":
		c := st.customer(key["dataAreaId"], key["CustomerAccount"])
		if c == nil {
			return notFound
		}
		if interfere {
			c.Version++
		}
		if ifMatch != etag(c.Version) {
			return stale
		}
		c.OnHoldStatus = in["OnHoldStatus"]
		c.Version++
		c.HoldUpdates++
		return answer{status: http.StatusNoContent, etag: etag(c.Version)}

	case "CustDisputes":
		rec, _ := strconv.ParseInt(key["SysRecId"], 10, 64)
		trans, ok := st.disputes[rec]
		if !ok {
			return notFound
		}
		_, t := st.transaction(key["dataAreaId"], trans)
		if t == nil {
			return notFound
		}
		d := t.Dispute
		if interfere {
			d.Version++
		}
		if ifMatch != etag(d.Version) {
			return stale
		}
		before := d.Note
		d.Status, d.Note = in["Status"], in["Note"]
		if v, ok := in["FollowUpDate"]; ok {
			d.FollowUpDate = v
		}
		if v, ok := in["AmountCur"]; ok {
			d.AmountCur = v
		}
		d.Version++
		d.Updates++
		st.stamp(before, d.Note)
		return answer{status: http.StatusNoContent, etag: etag(d.Version)}
	}
	return fail(http.StatusMethodNotAllowed, "The requested resource does not support http method 'PATCH'.", "")
}

// serve runs a checked request with any injected fault before or after
// it.
func (s *Server) serve(w *recorder, r *http.Request, run op, tok string, uses int) {
	s.mu.Lock()
	d := s.draw(r.Method, uses)
	if d.kind == FaultTokenExpired {
		delete(s.tokens, tok)
	}
	s.mu.Unlock()
	w.fault = d.kind

	switch d.kind {
	case FaultError500:
		writeError(w, http.StatusInternalServerError, "", "An error has occurred.", "A database connection was lost (simulated).")
		return
	case FaultTokenExpired:
		unauthorized(w, "the access token has expired")
		return
	case FaultThrottled:
		w.Header().Set("Retry-After", strconv.Itoa(d.retryAfter))
		writeError(w, http.StatusTooManyRequests, "", "Number of requests exceeded the limit of 6000 over the time window of 300 seconds.", "")
		return
	case FaultBusinessError:
		writeError(w, http.StatusBadRequest, "", "An error has occurred.", "Infolog: Error: The record is locked for posting by another process (simulated).")
		return
	case FaultSlow:
		t := time.NewTimer(d.slow)
		defer t.Stop()
		select {
		case <-r.Context().Done(): // the client gave up first: nothing ran
			w.outcome = "client_gone"
			return
		case <-t.C:
		}
	}

	s.mu.Lock()
	a := run(s.st, d.kind)
	s.mu.Unlock()
	w.outcome = strconv.Itoa(a.status)

	switch d.kind {
	case FaultError500AfterCommit:
		writeError(w, http.StatusInternalServerError, "", "An error has occurred.", "The connection was reset after the transaction committed (simulated).")
	case FaultTimeoutAfterCommit:
		t := time.NewTimer(d.hang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case FaultMalformed:
		body, status := a.body, a.status
		if body == nil {
			body, status = map[string]any{"@odata.etag": a.etag}, http.StatusOK
		}
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", jsonType)
		w.WriteHeader(status)
		w.Write(b[:len(b)/2])
	default:
		if a.etag != "" {
			w.Header().Set("ETag", a.etag)
		}
		if a.body == nil {
			w.Header().Set("OData-Version", "4.0")
			w.WriteHeader(a.status)
			return
		}
		writeJSON(w, a.status, a.body)
	}
}
