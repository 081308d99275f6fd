package shadow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/cycle"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// Store keeps recommendations. Errors a retry may cure wrap ErrTransient.
type Store interface {
	// PutRecommendation stores r unless a recommendation with its id is
	// stored already; created says whether r was new. The first write
	// wins: a retry never overwrites it.
	PutRecommendation(ctx context.Context, r Recommendation) (created bool, err error)
}

// Log is the pilot's whole record, as the import and the report use it.
// Ranges are [from, to) on the records' At; a zero from or to leaves that
// end open. Listings are sorted by At, then id.
type Log interface {
	Store
	// PutTeamAction stores a unless an action with its id is stored
	// already; created says whether a was new.
	PutTeamAction(ctx context.Context, a TeamAction) (created bool, err error)
	Recommendations(ctx context.Context, tenant ledger.TenantID, from, to time.Time) ([]Recommendation, error)
	TeamActions(ctx context.Context, tenant ledger.TenantID, from, to time.Time) ([]TeamAction, error)
}

// Input is the Shadow state's input, as its Parameters build it.
type Input struct {
	cycle.Ref
	Decision cycle.Plan `json:"decision"`
	// Draft is null when nothing was drafted.
	Draft *cycle.Message `json:"draft"`
}

// Result is the Shadow step's result ($.shadow).
type Result struct {
	// Recorded is true when this call stored the recommendation, false
	// when an earlier try of the task had.
	Recorded       bool   `json:"recorded"`
	Recommendation string `json:"recommendation_id"`
}

// Recorder is the Shadow step: it records what the cycle would have sent.
type Recorder struct {
	store Store
	now   func() time.Time
}

// NewRecorder returns a recorder over store; now is the clock of
// RecordedAt.
func NewRecorder(store Store, now func() time.Time) (*Recorder, error) {
	if store == nil || now == nil {
		return nil, errors.New("shadow: a recorder needs a store and a clock")
	}
	return &Recorder{store: store, now: now}, nil
}

var routes = []string{cycle.RouteClose, cycle.RoutePark, cycle.RouteReview, cycle.RouteAct}

// Handle decodes the state's input and records it: the Lambda's entry
// point. A document that does not decode is cycle.ErrInput naming the
// field, which the runtime's own decoding would not say.
func (rc *Recorder) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	var in Input
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Result{}, fmt.Errorf("%w: %s: %s where %s was expected", cycle.ErrInput, te.Field, te.Value, te.Type)
		}
		return Result{}, fmt.Errorf("%w: shadow input: %w", cycle.ErrInput, err)
	}
	if dec.More() {
		return Result{}, fmt.Errorf("%w: shadow input: more than one JSON value", cycle.ErrInput)
	}
	return rc.Record(ctx, in)
}

// Record stores the recommendation of one pass round the cycle, once per
// execution and planning instant.
//
// Errors: cycle.ErrInput for an input the state machine would not send
// (naming the field), cycle.Transient when the store may succeed on a
// retry, and any other store failure as it is.
func (rc *Recorder) Record(ctx context.Context, in Input) (Result, error) {
	if err := check(in); err != nil {
		return Result{}, err
	}
	source := ""
	if in.Draft != nil {
		source = in.Draft.Source
	}
	r := FromDecision(in.Execution, in.Decision.Decision, source)
	r.Route = in.Decision.Route
	r.RecordedAt = rc.now().UTC()
	if d := in.Draft; d != nil {
		r.Draft = &Draft{Channel: d.Channel, Subject: d.Subject, Body: d.Body, TemplateID: d.TemplateID, Model: d.Model}
	}
	if err := r.Validate(); err != nil {
		return Result{}, fmt.Errorf("%w: %w", cycle.ErrInput, err)
	}
	created, err := rc.store.PutRecommendation(ctx, r)
	switch {
	case errors.Is(err, ErrTransient):
		// Returned bare: the runtime names the error by its type, which the
		// state's Retry matches.
		return Result{}, cycle.Transient{Err: fmt.Errorf("shadow: record %s: %w", r.ID, err)}
	case err != nil:
		return Result{}, fmt.Errorf("shadow: record %s: %w", r.ID, err)
	}
	return Result{Recorded: created, Recommendation: r.ID}, nil
}

// check refuses an input the Shadow state would not send, naming the
// field by its path in the input.
func check(in Input) error {
	if err := in.Ref.Check(); err != nil {
		return err
	}
	d := in.Decision
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", cycle.ErrInput, field, fmt.Sprintf(format, args...))
	}
	switch {
	case in.Execution == "":
		return bad("execution", "is empty; it keys the recommendation")
	case d.Tenant != in.Tenant:
		return bad("decision.tenant", "%q is not the execution's tenant %q", d.Tenant, in.Tenant)
	case d.Customer != in.Customer:
		return bad("decision.customer", "%q is not the execution's customer %q", d.Customer, in.Customer)
	case !slices.Contains(outcomes, d.Outcome):
		return bad("decision.outcome", "unknown outcome %q", d.Outcome)
	case d.Action != "" && !ValidAction(d.Action):
		return bad("decision.action", "unknown action %q", d.Action)
	case d.Channel != "" && !d.Channel.Valid():
		return bad("decision.channel", "unknown channel %q", d.Channel)
	case !slices.Contains(routes, d.Route):
		return bad("decision.route", "unknown route %q", d.Route)
	case d.Trace.Facts.Now.IsZero():
		return bad("decision.trace.facts.now", "is missing; the planning instant keys the recommendation")
	}
	if actsNow(d.Outcome) && d.Action == "" {
		return bad("decision.action", "is empty for outcome %s", d.Outcome)
	}
	if m := in.Draft; m != nil {
		switch {
		case m.Body == "":
			return bad("draft.body", "is empty")
		case m.Source == "":
			return bad("draft.source", "is empty")
		case m.Channel != d.Channel:
			return bad("draft.channel", "%q is not the decision's channel %q", m.Channel, d.Channel)
		}
	}
	return nil
}

func actsNow(o strategy.Outcome) bool {
	return o == strategy.OutcomeAct || o == strategy.OutcomeFollowUp || o == strategy.OutcomeEscalate
}
