// Package drafting writes the text of one collection message (email, SMS,
// call script, AI-voice script, letter) from an account's facts, and vets it
// before anything can send it.
//
// A Drafter asks a language model (the Model interface; shared/llm/bedrock
// implements it over Bedrock's Converse API) for a draft, then runs the
// deterministic guardrails of Check on it: every amount, date, invoice
// number, phone number and greeting name must come from the Facts; the
// disclosures the compliance decision requires must be there verbatim; no
// phrase FDCPA 15 USC 1692c(b), 1692d, 1692e or 1692f forbids (threats of
// arrest or of action not intended, abuse, impersonating an attorney or the
// government, false urgency, unauthorised fees...); no link, URL, domain or
// email address; an SMS fits its segment budget. A failed draft is retried
// once with the failures named in the prompt, then replaced by a vetted
// template rendered from the same facts. Model errors (throttling, timeouts)
// go straight to the template. Unchecked text never leaves the package.
//
// The model never sees a payment link: AppendPaymentLink adds the tenant's
// link after the guardrails have passed.
//
// The package imports no AWS SDK and logs nothing; Facts and Draft implement
// slog.LogValuer without personal data for callers that log them.
package drafting
