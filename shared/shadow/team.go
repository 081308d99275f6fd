package shadow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recoup-dev/recoup/shared/consent"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
)

// MaxNote caps a team action's note: it is a collector's remark, not a
// transcript, and the whole item must stay far below DynamoDB's 400 KB.
const MaxNote = 1000

// TeamAction is what the team actually did about a customer during the
// pilot, or that it chose to do nothing (ActionNone).
type TeamAction struct {
	// ID is TeamActionID of the action: who did what, when.
	ID       string          `json:"id"`
	Tenant   ledger.TenantID `json:"tenant"`
	Customer string          `json:"customer"`
	At       time.Time       `json:"at"`
	Action   strategy.Action `json:"action"`
	// Channel is empty for none and for holds and hand-offs without a
	// notice.
	Channel consent.Channel `json:"channel,omitempty"`
	// By is the collector who acted (an id, not a name).
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
	// Source says how it reached us: "csv:<file name>" for an import,
	// "collector" when recorded through the application.
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// TeamActionID is the idempotency key of a team action. The note and the
// source are left out: importing the same actions again, from another
// file or with a corrected note, must not count them twice.
func TeamActionID(a TeamAction) string {
	h := sha256.New()
	for _, s := range []string{string(a.Tenant), a.Customer, a.At.UTC().Format(time.RFC3339Nano), string(a.Action), string(a.Channel), a.By} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "tm-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// messageActions are the actions that reach the customer and so must say
// on which channel.
var messageActions = []strategy.Action{
	strategy.ActionFriendlyReminder, strategy.ActionFirmReminder, strategy.ActionCall,
	strategy.ActionFinalNotice, strategy.ActionPromiseFollowUp,
}

// fieldProblem is one field's problem, before it is placed in a file.
type fieldProblem struct{ field, value, reason string }

// problems checks every field and returns what is wrong with each; the CSV
// reader and Validate share it so an imported action is exactly a valid one.
func (a TeamAction) problems() []fieldProblem {
	var out []fieldProblem
	add := func(field, value, format string, args ...any) {
		out = append(out, fieldProblem{field, value, fmt.Sprintf(format, args...)})
	}
	if err := ledger.ValidateID("customer", a.Customer); err != nil {
		add("customer", a.Customer, "%v", err)
	} else if !utf8.ValidString(a.Customer) {
		add("customer", a.Customer, "is not UTF-8")
	}
	switch {
	case a.At.IsZero():
		add("at", "", "is zero")
	case !plausible(a.At):
		add("at", "", "is outside the years %d to %d", minYear, maxYear)
	}
	switch {
	case !ValidAction(a.Action):
		add("action", string(a.Action), "unknown action %q (want one of %s)", a.Action, actionList())
	case a.Channel != "" && !a.Channel.Valid():
		add("channel", string(a.Channel), "unknown channel %q (want one of email, sms, voice, voice_ai, prerecorded, letter, or empty)", a.Channel)
	case a.Action == ActionNone && a.Channel != "":
		add("channel", string(a.Channel), "action none takes no channel")
	case a.Action == strategy.ActionCall && a.Channel != "" && !a.Channel.Call():
		add("channel", string(a.Channel), "a call is made on voice, voice_ai or prerecorded, not %s", a.Channel)
	case a.Channel == "" && slices.Contains(messageActions, a.Action):
		add("channel", "", "%s reaches the customer: say on which channel", a.Action)
	}
	if err := ledger.ValidateID("by", a.By); err != nil {
		add("by", a.By, "%v", err)
	} else if !utf8.ValidString(a.By) {
		add("by", a.By, "is not UTF-8")
	}
	switch {
	case len(a.Note) > MaxNote:
		add("note", "", "is %d bytes, more than %d", len(a.Note), MaxNote)
	case !utf8.ValidString(a.Note):
		add("note", "", "is not UTF-8")
	case strings.ContainsFunc(a.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		add("note", "", "contains control characters")
	}
	return out
}

// Validate refuses a team action a store should not hold.
func (a TeamAction) Validate() error {
	var errs []error
	if err := a.Tenant.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("tenant: %w", err))
	}
	for _, p := range a.problems() {
		errs = append(errs, fmt.Errorf("%s: %s", p.field, p.reason))
	}
	if a.Source == "" {
		errs = append(errs, errors.New("source: is empty"))
	}
	if len(errs) == 0 && a.ID != TeamActionID(a) {
		errs = append(errs, fmt.Errorf("id: %q is not the id of the action", a.ID))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: team action %s: %w", ErrInvalid, a.ID, errors.Join(errs...))
	}
	return nil
}
