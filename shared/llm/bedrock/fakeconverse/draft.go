package fakeconverse

import (
	"fmt"
	"strings"
)

// goodDraft writes what a well-behaved model would: the facts block's
// values copied exactly, every disclosure verbatim, in the channel's form.
// Its wording differs from drafting's templates on purpose, so tests of the
// model path exercise the guardrails on text the templates never produce.
func goodDraft(r Request) string {
	b, err := factsOf(r)
	if err != nil {
		return "Hello. I could not find the account facts in the request."
	}
	var callback, callerID string
	var statements []string
	for _, d := range b.Disclosures {
		switch d.Kind {
		case "callback_number":
			callback = d.Text
		case "caller_identity":
			callerID = d.Text
		default:
			statements = append(statements, d.Text)
		}
	}
	about := fmt.Sprintf("invoice %s for %s, which was due on %s", b.Invoices[0].Number, b.Invoices[0].Amount, b.Invoices[0].Due)
	if len(b.Invoices) > 1 {
		about = fmt.Sprintf("%d open invoices totaling %s", len(b.Invoices), b.Total)
	}
	switch b.Channel {
	case "sms":
		parts := []string{fmt.Sprintf("%s: Hi %s, your balance of %s is past due.", b.Creditor, b.Greeting, b.Total)}
		if callback != "" {
			parts = append(parts, "Call us at "+callback+".")
		}
		if callerID != "" {
			parts = append(parts, callerID)
		}
		return strings.Join(append(parts, statements...), " ")
	case "call", "ai_voice":
		open := "Hello, this is a call from " + b.Creditor + "."
		if callerID != "" {
			open = "Hello. " + callerID
		}
		lines := []string{open, "Am I speaking with " + b.Greeting + "?"}
		lines = append(lines, statements...)
		lines = append(lines, "I'm calling about "+about+".")
		if b.Promise != nil {
			lines = append(lines, fmt.Sprintf("You mentioned you would pay %s by %s, so I wanted to check in on that.", b.Promise.Amount, b.Promise.Date))
		}
		lines = append(lines, "Would you be able to take care of the balance of "+b.Total+"?")
		if callback != "" {
			lines = append(lines, "You can also reach us at "+callback+".")
		}
		return strings.Join(append(lines, "Thanks for your time."), "\n")
	}
	var s strings.Builder
	fmt.Fprintf(&s, "Subject: Your account with %s\n\nDear %s,\n\n", b.Creditor, b.Greeting)
	if callerID != "" {
		s.WriteString(callerID + "\n\n")
	}
	fmt.Fprintf(&s, "I'm writing about %s.\n", about)
	if len(b.Invoices) > 1 {
		for _, inv := range b.Invoices {
			fmt.Fprintf(&s, "- %s: %s (due %s)\n", inv.Number, inv.Amount, inv.Due)
		}
	}
	if b.Promise != nil {
		fmt.Fprintf(&s, "\nThank you for your promise to pay %s by %s; we are following up on it.\n", b.Promise.Amount, b.Promise.Date)
	}
	s.WriteString("\nPlease arrange payment at your convenience")
	if callback != "" {
		s.WriteString(", or call us at " + callback + " with any questions")
	}
	s.WriteString(".\n\n")
	for _, st := range statements {
		s.WriteString(st + "\n")
	}
	fmt.Fprintf(&s, "\nKind regards,\n%s", b.Signature)
	return s.String()
}
