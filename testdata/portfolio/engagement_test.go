package portfolio

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recoup-dev/recoup/events"
	"github.com/recoup-dev/recoup/shared/money"
)

func contacted(n int) []Contacted {
	usd, _ := money.ParseCurrency("USD")
	at := time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC)
	chans := []events.Channel{events.ChannelEmail, events.ChannelSMS, events.ChannelVoice}
	var out []Contacted
	for i := range n {
		c := Contacted{Tenant: "demo", AttemptID: fmt.Sprintf("att-%d", i), Customer: fmt.Sprintf("C%05d", i),
			Channel: chans[i%3], To: fmt.Sprintf("+1617555%04d", i), Debt: fmt.Sprintf("INV-%d", i), Open: money.New(int64(1000+i), usd), At: at}
		if c.Channel == events.ChannelEmail {
			c.To = fmt.Sprintf("ap%d@example.com", i)
		}
		out = append(out, c)
	}
	return out
}

func TestEngagementDay(t *testing.T) {
	cs := contacted(900)
	evs := EngagementDay(42, cs)
	byType := map[events.Type]int{}
	for i, ev := range evs {
		if err := ev.Validate(); err != nil {
			t.Fatalf("event %d (%s): %v", i, ev.ID, err)
		}
		if i > 0 && ev.OccurredAt.Before(evs[i-1].OccurredAt) {
			t.Fatalf("event %d is out of time order", i)
		}
		byType[ev.Type()]++
	}
	for _, typ := range []events.Type{events.TypeDisputeRaised, events.TypeHardshipStated, events.TypeCeaseRequested} {
		if byType[typ] != 1 {
			t.Errorf("%s: %d events, want exactly 1", typ, byType[typ])
		}
	}
	for _, typ := range []events.Type{events.TypeEmailDelivered, events.TypeEmailBounced, events.TypeEmailOpened, events.TypeSMSDelivered,
		events.TypeSMSInbound, events.TypeCallOutcome, events.TypePaymentReceived, events.TypePromiseMade} {
		if byType[typ] == 0 {
			t.Errorf("no %s event in a day of 900 contacts", typ)
		}
	}
	if diff := cmp.Diff(evs, EngagementDay(42, cs), cmp.AllowUnexported(money.Currency{})); diff != "" {
		t.Errorf("the same seed gave other events:\n%s", diff)
	}
}
