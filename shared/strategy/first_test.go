package strategy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/shared/compliance"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/money"
)

func TestUsualChannel(t *testing.T) {
	own := ledger.ContactPoint{ID: "e1", Email: &ledger.Email{Address: "pat@example.com"}}
	work := ledger.ContactPoint{ID: "e2", Email: &ledger.Email{Address: "pat@corp.example.com", EmployerProvided: true}}
	mobile := ledger.ContactPoint{ID: "p1", Phone: &ledger.Phone{E164: "+16175550142", Line: ledger.LineMobile}}
	land := ledger.ContactPoint{ID: "p2", Phone: &ledger.Phone{E164: "+16175550143", Line: ledger.LineLandline}}
	postal := ledger.ContactPoint{ID: "a1", Postal: &ledger.PostalAddress{State: "MA", ZIP: "02108"}}
	tests := []struct {
		name     string
		contacts []ledger.ContactPoint
		want     compliance.Channel
		wantID   string
	}{
		{"own email first", []ledger.ContactPoint{land, work, mobile, own}, compliance.ChannelEmail, "e1"},
		{"a work email before phones", []ledger.ContactPoint{land, mobile, work}, compliance.ChannelEmail, "e2"},
		{"a text to a mobile before a call", []ledger.ContactPoint{land, mobile}, compliance.ChannelSMS, "p1"},
		{"a call to a landline", []ledger.ContactPoint{postal, land}, compliance.ChannelCall, "p2"},
		{"a letter", []ledger.ContactPoint{postal}, compliance.ChannelLetter, "a1"},
		{"nothing on file: a letter", nil, compliance.ChannelLetter, ""},
	}
	for _, tt := range tests {
		ch, cp := usualChannel(Account{Contacts: tt.contacts})
		if ch != tt.want || cp.ID != tt.wantID {
			t.Errorf("%s: %s via %q, want %s via %q", tt.name, ch, cp.ID, tt.want, tt.wantID)
		}
	}
}

func TestFirstContactsOnePerOverdueInvoice(t *testing.T) {
	usd := money.MustCurrency("USD")
	at := time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC)
	inv := func(id string, due time.Time, open int64) ledger.Invoice {
		return ledger.Invoice{Tenant: "t", ID: id, Customer: "C1", InvoiceDate: due.AddDate(0, 0, -30), DueDate: due,
			Amount: money.New(10000, usd), Open: money.New(open, usd)}
	}
	accounts := Accounts(
		[]ledger.Customer{{Tenant: "t", ID: "C1"}},
		[]ledger.ContactPoint{{Customer: "C1", ID: "p1", Phone: &ledger.Phone{E164: "+16175550142", Line: ledger.LineMobile}},
			{Customer: "C1", ID: "a1", Postal: &ledger.PostalAddress{State: "MA", ZIP: "02108", Country: "US"}}},
		[]ledger.Invoice{
			inv("OVERDUE", ledger.Date(2026, 10, 1), 5000),
			inv("PAID", ledger.Date(2026, 10, 1), 0),
			inv("DUE-TODAY", ledger.Date(2026, 11, 1), 10000),
			inv("DISPUTED", ledger.Date(2026, 9, 1), 10000),
		},
		[]ledger.Dispute{{Customer: "C1", ID: "DSP-DISPUTED", Invoice: "DISPUTED", Status: ledger.DisputeOpen, OpenedAt: ledger.Date(2026, 9, 20)},
			{Customer: "C1", ID: "DSP-OLD", Invoice: "PAID", Status: ledger.DisputeResolved}},
	)
	plan := FirstContacts("t", ledger.FirstParty, at, accounts)
	var got []string
	for _, p := range plan {
		got = append(got, p.Request.Attempt.Debt+" "+string(p.Request.Attempt.Channel)+" "+p.Request.Attempt.To)
		if p.Request.Consumer.State != "MA" || len(p.Request.Events) != 1 || p.Request.Events[0].Debt != "DISPUTED" {
			t.Errorf("%s: consumer %+v, events %+v; want MA and the one open dispute", p.Request.AttemptID, p.Request.Consumer, p.Request.Events)
		}
	}
	want := []string{"DISPUTED sms +16175550142", "OVERDUE sms +16175550142"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("planned contacts (-want +got):\n%s", diff)
	}
}
