package cycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/erp"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
	"github.com/recoup-dev/recoup/shared/sender"
	"github.com/recoup-dev/recoup/shared/strategy"
)

type oneAccount ledger.Account

func (a oneAccount) Account(_ context.Context, t ledger.TenantID, c string) (ledger.Account, bool, error) {
	return ledger.Account(a), t == "acme" && c == "C1", nil
}

// gateSays delivers with a fixed status and counts the deliveries.
type gateSays struct {
	status sender.Status
	calls  int
}

func (g *gateSays) Deliver(_ context.Context, req dispatch.Request, _ sender.Content) (sender.Result, error) {
	g.calls++
	return sender.Result{Status: g.status, Receipt: sender.Receipt{Provider: "ses", ProviderID: "m-" + req.AttemptID}}, nil
}

// erpQueue records what is submitted, as writeback.Submitter would queue it.
type erpQueue struct {
	got []erp.Action
	err error
}

func (q *erpQueue) Submit(_ context.Context, acts []erp.Action) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	n := 0
	for _, a := range acts {
		if err := a.Validate(); err != nil {
			return 0, err
		}
		// One action per key, as the write-back keeps it.
		if !slices.ContainsFunc(q.got, func(b erp.Action) bool { return b.Key == a.Key }) {
			q.got = append(q.got, a)
			n++
		}
	}
	return n, nil
}

