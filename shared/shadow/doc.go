// Package shadow is the pilot (shadow) mode of the collection cycle: for a
// chosen segment the cycle plans and drafts as it would live, but the
// Shadow state records the recommendation instead of sending it, and the
// team's own actions are recorded beside it. The agreement report then says
// how often the engine and the team did the same thing, which is what a
// finance team reads before letting the engine send.
//
// # Recommendations
//
// The Recorder is the handler behind the Shadow Task state
// (infra/statemachine/cycle.asl.json). It turns the plan and draft of one
// pass round the cycle into a Recommendation and stores it once: the id is a
// hash of the execution and the decision's planning instant, both fixed in
// the execution document, so a retried task (or a Lambda invoked twice)
// writes nothing new.
//
// # Team actions
//
// A TeamAction is what a collector actually did (or explicitly chose not to
// do, "none"), recorded by the collector or imported from a CSV file
// (ReadTeamCSV). Its id hashes who did what, when, so importing the same file
// twice stores each action once.
//
// # Agreement
//
// Compare pairs each recommendation with the team's actions for the same
// customer from the recommendation until the next one (at most Window, 7
// days by default) and classifies the pair; team actions in no window are
// listed as acting without a recommendation.
//
// The package imports no AWS SDK: shared/store/dynamo stores both kinds of
// record (TABLES.md, H13-H14).
package shadow
