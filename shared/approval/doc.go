// Package approval is the human approval step of the collection cycle. When
// the strategy engine marks a case sensitive (a dispute, hardship or another
// compliance flag, a route_to_human decision, a balance above the tenant's
// threshold, the first contact with a key account) the state machine's
// Approval state waits on a Step Functions task token, and a collector
// approves, edits, rejects or hands the case off through the approve API.
//
// # Requests
//
// Register stores a Request per task token: the execution, the decision that
// asked for approval (kept whole as JSON, plus the few fields a collector's
// list shows) and the draft. The request id is the first 32 hex digits of the
// token's SHA-256, so a redelivered registration (Step Functions retrying the
// Lambda invoke with the same token) finds its request instead of making a
// second one. The token resumes the execution, so it is a secret: it is never
// logged, never returned by the API, and the store drops it once the request
// is finished.
//
// # States
//
//	pending ──Decide──► decided ──execution resumed──► decided, resumed
//	   │                   │
//	   └──────────────┬────┘ (the execution had already ended)
//	                  ▼
//	               expired
//
// Decide records the verdict first (conditionally: only a pending request
// takes one) and then resumes the execution with it. The verdict is the
// Approval state's result, {verdict, by, at, note, draft}; draft is present
// for edited verdicts only and replaces the drafted message. Between the two
// steps the request is decided but not resumed, and the decider holds a short
// lease on it, so of several deciders exactly one calls Step Functions. If
// the resume fails transiently the lease is released and the same verdict
// submitted again resumes the execution; a different verdict is refused
// (ErrAlreadyDecided) and the identical one, once resumed, returns the first
// result. If Step Functions says the task is gone (timed out, token invalid,
// execution ended) the request becomes expired (ErrExpired).
//
// An edited draft must pass the same guardrails as a drafted one: the
// Service takes them as a Checker.
//
// The package imports no AWS SDK: shared/store/dynamo stores requests and
// shared/approval/sfn resumes executions.
package approval