func TestSendWritesToTheERP(t *testing.T) {
	now := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	usd := money.MustCurrency("USD")
	acct := oneAccount{
		Customer: ledger.Customer{Tenant: "acme", ID: "C1", Name: "Northwind", Kind: ledger.Business, Currency: usd},
		Contacts: []ledger.ContactPoint{{Tenant: "acme", Customer: "C1", ID: "E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "ap@northwind.example"}},
			{Tenant: "acme", Customer: "C1", ID: "A1", Kind: ledger.ContactPostal,
				Postal: &ledger.PostalAddress{Line1: "1 Main St", City: "Boston", State: "MA", ZIP: "02108", Country: "US"}}},
		Invoices: []ledger.Invoice{{Tenant: "acme", ID: "INV-1", Customer: "C1", InvoiceDate: ledger.Date(2026, 9, 1),
			DueDate: ledger.Date(2026, 10, 1), Amount: money.New(900000, usd), Open: money.New(900000, usd)}},
	}
	plan := func(action strategy.Action, ch consent.Channel) Plan {
		return Plan{Route: RouteAct, Decision: strategy.Decision{Tenant: "acme", Customer: "C1", Outcome: strategy.OutcomeAct,
			Action: action, Step: string(action), Channel: ch, Invoices: []string{"INV-1"}, RequiresApproval: true,
			Reason: "33 days past due after three reminders."}}
	}
	approved := &Approval{Verdict: "approved", By: "kim", At: now}
	ref := Ref{Tenant: "acme", Customer: "C1", Execution: "arn:aws:states:us-east-1:1:execution:recoup-cycle:acme-C1"}
	type want struct {
		kinds    []erp.Kind
		delivers int
		err      error // errors.Is
	}
	tests := []struct {
		name   string
		plan   Plan
		draft  Message
		status sender.Status
		noERP  bool
		qerr   error
		want   want
	}{
		{name: "a hold without a notice goes to the ERP only", plan: plan(strategy.ActionCreditHold, ""), draft: Message{Source: SourceNone},
			want: want{kinds: []erp.Kind{erp.KindCreditHold}}},
		{name: "a hold with its notice sent: the hold and the note", plan: plan(strategy.ActionCreditHold, consent.Email),
			draft: Message{Channel: consent.Email, Subject: "Hold", Body: "Your account is on hold."}, status: sender.StatusSent,
			want: want{kinds: []erp.Kind{erp.KindCreditHold, erp.KindNote}, delivers: 1}},
		{name: "a hold whose notice the gate blocks still stands", plan: plan(strategy.ActionCreditHold, consent.Email),
			draft: Message{Channel: consent.Email, Subject: "Hold", Body: "Your account is on hold."}, status: sender.StatusBlocked,
			want: want{kinds: []erp.Kind{erp.KindCreditHold}, delivers: 1}},
		{name: "a reminder sent leaves a note", plan: plan(strategy.ActionFirmReminder, consent.Email),
			draft: Message{Channel: consent.Email, Subject: "Overdue", Body: "INV-1 is overdue."}, status: sender.StatusSent,
			want: want{kinds: []erp.Kind{erp.KindNote}, delivers: 1}},
		{name: "a letter leaves no note: its dunning request is the record", plan: plan(strategy.ActionFinalNotice, consent.Letter),
			draft: Message{Channel: consent.Letter, Subject: "Final notice", Body: "Final notice."}, status: sender.StatusSent,
			want: want{delivers: 1}},
		{name: "a hand-off is a task for a collector", plan: plan(strategy.ActionHandOff, ""), draft: Message{Source: SourceNone},
			want: want{kinds: []erp.Kind{erp.KindTask}}},
		{name: "a hold with no write-back configured is refused", plan: plan(strategy.ActionCreditHold, ""), draft: Message{Source: SourceNone},
			noERP: true, want: want{err: ErrInput}},
		{name: "a queue that fails is retried", plan: plan(strategy.ActionCreditHold, ""), draft: Message{Source: SourceNone},
			qerr: errors.New("throttled"), want: want{err: Transient{}}},
		{name: "a reminder with no channel is refused", plan: plan(strategy.ActionFirmReminder, ""), draft: Message{Source: SourceNone},
			want: want{err: ErrInput}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateSays{status: tc.status}
			q := &erpQueue{err: tc.qerr}
			s := &Sender{Accounts: acct, Deliverer: g, Now: func() time.Time { return now },
				Collector: func(ledger.TenantID) ledger.CollectorType { return ledger.FirstParty }}
			if !tc.noERP {
				s.ERP = q
			}
			in := SendInput{Ref: ref, Entered: now, Decision: tc.plan, Draft: tc.draft, Approval: approved}
			got, err := s.Send(context.Background(), in)
			switch {
			case tc.want.err == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want.err != nil:
				var tr Transient
				if errors.As(tc.want.err, &tr) && !errors.As(err, &tr) || !errors.As(tc.want.err, &tr) && !errors.Is(err, tc.want.err) {
					t.Fatalf("error %v, want %v", err, tc.want.err)
				}
				return
			}
			var kinds []erp.Kind
			for _, a := range q.got {
				kinds = append(kinds, a.Kind)
			}
			if d := cmp.Diff(tc.want.kinds, kinds); d != "" {
				t.Errorf("ERP actions (-want +got):\n%s", d)
			}
			if g.calls != tc.want.delivers {
				t.Errorf("%d deliveries, want %d", g.calls, tc.want.delivers)
			}
			var refs []ERPRef
			for _, a := range q.got {
				refs = append(refs, ERPRef{Kind: a.Kind, Key: a.Key})
				if a.Kind == erp.KindTask && a.Date != "2026-11-05" {
					t.Errorf("hand-off task due %s, want 2026-11-05", a.Date)
				}
			}
			if d := cmp.Diff(refs, got.ERP); d != "" {
				t.Errorf("Sent.ERP (-queued +reported):\n%s", d)
			}
			// The Send task retried: the same actions, keyed the same.
			again, err := s.Send(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(got.ERP, again.ERP); d != "" {
				t.Errorf("a retry queued other actions (-first +retry):\n%s", d)
			}
		})
	}
}

func TestDraftOfAnActionWithoutMessage(t *testing.T) {
	s := &DraftStep{}
	in := DraftInput{Ref: Ref{Tenant: "acme", Customer: "C1", Execution: "x"},
		Decision: Plan{Route: RouteAct, Decision: strategy.Decision{Action: strategy.ActionCreditHold}}}
	m, err := s.Draft(context.Background(), in)
	if d := cmp.Diff(Message{Source: SourceNone}, m); err != nil || d != "" {
		t.Fatalf("hold without notice drafted %+v, %v; want an empty message", m, err)
	}
	in.Decision.Action = strategy.ActionFirmReminder
	if _, err := s.Draft(context.Background(), in); !errors.Is(err, ErrInput) {
		t.Fatalf("reminder without channel: %v, want ErrInput", err)
	}
}

func TestSendERPFailures(t *testing.T) {
	now := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	usd := money.MustCurrency("USD")
	acct := oneAccount{
		Customer: ledger.Customer{Tenant: "acme", ID: "C1", Name: "Northwind", Kind: ledger.Business, Currency: usd},
		Contacts: []ledger.ContactPoint{{Tenant: "acme", Customer: "C1", ID: "E1", Kind: ledger.ContactEmail, Email: &ledger.Email{Address: "ap@northwind.example"}}},
		Invoices: []ledger.Invoice{{Tenant: "acme", ID: "INV-1", Customer: "C1", InvoiceDate: ledger.Date(2026, 9, 1),
			DueDate: ledger.Date(2026, 10, 1), Amount: money.New(900000, usd), Open: money.New(900000, usd)}},
	}
	ref := Ref{Tenant: "acme", Customer: "C1", Execution: "arn:aws:states:us-east-1:1:execution:recoup-cycle:acme-C1"}
	plan := func(action strategy.Action, ch consent.Channel) Plan {
		return Plan{Route: RouteAct, Decision: strategy.Decision{Tenant: "acme", Customer: "C1", Outcome: strategy.OutcomeAct,
			Action: action, Step: string(action), Channel: ch, Invoices: []string{"INV-1"}, RequiresApproval: true, Reason: "r"}}
	}
	approved := &Approval{Verdict: "approved", By: "kim", At: now}
	t.Run("a hold whose notice cannot be sent is refused before anything is queued", func(t *testing.T) {
		q := &erpQueue{}
		g := &gateSays{status: sender.StatusSent}
		s := &Sender{Accounts: acct, Deliverer: g, ERP: q, Now: func() time.Time { return now },
			Collector: func(ledger.TenantID) ledger.CollectorType { return ledger.FirstParty }}
		_, err := s.Send(context.Background(), SendInput{Ref: ref, Entered: now, Decision: plan(strategy.ActionCreditHold, consent.SMS),
			Draft: Message{Channel: consent.SMS, Body: "Your account is on hold."}, Approval: approved})
		if !errors.Is(err, ErrInput) || len(q.got) != 0 || g.calls != 0 {
			t.Fatalf("error %v, %d queued, %d sent; want ErrInput and nothing queued or sent", err, len(q.got), g.calls)
		}
	})
	t.Run("a note the ERP cannot take does not fail a message that went out", func(t *testing.T) {
		q := &erpQueue{err: fmt.Errorf("%w: text too long", erp.ErrInvalid)}
		g := &gateSays{status: sender.StatusSent}
		s := &Sender{Accounts: acct, Deliverer: g, ERP: q, Now: func() time.Time { return now },
			Collector: func(ledger.TenantID) ledger.CollectorType { return ledger.FirstParty }}
		got, err := s.Send(context.Background(), SendInput{Ref: ref, Entered: now, Decision: plan(strategy.ActionFirmReminder, consent.Email),
			Draft: Message{Channel: consent.Email, Subject: "Overdue", Body: "INV-1 is overdue."}, Approval: approved})
		if err != nil || got.Status != sender.StatusSent || got.MessageID == "" || !strings.Contains(got.ERPSkipped, "text too long") {
			t.Fatalf("got %+v, %v; want the send reported and the note's refusal kept", got, err)
		}
	})
	t.Run("a note the queue cannot take now is retried", func(t *testing.T) {
		q := &erpQueue{err: errors.New("throttled")}
		s := &Sender{Accounts: acct, Deliverer: &gateSays{status: sender.StatusSent}, ERP: q, Now: func() time.Time { return now },
			Collector: func(ledger.TenantID) ledger.CollectorType { return ledger.FirstParty }}
		_, err := s.Send(context.Background(), SendInput{Ref: ref, Entered: now, Decision: plan(strategy.ActionFirmReminder, consent.Email),
			Draft: Message{Channel: consent.Email, Subject: "Overdue", Body: "INV-1 is overdue."}, Approval: approved})
		var tr Transient
		if !errors.As(err, &tr) {
			t.Fatalf("error %v, want Transient", err)
		}
	})
}

func TestNoteNamesAtMostTwentyInvoices(t *testing.T) {
	var invs []string
	for i := range 300 {
		invs = append(invs, fmt.Sprintf("INV-%06d", i))
	}
	dec := Plan{Decision: strategy.Decision{Action: strategy.ActionFirmReminder, Channel: consent.Email, Step: "firm", Invoices: invs}}
	a, ok := erpNote("acme", "C1", Sent{AttemptID: "cyc-1", Status: sender.StatusSent}, dec, time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC))
	if !ok || a.Validate() != nil || !strings.Contains(a.Text, "INV-000019 and 280 more") || strings.Contains(a.Text, "INV-000020") {
		t.Fatalf("note %q (valid: %v)", a.Text, a.Validate())
	}
}
