package events_test

import (
	"errors"
	"fmt"

	"github.com/recoup-dev/recoup/events"
)

// A consumer decodes each record, switches on the payload's type, and sends
// anything Decode refuses to the dead-letter queue with the error as reason.
func ExampleDecode() {
	record := []byte(`{
	  "schema_version": "1",
	  "id": "sms:inbound:4d8e2a6b",
	  "tenant": "acme-supply",
	  "customer": "C-10058",
	  "type": "sms.inbound",
	  "channel": "sms",
	  "contact_point": "+16175550123",
	  "occurred_at": "2025-03-04T17:03:22Z",
	  "source": "sms",
	  "payload": {"text": "STOP"}
	}`)
	e, err := events.Decode(record)
	if err != nil {
		fmt.Println("dead-letter:", err)
		return
	}
	switch p := e.Payload.(type) {
	case events.SMSInbound:
		fmt.Printf("%s texted %q from %s (key %s)\n", e.Customer, p.Text, e.ContactPoint, e.PartitionKey())
	case events.PaymentReceived:
		fmt.Println("payment of", p.Amount)
	}

	_, err = events.Decode([]byte(`{"schema_version": "1", "id": "payments:pi_1", "tenant": "acme-supply",
	  "customer": "C-10058", "type": "payment.received", "channel": "payment",
	  "occurred_at": "2025-03-04T17:09:13Z", "source": "payments",
	  "payload": {"amount": "12.345", "currency": "USD"}}`))
	fmt.Println("dead-letter:", err)
	fmt.Println("poison, not a retry:", errors.Is(err, events.ErrInvalid))
	// Output:
	// C-10058 texted "STOP" from +16175550123 (key acme-supply#C-10058)
	// dead-letter: payload.amount: "12.345" has more decimals than USD allows (2)
	// poison, not a retry: true
}
