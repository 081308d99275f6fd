package shadow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// ErrInvalid marks a recommendation or team action that cannot be stored or
// compared: a missing id, an unknown action or channel, a zero time.
var ErrInvalid = errors.New("shadow: invalid record")

// ErrTransient marks a store failure a retry may cure (throttling, a
// server error, no connection). Stores wrap it; the Recorder turns it into
// cycle.Transient so the state machine retries.
var ErrTransient = errors.New("shadow: transient store failure")

// ActionNone is the team's "we chose to do nothing", and what the engine
// recommends when its decision sends nothing now (none, wait, review).
const ActionNone strategy.Action = "none"

// actions is the shared vocabulary of recommendations and team actions:
// the strategy's actions plus none.
var actions = []strategy.Action{
	strategy.ActionFriendlyReminder, strategy.ActionFirmReminder, strategy.ActionCall, strategy.ActionFinalNotice,
	strategy.ActionCreditHold, strategy.ActionHandOff, strategy.ActionPromiseFollowUp, ActionNone,
}

// Actions returns the action vocabulary, in a fixed order.
func Actions() []strategy.Action { return slices.Clone(actions) }

// ValidAction reports whether a is in the vocabulary.
func ValidAction(a strategy.Action) bool { return slices.Contains(actions, a) }

func actionList() string {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

var outcomes = []strategy.Outcome{
	strategy.OutcomeNone, strategy.OutcomeWait, strategy.OutcomeAct,
	strategy.OutcomeFollowUp, strategy.OutcomeEscalate, strategy.OutcomeReview,
}

// Records are dated within these years (UTC): nothing in a pilot predates
// 2000, and stored keys hold times as text that sorts in time order only
// with four-digit years.
const (
	minYear = 2000
	maxYear = 9999
)

func plausible(t time.Time) bool {
	y := t.UTC().Year()
	return y >= minYear && y <= maxYear
}

// Recommendation is what the engine would have done on one pass round the
// cycle in shadow mode: the decision's essentials and the draft that would
// have been sent.
type Recommendation struct {
	// ID is RecommendationID(Execution, At).
	ID        string          `json:"id"`
	Tenant    ledger.TenantID `json:"tenant"`
	Customer  string          `json:"customer"`
	Execution string          `json:"execution"`
	// At is the decision's planning instant (UTC): the same on every retry
	// of the Shadow task, unlike the recorder's clock.
	At time.Time `json:"at"`
	// RecordedAt is when the recommendation was stored (UTC).
	RecordedAt time.Time        `json:"recorded_at,omitzero"`
	Outcome    strategy.Outcome `json:"outcome"`
	Action     strategy.Action  `json:"action,omitempty"`
	Step       string           `json:"step,omitempty"`
	Channel    consent.Channel  `json:"channel,omitempty"`
	// When is when the engine would have acted (UTC); zero for none and
	// review.
	When time.Time `json:"when,omitzero"`
	// Segment is the strategy segment whose sequence the decision followed;
	// CustomerSegment the customer's segment in the ledger.
	Segment          string   `json:"segment,omitempty"`
	CustomerSegment  string   `json:"customer_segment,omitempty"`
	Invoices         []string `json:"invoices,omitempty"`
	RequiresApproval bool     `json:"requires_approval"`
	// ApprovalReasons are the codes of the reasons a person had to look
	// (strategy.ApprovalReason.Code).
	ApprovalReasons []string `json:"approval_reasons,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	Route           string   `json:"route,omitempty"`
	ConfigVersion   string   `json:"config_version,omitempty"`
	ConfigHash      string   `json:"config_hash,omitempty"`
	// DraftSource says how the draft was made (model, model_retry,
	// template); empty when nothing was drafted.
	DraftSource string `json:"draft_source,omitempty"`
	Draft       *Draft `json:"draft,omitempty"`
}

// Draft is the message that would have been sent.
type Draft struct {
	Channel    consent.Channel `json:"channel"`
	Subject    string          `json:"subject,omitempty"`
	Body       string          `json:"body"`
	TemplateID string          `json:"template_id,omitempty"`
	Model      string          `json:"model,omitempty"`
}

// RecommendationID is the idempotency key of one pass through the Shadow
// state: the execution and the decision's planning instant are both fixed
// in the execution document, so every retry computes the same id, and the
// next pass round the loop plans at a new instant.
func RecommendationID(execution string, at time.Time) string {
	h := sha256.Sum256([]byte(execution + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	return "shd-" + hex.EncodeToString(h[:16])
}

// FromDecision makes the recommendation of a decision taken in execution;
// draftSource is the draft's source, "" when nothing was drafted. The
// result is not validated: Validate says whether it can be stored.
func FromDecision(execution string, d strategy.Decision, draftSource string) Recommendation {
	at := d.Trace.Facts.Now.UTC()
	r := Recommendation{
		ID: RecommendationID(execution, at), Tenant: d.Tenant, Customer: d.Customer, Execution: execution, At: at,
		Outcome: d.Outcome, Action: d.Action, Step: d.Step, Channel: d.Channel, Segment: d.Segment,
		CustomerSegment: d.Trace.Facts.CustomerSegment, Invoices: slices.Clone(d.Invoices),
		RequiresApproval: d.RequiresApproval, Reason: d.Reason,
		ConfigVersion: d.Trace.ConfigVersion, ConfigHash: d.Trace.ConfigHash, DraftSource: draftSource,
	}
	if !d.When.IsZero() {
		r.When = d.When.UTC()
	}
	for _, a := range d.Approval {
		r.ApprovalReasons = append(r.ApprovalReasons, a.Code)
	}
	return r
}

// Expected is the action and channel the team is compared with: the
// decision's for outcomes that act now, and none for those that send
// nothing by themselves (none, wait, review).
func (r Recommendation) Expected() (strategy.Action, consent.Channel) {
	switch r.Outcome {
	case strategy.OutcomeNone, strategy.OutcomeWait, strategy.OutcomeReview:
		return ActionNone, ""
	}
	return r.Action, r.Channel
}

// Validate refuses a recommendation a store should not hold.
func (r Recommendation) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := r.Tenant.Validate(); err != nil {
		fail("tenant", "%v", err)
	}
	if err := ledger.ValidateID("customer", r.Customer); err != nil {
		fail("customer", "%v", err)
	}
	switch {
	case r.Execution == "":
		fail("execution", "is empty")
	case !utf8.ValidString(r.Execution):
		fail("execution", "is not UTF-8")
	}
	switch {
	case r.At.IsZero():
		fail("at", "is zero")
	case !plausible(r.At):
		fail("at", "is outside the years %d to %d", minYear, maxYear)
	case r.ID != RecommendationID(r.Execution, r.At):
		fail("id", "%q is not the id of execution and at", r.ID)
	}
	if !slices.Contains(outcomes, r.Outcome) {
		fail("outcome", "unknown outcome %q", r.Outcome)
	}
	if r.Action != "" && !ValidAction(r.Action) {
		fail("action", "unknown action %q (want one of %s)", r.Action, actionList())
	}
	if r.Channel != "" && !r.Channel.Valid() {
		fail("channel", "unknown channel %q", r.Channel)
	}
	if r.Draft != nil {
		if r.Draft.Body == "" {
			fail("draft.body", "is empty")
		}
		if r.DraftSource == "" {
			fail("draft_source", "is empty while there is a draft")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: recommendation %s: %w", ErrInvalid, r.ID, errors.Join(errs...))
	}
	return nil
}
