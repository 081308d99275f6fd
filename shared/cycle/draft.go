package cycle

import (
	"context"
	"fmt"
	"slices"

	"github.com/recoup-dev/recoup/shared/dispatch"
	"github.com/recoup-dev/recoup/shared/drafting"
	"github.com/recoup-dev/recoup/shared/ledger"
	"github.com/recoup-dev/recoup/shared/strategy"
	"github.com/recoup-dev/recoup/shared/tenant"
)

// Profiles gives a tenant's settings: its name, disclosure texts,
// remedies and strategy.
type Profiles interface {
	Profile(ctx context.Context, t ledger.TenantID) (*tenant.Profile, error)
}

// Drafter writes a message from facts (drafting.Drafter: the model under
// the guardrails, the template when the model fails).
type Drafter interface {
	Draft(ctx context.Context, f drafting.Facts) (drafting.Draft, error)
}

// DraftInput is the Draft step's input.
type DraftInput struct {
	Ref
	Decision Plan `json:"decision"`
}

// DraftStep is the Draft step: the facts the message may state come from
// the ledger and the tenant's profile, never from the model.
type DraftStep struct {
	Accounts AccountReader
	Profiles Profiles
	Drafter  Drafter
}

// Draft writes the message the decision's action sends.
func (s *DraftStep) Draft(ctx context.Context, in DraftInput) (Message, error) {
	if err := in.Ref.Check(); err != nil {
		return Message{}, err
	}
	if in.Decision.Route == RouteAct && in.Decision.Channel == "" && erpOnly(in.Decision.Action) {
		// A hold or a hand-off without a notice: nothing to word, but the
		// cycle still goes through approval and Send, which writes it to
		// the ERP.
		return Message{Source: SourceNone}, nil
	}
	if in.Decision.Route != RouteAct || in.Decision.Channel == "" || len(in.Decision.Invoices) == 0 {
		return Message{}, fmt.Errorf("%w: decision (route %q, channel %q, %d invoices) has no message to draft",
			ErrInput, in.Decision.Route, in.Decision.Channel, len(in.Decision.Invoices))
	}
	prof, err := s.Profiles.Profile(ctx, in.Tenant)
	if err != nil {
		return Message{}, fmt.Errorf("cycle: draft %s: tenant profile: %w", in.Customer, err)
	}
	acct, found, err := s.Accounts.Account(ctx, in.Tenant, in.Customer)
	if err != nil {
		return Message{}, Transient{fmt.Errorf("cycle: draft %s: %w", in.Customer, err)}
	}
	if !found {
		return Message{}, fmt.Errorf("%w: customer %s of tenant %s is not in the ledger", ErrInput, in.Customer, in.Tenant)
	}
	f, err := Facts(prof, acct, in.Decision)
	if err != nil {
		return Message{}, err
	}
	d, err := s.Drafter.Draft(ctx, f)
	if err != nil {
		// The drafter falls back to its templates on any model failure;
		// an error here is the facts' or a template's, which no retry mends.
		return Message{}, fmt.Errorf("%w: draft %s: %w", ErrInput, in.Customer, err)
	}
	m := Message{Channel: in.Decision.Channel, Subject: d.Subject, Body: d.Body, Source: string(d.Source),
		TemplateID: d.TemplateID, Model: d.ModelID, InputTokens: d.Usage.InputTokens,
		OutputTokens: d.Usage.OutputTokens, CostNanoUSD: d.CostNanoUSD}
	for _, a := range d.Attempts {
		for _, v := range a.Violations {
			if r := string(v.Rule); !slices.Contains(m.Rejected, r) {
				m.Rejected = append(m.Rejected, r)
			}
		}
		if a.ErrCode != "" && !slices.Contains(m.Rejected, "model:"+a.ErrCode) {
			m.Rejected = append(m.Rejected, "model:"+a.ErrCode)
		}
	}
	return m, nil
}

// Facts are what a message for the decision may state: the creditor and
// disclosure texts from the tenant's profile, the customer's name, the
// decision's invoices with their open balances and due dates from the
// ledger, and the promise being followed up. Only invoices in the
// currency of the decision's first are stated, as one total cannot mix
// currencies.
func Facts(p *tenant.Profile, acct ledger.Account, dec Plan) (drafting.Facts, error) {
	ch := dispatch.AttemptChannel(dec.Channel)
	if !slices.Contains(drafting.Channels, ch) {
		return drafting.Facts{}, fmt.Errorf("%w: channel %q has no message to draft", ErrInput, dec.Channel)
	}
	byID := make(map[string]ledger.Invoice, len(acct.Invoices))
	for _, inv := range acct.Invoices {
		byID[inv.ID] = inv
	}
	f := drafting.Facts{
		Creditor: p.Name, Sender: p.Sender, Customer: acct.Customer.Name,
		Channel: ch, Tone: tone(dec.Decision), Level: level(dec.Decision),
		Disclosures:    p.DraftingDisclosures(dispatch.Disclosures(ch)),
		Remedies:       p.Remedies,
		MaxSMSSegments: p.MaxSMSSegments,
	}
	if f.Customer == "" {
		f.Customer = acct.Customer.ID
	}
	for _, id := range dec.Invoices {
		inv, ok := byID[id]
		if !ok {
			return drafting.Facts{}, fmt.Errorf("%w: decision invoice %s is not in customer %s's ledger", ErrInput, id, acct.Customer.ID)
		}
		if !inv.IsOpen() {
			continue // paid since the plan: the message must not ask for it
		}
		if len(f.Invoices) == 0 {
			f.Currency = inv.Open.Currency
		} else if inv.Open.Currency != f.Currency {
			continue
		}
		f.TimeBarred = f.TimeBarred || inv.TimeBarred
		f.Invoices = append(f.Invoices, drafting.Invoice{Number: inv.ID, Open: inv.Open, Due: inv.DueDate})
	}
	if len(f.Invoices) == 0 {
		return drafting.Facts{}, fmt.Errorf("%w: none of the decision's invoices is still open", ErrInput)
	}
	if pf := dec.Trace.Facts.Promise; pf != nil && dec.Action == strategy.ActionPromiseFollowUp && pf.Amount.Currency == f.Currency {
		f.Promise = &drafting.Promise{Amount: pf.Amount.Amount, Date: pf.Due}
	}
	if err := f.Validate(); err != nil {
		return drafting.Facts{}, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return f, nil
}

// tone maps the strategy's five voices onto the three the drafter writes:
// only a final notice may sound final.
func tone(d strategy.Decision) drafting.Tone {
	switch {
	case d.Action == strategy.ActionFinalNotice:
		return drafting.ToneFinal
	case d.Tone == strategy.ToneFirm || d.Tone == strategy.ToneFormal:
		return drafting.ToneFirm
	}
	return drafting.ToneFriendly
}

func level(d strategy.Decision) drafting.Level {
	switch {
	case d.Action == strategy.ActionFinalNotice:
		return drafting.LevelFinal
	case d.DunningLevel <= 1:
		return drafting.LevelReminder
	case d.DunningLevel >= int(drafting.LevelFinal):
		return drafting.LevelEscalation
	}
	return drafting.Level(d.DunningLevel)
}
