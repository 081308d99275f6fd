// Package compliance decides, at send time, whether one proposed contact
// attempt is lawful under FDCPA / Regulation F, the TCPA and the state rules
// a tenant is bound by, and says why.
//
// Rules are policy data (policy/*.json, embedded): each has an id, a
// jurisdiction, whom it binds, its channels, parameters, effective dates, a
// citation and an action. The engine implements each rule in code keyed by
// id and takes its parameters from the policy; a policy that names an
// unknown rule, misses one the engine implements, or has overlapping
// versions refuses to load. A tenant's Override may only tighten.
//
// Engine.Decide is a pure function of a Case (attempt, history, consent,
// flags) and the policy, with the attempt's time as "now". It returns
// allow, block or route_to_human, every rule that fired, a reason a
// collector can read, and the earliest instant at which the same attempt
// would be lawful. Local time comes from every source we have (the phone
// numbers' libphonenumber zones, the postal state and ZIP); an attempt must
// be lawful in every candidate zone, and with no zone at all a time rule
// blocks rather than guesses.
//
// ReadScenarios and Scenario.Case read the scenario format of
// shared/compliance/scenario.md for `recoup compliance check`.
package compliance
