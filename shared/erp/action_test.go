package erp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC)

func valid(kind Kind) Action {
	a := New("acme", kind, "attempt:a-1", Target{Customer: "C-100", Transaction: "INV-7"}, at)
	a.Text, a.Subject, a.Date = "Called, promised Friday.", "Overdue notice", "2026-11-06"
	a.Amount, a.Receipt = &Money{Minor: 18000, Currency: "USD"}, "R-9"
	return a
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Action)
		fields []string // named in the error; none means valid
	}{
		{name: "note", edit: func(a *Action) { *a = valid(KindNote) }},
		{name: "every kind valid", edit: func(a *Action) {}},
		{name: "unknown kind", edit: func(a *Action) { a.Kind = "fax" }, fields: []string{"kind"}},
		{name: "cause without source", edit: func(a *Action) { a.Cause = "a-1" }, fields: []string{"cause"}},
		{name: "no customer", edit: func(a *Action) { a.Target.Customer = "" }, fields: []string{"target.customer"}},
		{name: "customer with #", edit: func(a *Action) { a.Target.Customer = "C#1" }, fields: []string{"target.customer"}},
		{name: "key not derived", edit: func(a *Action) { a.Key = strings.Repeat("0", 40) }, fields: []string{"key"}},
		{name: "target changed after keying", edit: func(a *Action) { a.Target.Transaction = "INV-8" }, fields: []string{"key"}},
		{name: "bad date", edit: func(a *Action) { a.Date = "06/11/2026" }, fields: []string{"date"}},
		{name: "unknown currency", edit: func(a *Action) { a.Amount.Currency = "XXQ" }, fields: []string{"amount.currency"}},
		{name: "negative amount", edit: func(a *Action) { a.Amount.Minor = -1 }, fields: []string{"amount.minor"}},
		{name: "text too long", edit: func(a *Action) { a.Text = strings.Repeat("x", maxText+1) }, fields: []string{"text"}},
		{name: "no time", edit: func(a *Action) { a.At = time.Time{} }, fields: []string{"at"}},
		{name: "note without text", edit: func(a *Action) { *a = New("acme", KindNote, "event:e", Target{Customer: "C"}, at) }, fields: []string{"text"}},
		{name: "task without subject or date", edit: func(a *Action) { *a = New("acme", KindTask, "event:e", Target{Customer: "C"}, at) },
			fields: []string{"subject", "date"}},
		{name: "promise without amount", edit: func(a *Action) {
			*a = New("acme", KindPromise, "event:e", Target{Customer: "C"}, at)
			a.Date = "2026-11-06"
		}, fields: []string{"amount"}},
		{name: "dispute without invoice", edit: func(a *Action) {
			*a = New("acme", KindDispute, "event:e", Target{Customer: "C"}, at)
			a.Amount, a.Text = &Money{Minor: 1, Currency: "USD"}, "wrong price"
		}, fields: []string{"target.transaction"}},
		{name: "payment without receipt", edit: func(a *Action) {
			*a = New("acme", KindPaymentApplied, "event:e", Target{Customer: "C", Transaction: "I"}, at)
			a.Amount = &Money{Minor: 1, Currency: "USD"}
		}, fields: []string{"receipt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range Kinds {
				a := valid(k)
				tt.edit(&a)
				err := a.Validate()
				if len(tt.fields) == 0 {
					if err != nil {
						t.Fatalf("%s: %v", k, err)
					}
					continue
				}
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("%s: err = %v, want ErrInvalid", k, err)
				}
				for _, f := range tt.fields {
					if !strings.Contains(err.Error(), ": "+f+": ") {
						t.Errorf("%s: %v does not name %s", k, err, f)
					}
				}
				if !strings.Contains(err.Error(), "action ") {
					t.Errorf("%s: %v does not name the action", k, err)
				}
			}
		})
	}
}

func TestKeyOf(t *testing.T) {
	base := KeyOf("acme", KindCreditHold, "decision:d1", Target{Customer: "C1"})
	if len(base) != 40 {
		t.Fatalf("key %q, want 40 hex digits", base)
	}
	if again := KeyOf("acme", KindCreditHold, "decision:d1", Target{Customer: "C1"}); again != base {
		t.Errorf("same cause gave %s then %s", base, again)
	}
	others := map[string]string{
		"tenant":   KeyOf("acme2", KindCreditHold, "decision:d1", Target{Customer: "C1"}),
		"kind":     KeyOf("acme", KindCreditRelease, "decision:d1", Target{Customer: "C1"}),
		"cause":    KeyOf("acme", KindCreditHold, "decision:d2", Target{Customer: "C1"}),
		"customer": KeyOf("acme", KindCreditHold, "decision:d1", Target{Customer: "C2"}),
		"site":     KeyOf("acme", KindCreditHold, "decision:d1", Target{Customer: "C1", Site: "S"}),
		// Length framing: moving a character between fields changes the key.
		"framing": KeyOf("acme", KindCreditHold, "decision:d", Target{Customer: "1C1"}),
	}
	for what, k := range others {
		if k == base {
			t.Errorf("another %s gave the same key", what)
		}
	}
}

func TestActionJSONRoundTrip(t *testing.T) {
	a := valid(KindPromise)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got Action
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(b), `"amount":{"minor":18000,"currency":"USD"}`) {
		t.Errorf("amount not in minor units: %s", b)
	}
}

func TestStates(t *testing.T) {
	tests := []struct {
		from, to State
		ok       bool
	}{
		{StatePending, StateSent, true},
		{StateSent, StateConfirmed, true},
		{StateSent, StatePending, true},
		{StateSent, StateSent, true},
		{StateConfirmed, StatePending, false},
		{StateConfirmed, StateSent, false},
		{StateFailed, StatePending, true},
		{StateFailed, StateSent, false},
		{StateDeadLettered, StatePending, true},
		{StateDeadLettered, StateConfirmed, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMove(tt.to); got != tt.ok {
			t.Errorf("%s → %s: %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	for _, s := range States {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if State("lost").Valid() {
		t.Error("unknown state valid")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"erp error kept", Permanent("HZ_API_NO_RECORD", "no account"), ClassPermanent},
		{"wrapped", errors.Join(errors.New("ctx"), Transient("503", "busy")), ClassTransient},
		{"invalid action", valid(KindNote).withKey("x").Validate(), ClassPermanent},
		{"anything else", errors.New("boom"), ClassTransient},
	}
	for _, tt := range tests {
		if got := Classify(tt.err).Class; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) not nil")
	}
}

func (a Action) withKey(k string) Action { a.Key = k; return a }
