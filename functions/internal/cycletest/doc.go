// Package cycletest holds the end-to-end tests of the collection cycle:
// executions of the real recoup-cycle state machine on the local stack,
// through the deployed Lambda functions (score, plan, draft, approvals,
// send, park, engagement), the stores, the outbox and the engagement
// stream. It has no code of its own; run its tests with `make integration`
// or, against a running stack, with the Makefile's LOCAL_ENV and
// RECOUP_INTEGRATION=1.
package cycletest
