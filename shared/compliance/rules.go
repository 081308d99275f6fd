package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recoup-dev/recoup/shared/ledger"
)

// registry is every rule the engine implements, in the order rules are
// evaluated and reported. The policy must define each of them (no gap).
var registry = []impl{
	// Regulation F (12 CFR 1006): third-party collectors.
	{id: "REGF-CALL-7IN7", jurisdiction: "US", binds: BindsThirdParty, channels: voiceChannels,
		params: []paramSpec{{"max_calls", pCap}, {"window_days", pWindow}, {"counted_outcomes", pOutcomesMore}, {"consent_days", pGrant}},
		check:  checkCallCap},
	{id: "REGF-CALL-AFTER-CONVERSATION", jurisdiction: "US", binds: BindsThirdParty, channels: voiceChannels,
		params: []paramSpec{{"block_days", pWindow}, {"conversation_outcomes", pOutcomesMore}, {"consent_days", pGrant}},
		check:  checkAfterConversation},
	{id: "REGF-TIME", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"earliest", pClockFrom}, {"latest", pClockUntil}},
		check:  checkHours},
	{id: "REGF-INCONVENIENT-TIME", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		check: checkInconvenientTime},
	{id: "REGF-WORK-EMAIL", jurisdiction: "US", binds: BindsThirdParty, channels: channelBit(ChannelEmail),
		check: checkWorkEmail},
	{id: "REGF-MEDIUM-REFUSED", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		check: checkMediumRefused},
	{id: "REGF-OPT-OUT-NOTICE", jurisdiction: "US", binds: BindsThirdParty, channels: channelBit(ChannelEmail) | channelBit(ChannelSMS),
		check: checkOptOutNotice},
	{id: "REGF-LIMITED-CONTENT", jurisdiction: "US", binds: BindsThirdParty, channels: channelBit(ChannelVoicemail),
		check: checkLimitedContent},
	{id: "REGF-MINI-MIRANDA", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"communication_outcomes", pOutcomesFewer}},
		check:  checkMiniMiranda},
	{id: "REGF-DISPUTE-PAUSE", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"receipt_business_days", pWindow}, {"validation_days", pWindow}},
		check:  checkDisputePause},
	{id: "REGF-CEASE", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"exempt_purposes", pPurposesFewer}, {"oral_action", pAction}},
		check:  checkCease},
	{id: "REGF-ATTORNEY", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		check: checkFlag(FlagAttorney, "the person is represented by an attorney about this debt: contact the attorney instead")},
	{id: "REGF-TIME-BARRED-SUIT", jurisdiction: "US", binds: BindsThirdParty, channels: allChannels,
		check: checkTimeBarredSuit},
	{id: "REGF-CREDIT-REPORT-PASSIVE", jurisdiction: "US", binds: BindsThirdParty, channels: channelBit(ChannelCreditReport),
		params: []paramSpec{{"wait_days", pWindow}},
		check:  checkCreditReport},

	// TCPA (47 USC 227, 47 CFR 64.1200): creditors and collectors alike.
	{id: "TCPA-CONSENT", jurisdiction: "US", binds: BindsBoth, channels: automatedChannels,
		check: checkTCPAConsent},
	{id: "TCPA-LANDLINE-3IN30", jurisdiction: "US", binds: BindsBoth, channels: artificialVoice,
		params: []paramSpec{{"max_calls", pCap}, {"window_days", pWindow}, {"counted_outcomes", pOutcomesMore}},
		check:  checkLandlineCap},
	{id: "TCPA-IDENTIFICATION", jurisdiction: "US", binds: BindsBoth, channels: artificialVoice,
		params: []paramSpec{{"required_disclosures", pDisclosuresMore}},
		check:  checkIdentification},
	{id: "TCPA-REVOCATION", jurisdiction: "US", binds: BindsBoth, channels: automatedChannels,
		params: []paramSpec{{"confirmation_minutes", pGrant}},
		check:  checkRevocation},
	{id: "TCPA-MARKETING", jurisdiction: "US", binds: BindsBoth, channels: phoneChannels,
		check: checkMarketing},

	// States, where the person lives (or the tenant adds the state).
	{id: "STATE-MA-FREQ", jurisdiction: "MA", binds: BindsBoth, channels: phoneChannels,
		params: []paramSpec{{"max_personal", pCap}, {"personal_window_days", pWindow}, {"max_other", pCap},
			{"other_window_days", pWindow}, {"personal_lines", pLinesFewer}, {"counted_outcomes", pOutcomesMore}},
		check: checkMassachusetts},
	{id: "STATE-WA-FREQ", jurisdiction: "WA", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"max_week", pCap}, {"max_work_week", pCap}, {"window_days", pWindow}, {"counted_outcomes", pOutcomesMore}},
		check:  checkWashington},
	{id: "STATE-FL-TIME", jurisdiction: "FL", binds: BindsBoth, channels: allChannels,
		params: []paramSpec{{"earliest", pClockFrom}, {"latest", pClockUntil}},
		check:  checkHours},
	{id: idRosenthal, jurisdiction: "CA", binds: BindsFirstParty, channels: allChannels,
		params: []paramSpec{{"extends", pPrefixesMore}},
		check:  func(*eval, *ruleVersion, time.Time) verdict { return verdict{} }},
	{id: "STATE-CO-TIME", jurisdiction: "CO", binds: BindsThirdParty, channels: allChannels,
		params: []paramSpec{{"earliest", pClockFrom}, {"latest", pClockUntil}},
		check:  checkHours},

	// Flags: whatever the channel.
	{id: "FLAG-BANKRUPTCY", jurisdiction: "US", binds: BindsBoth, channels: allChannels,
		check: checkFlag(FlagBankruptcy, "a bankruptcy filing is on record: the automatic stay stops collection (11 USC 362); a person must handle the account")},
	{id: "FLAG-DECEASED", jurisdiction: "US", binds: BindsBoth, channels: allChannels,
		check: checkFlag(FlagDeceased, "the person has died: a person must deal with the estate's representative")},
	{id: "FLAG-ACTIVE-DUTY", jurisdiction: "US", binds: BindsBoth, channels: allChannels,
		check: checkFlag(FlagActiveDuty, "the person is on active military duty (SCRA, 50 USC 3937): a person must review the account")},
	{id: "FLAG-HARDSHIP", jurisdiction: "US", binds: BindsBoth, channels: allChannels,
		check: checkFlag(FlagHardship, "the person told us of hardship: a person must review the account")},
	{id: "FLAG-DISPUTE", jurisdiction: "US", binds: BindsBoth, channels: allChannels,
		check: checkOpenDispute},
}

func checkFlag(f Flag, why string) func(*eval, *ruleVersion, time.Time) verdict {
	return func(x *eval, _ *ruleVersion, _ time.Time) verdict {
		if !x.hasFlag(f) {
			return verdict{}
		}
		return verdict{fired: true, reason: why}
	}
}

// checkCallCap: more than 7 calls in 7 consecutive days about one debt is
// presumed harassment (1006.14(b)(2)(i)(A)). Calls to any of the person's
// numbers share the count; busy and not-in-service calls and calls placed
// with direct consent from the past 7 days do not count (1006.14(b)(3)).
func checkCallCap(x *eval, rv *ruleVersion, t time.Time) verdict {
	if x.directConsent(t, rv.p.int("consent_days")) {
		return verdict{}
	}
	mask := rv.p.mask("counted_outcomes")
	ts := x.buf[:0]
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind == EventAttempt && voiceChannels&channelBit(ev.Channel) != 0 && x.debtMatches(ev.Debt) &&
			!ev.WithConsent && counted(ev.Outcome, mask) {
			ts = append(ts, ev.At)
		}
	}
	x.buf = ts
	return x.capVerdict(t, ts, rv.p.int("window_days"), rv.p.int("max_calls"), "counted call about debt ", x.c.Attempt.Debt)
}

// capVerdict blocks when the attempts at ts already reach limit within the
// window of days ending on t's local day, explaining which they were (what
// and subject are joined only when a reason is wanted, off the hot path).
func (x *eval) capVerdict(t time.Time, ts []time.Time, window, limit int, what, subject string) verdict {
	w := x.window(t, ts, window, limit)
	if !w.blocked {
		return verdict{}
	}
	v := verdict{fired: true, timed: w.timed, until: w.until}
	if x.explain {
		v.reason = fmt.Sprintf("%s %s%s within %d days (calls on %s)", ordinal(w.count+1), what, subject, window, w.daysList())
	}
	return v
}

// checkAfterConversation: no call about a debt within 7 days after a
// telephone conversation about it, the conversation's day being day 1
// (1006.14(b)(2)(i)(B)).
func checkAfterConversation(x *eval, rv *ruleVersion, t time.Time) verdict {
	days := rv.p.int("block_days")
	if x.directConsent(t, rv.p.int("consent_days")) {
		return verdict{}
	}
	mask := rv.p.mask("conversation_outcomes")
	var v verdict
	for _, loc := range x.days {
		d := dayOf(t, loc)
		last, found := 0, false
		for i := range x.c.History {
			ev := &x.c.History[i]
			talked := (ev.Kind == EventConversation && (len(ev.Debts) == 0 || slices.Contains(ev.Debts, x.c.Attempt.Debt))) ||
				(ev.Kind == EventAttempt && voiceChannels&channelBit(ev.Channel) != 0 && x.debtMatches(ev.Debt) &&
					counted(ev.Outcome, mask)) // a call with no known outcome may have been a conversation
			if !talked {
				continue
			}
			if cd := dayOf(ev.At, loc); !found || cd > last {
				last, found = cd, true
			}
		}
		if !found || d > last+days-1 {
			continue
		}
		lift := startOfDay(last+days, loc)
		if !v.fired && x.explain {
			v.reason = fmt.Sprintf("telephone conversation about debt %s on %s (day %d of %d); calls may resume on %s",
				x.c.Attempt.Debt, dayString(last), d-last+1, days, dayString(last+days))
		}
		v.fired, v.timed = true, true
		if lift.After(v.until) {
			v.until = lift
		}
	}
	return v
}

// directConsent: a call placed with consent the person gave directly within
// the past consent_days (counting the consent's day as day 1) is not counted
// and not barred (1006.14(b)(3)(i)).
func (x *eval) directConsent(t time.Time, days int) bool {
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind != EventConsentGiven || ev.Source != ConsentDirect || ev.At.After(x.now) ||
			voiceChannels&channelBit(ev.Channel) == 0 || !x.debtMatches(ev.Debt) ||
			(ev.To != "" && ev.To != x.c.Attempt.To) {
			continue
		}
		valid := true
		for _, loc := range x.days {
			if dayOf(t, loc) > dayOf(ev.At, loc)+days-1 {
				valid = false
				break
			}
		}
		if valid {
			return true
		}
	}
	return false
}

// checkHours: contact only between the earliest and latest local times, in
// every zone the person may be in (1006.6(b)(1)(i); Fla. Stat. 559.72(17);
// C.R.S. 5-16-105). With no zone at all we block rather than guess.
func checkHours(x *eval, rv *ruleVersion, t time.Time) verdict {
	from, until := rv.p.int("earliest"), rv.p.int("latest")
	if len(x.zones) == 0 {
		return verdict{fired: true, reason: x.noZone + ", so the hours rule cannot be checked"}
	}
	if from >= until {
		return verdict{fired: true, reason: "the policy allows no hours for this contact"}
	}
	var v verdict
	for _, z := range x.zones {
		lt := t.In(z.loc)
		y, m, d := lt.Date()
		day := daysFromCivil(y, int(m), d)
		sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
		var lift time.Time
		switch {
		case sec < from*60:
			lift = atClock(day, from, z.loc)
		case sec >= until*60:
			lift = atClock(day+1, from, z.loc)
		default:
			continue
		}
		if !v.fired && x.explain {
			v.reason = fmt.Sprintf("it is %s on %s in %s (%s), outside %s-%s",
				lt.Format("15:04"), lt.Format("Mon Jan 2"), z.loc, z.src, formatClock(from), formatClock(until))
		}
		v.fired, v.timed = true, true
		if lift.After(v.until) {
			v.until = lift
		}
	}
	return v
}

// checkInconvenientTime: the person said a time is inconvenient
// (1006.6(b)(1)); it binds every day, in every candidate zone.
func checkInconvenientTime(x *eval, _ *ruleVersion, t time.Time) verdict {
	var v verdict
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind != EventInconvenientTime {
			continue
		}
		span := formatClock(ev.Start) + "-" + formatClock(ev.End)
		if len(x.zones) == 0 {
			return verdict{fired: true, reason: fmt.Sprintf("the person said %s is inconvenient and %s", span, x.noZone)}
		}
		if ev.Start == ev.End {
			return verdict{fired: true, reason: fmt.Sprintf("the person said %s (all day) is inconvenient", span)}
		}
		for _, z := range x.zones {
			lt := t.In(z.loc)
			y, m, d := lt.Date()
			day := daysFromCivil(y, int(m), d)
			sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
			start, end := ev.Start*60, ev.End*60
			var lift time.Time
			switch {
			case start < end && sec >= start && sec < end:
				lift = atClock(day, ev.End, z.loc)
			case start > end && sec >= start:
				lift = atClock(day+1, ev.End, z.loc)
			case start > end && sec < end:
				lift = atClock(day, ev.End, z.loc)
			default:
				continue
			}
			if !v.fired && x.explain {
				v.reason = fmt.Sprintf("on %s the person said %s is inconvenient; it is %s in %s (%s)",
					dayString(dayOf(ev.At, z.loc)), span, lt.Format("15:04"), z.loc, z.src)
			}
			v.fired, v.timed = true, true
			if lift.After(v.until) {
				v.until = lift
			}
		}
	}
	return v
}

// checkWorkEmail: no email to an address the collector knows the employer
// provided, unless the person wrote from it or consented (1006.22(f)(3)).
// An address we hold no record of might be one, so it blocks too.
func checkWorkEmail(x *eval, _ *ruleVersion, _ time.Time) verdict {
	addr := x.c.Attempt.To
	m, ok := x.email(addr)
	if !ok {
		return verdict{fired: true, reason: fmt.Sprintf("%q is not among the person's addresses, so we cannot tell whether the employer provided it", addr)}
	}
	if !m.EmployerProvided {
		return verdict{}
	}
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.At.After(x.now) || !strings.EqualFold(ev.To, addr) {
			continue
		}
		if ev.Kind == EventEmailUsedByConsumer || (ev.Kind == EventConsentGiven && ev.Channel == ChannelEmail) {
			return verdict{}
		}
	}
	return verdict{fired: true, reason: fmt.Sprintf("%s is provided by the person's employer and they have neither written to us from it nor consented to it", addr)}
}

// checkMediumRefused: the person asked us not to use a medium or an address
// (1006.14(h)). A revocation counts as such a request for the media it names
// ("don't call me") and for the medium it came by (a STOP reply to a text).
func checkMediumRefused(x *eval, _ *ruleVersion, t time.Time) verdict {
	ch := channelBit(x.c.Attempt.Channel)
	to := x.c.Attempt.To
	for i := range x.c.History {
		ev := &x.c.History[i]
		switch ev.Kind {
		case EventMediumRefused:
			if (ev.Channel == "" || mediumOf(ev.Channel)&ch != 0) && (ev.To == "" || strings.EqualFold(ev.To, to)) {
				what := "this medium"
				if ev.Channel != "" {
					what = mediumName(ev.Channel)
				}
				if ev.To != "" {
					what += " at " + ev.To
				}
				return verdict{fired: true, reason: fmt.Sprintf("on %s the person asked us not to use %s", utcString(ev.At), what)}
			}
		case EventConsentRevoked:
			voice, sms, email := mediaMentioned(ev.Text)
			sms = sms || ev.Via == "sms_reply"
			email = email || ev.Via == "email_reply"
			hit := (voice && voiceChannels&ch != 0) || (sms && ch == channelBit(ChannelSMS)) || (email && ch == channelBit(ChannelEmail))
			if !hit || !x.revocationCoversAddr(ev, to) {
				continue
			}
			if ch == channelBit(ChannelSMS) && x.confirmationAllowed(t) {
				continue
			}
			return verdict{fired: true, reason: fmt.Sprintf("on %s the person told us by %s %q, refusing %s",
				utcString(ev.At), ev.Via, ev.Text, mediumName(x.c.Attempt.Channel))}
		}
	}
	return verdict{}
}

func mediumName(c Channel) string {
	switch {
	case voiceChannels&channelBit(c) != 0:
		return "phone calls"
	case c == ChannelSMS:
		return "text messages"
	case c == ChannelEmail:
		return "email"
	case c == ChannelLetter:
		return "letters"
	}
	return string(c)
}

// checkOptOutNotice: every email and text from a collector carries a clear,
// simple way to opt out (1006.6(e)). The confirmation of an opt-out needs none.
func checkOptOutNotice(x *eval, _ *ruleVersion, _ time.Time) verdict {
	if x.c.Attempt.Purpose == PurposeOptOutConfirmation || x.hasDisclosure(DisclosureOptOut) {
		return verdict{}
	}
	return verdict{fired: true, reason: fmt.Sprintf("the %s has no opt-out (a link or \"reply STOP\")", x.c.Attempt.Channel)}
}

// checkLimitedContent: a voicemail must be a limited-content message, or
// it may disclose the debt to whoever hears it (1006.2(j), 1006.6(d)).
func checkLimitedContent(x *eval, _ *ruleVersion, _ time.Time) verdict {
	if x.c.Attempt.LimitedContent {
		return verdict{}
	}
	return verdict{fired: true, reason: "the voicemail says more than a limited-content message (business name, a request to reply, a person to contact, a callback number)"}
}

// checkMiniMiranda: the initial communication says the collector is
// attempting to collect a debt and will use information for that purpose;
// later ones say they are from a debt collector (1006.18(e)). A
// limited-content voicemail is not a communication (1006.2(j)), nor is
// furnishing to a credit bureau.
func checkMiniMiranda(x *eval, rv *ruleVersion, _ time.Time) verdict {
	a := x.c.Attempt
	if a.Channel == ChannelCreditReport || (a.Channel == ChannelVoicemail && a.LimitedContent) {
		return verdict{}
	}
	if x.hasDisclosure(DisclosureMiniMiranda) {
		return verdict{}
	}
	if !x.priorCommunication(rv.p.mask("communication_outcomes")) {
		return verdict{fired: true, reason: fmt.Sprintf("this is the initial communication about debt %s and it lacks the statement that we are attempting to collect a debt and will use information for that purpose", a.Debt)}
	}
	if x.hasDisclosure(DisclosureDebtCollector) {
		return verdict{}
	}
	return verdict{fired: true, reason: fmt.Sprintf("a later communication about debt %s must say it is from a debt collector", a.Debt)}
}

// priorCommunication says whether we already communicated with the person
// about the attempt's debt.
func (x *eval) priorCommunication(mask uint32) bool {
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.At.After(x.now) {
			continue
		}
		switch ev.Kind {
		case EventAttempt:
			if ev.Debt == x.c.Attempt.Debt && ev.Channel != ChannelCreditReport && ev.Outcome != "" && mask&outcomeBit(ev.Outcome) != 0 {
				return true
			}
		case EventConversation:
			if slices.Contains(ev.Debts, x.c.Attempt.Debt) {
				return true
			}
		case EventLetterSent, EventValidationNoticeSent:
			if ev.Debt == x.c.Attempt.Debt {
				return true
			}
		}
	}
	return false
}

// checkDisputePause: a written dispute within the validation period stops
// collection of the debt until verification is sent (1006.38(d)(2)). The
// period ends 30 days after receipt, assumed 5 business days (no weekends or
// legal public holidays) after the notice went out (1006.34(b)(5)).
func checkDisputePause(x *eval, rv *ruleVersion, _ time.Time) verdict {
	for i := range x.c.History {
		d := &x.c.History[i]
		if d.Kind != EventDispute || !d.Written || !x.debtMatches(d.Debt) || x.verified(d) {
			continue
		}
		within, why := x.withinValidation(d, rv.p.int("receipt_business_days"), rv.p.int("validation_days"))
		if !within {
			continue
		}
		return verdict{fired: true, reason: fmt.Sprintf("written dispute of debt %s on %s %s, and no verification has been sent",
			x.c.Attempt.Debt, utcString(d.At), why)}
	}
	return verdict{}
}

// verified says whether verification answered dispute d.
func (x *eval) verified(d *Event) bool {
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind == EventVerificationSent && x.debtMatches(ev.Debt) && !ev.At.Before(d.At) && !ev.At.After(x.now) {
			return true
		}
	}
	return false
}

func (x *eval) withinValidation(d *Event, receiptDays, periodDays int) (bool, string) {
	var notice *Event
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind == EventValidationNoticeSent && ev.Debt == x.c.Attempt.Debt && (notice == nil || ev.At.After(notice.At)) {
			notice = ev
		}
	}
	if notice == nil {
		return true, "before any validation notice (the validation period has not ended)"
	}
	for _, loc := range x.days {
		sent := dayOf(notice.At, loc)
		receipt := addBusinessDays(sent, receiptDays)
		end := receipt + periodDays
		if dayOf(d.At, loc) <= end {
			return true, fmt.Sprintf("within the validation period (notice sent %s, assumed received %s, period ends %s)",
				dayString(sent), dayString(receipt), dayString(end))
		}
	}
	return false, ""
}

// checkCease: after a written request to stop, or a refusal to pay, only a
// notice that collection ends or that a named remedy will be used may go out
// (1006.6(c)). An oral request goes to a person, who can get it in writing.
func checkCease(x *eval, rv *ruleVersion, _ time.Time) verdict {
	if slices.Contains(rv.p.set("exempt_purposes"), string(x.c.Attempt.Purpose)) {
		return verdict{}
	}
	var oral *Event
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind != EventCeaseRequest {
			continue
		}
		if ev.Written {
			return verdict{fired: true, reason: fmt.Sprintf("the person asked in writing on %s that we stop communicating; only a cease notice may go out", utcString(ev.At))}
		}
		oral = ev
	}
	if oral == nil {
		return verdict{}
	}
	return verdict{fired: true, action: Decision(rv.p.set("oral_action")[0]),
		reason: fmt.Sprintf("the person asked on %s (not in writing) that we stop communicating", utcString(oral.At))}
}

// checkTimeBarredSuit: no suit, or threat of one, on a time-barred debt
// (1006.26(b)).
func checkTimeBarredSuit(x *eval, _ *ruleVersion, _ time.Time) verdict {
	if !x.debt.TimeBarred || !x.c.Attempt.ThreatensSuit {
		return verdict{}
	}
	return verdict{fired: true, reason: fmt.Sprintf("debt %s is time-barred and the message threatens or mentions suit", x.c.Attempt.Debt)}
}

// checkCreditReport: no furnishing before we have spoken with the person
// about the debt, or mailed a letter or sent an electronic message and waited
// the 14 consecutive days after the date it went out for a bounce
// (1006.30(a)(1)). A notice counts only if it did not bounce.
func checkCreditReport(x *eval, rv *ruleVersion, t time.Time) verdict {
	wait := rv.p.int("wait_days")
	var lift time.Time
	var first *Event
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.At.After(x.now) {
			continue
		}
		spoke := (ev.Kind == EventConversation && slices.Contains(ev.Debts, x.c.Attempt.Debt)) ||
			(ev.Kind == EventAttempt && ev.Debt == x.c.Attempt.Debt && ev.Outcome == OutcomeConversation)
		if spoke {
			return verdict{}
		}
		notice := ((ev.Kind == EventLetterSent || ev.Kind == EventValidationNoticeSent) && ev.Debt == x.c.Attempt.Debt) ||
			(ev.Kind == EventAttempt && ev.Debt == x.c.Attempt.Debt &&
				((ev.Channel == ChannelLetter && ev.Outcome != OutcomeBounced) ||
					((ev.Channel == ChannelEmail || ev.Channel == ChannelSMS) && ev.Outcome == OutcomeDelivered)))
		if !notice {
			continue
		}
		var l time.Time
		for _, loc := range x.days {
			if s := startOfDay(dayOf(ev.At, loc)+wait+1, loc); s.After(l) {
				l = s
			}
		}
		if first == nil || l.Before(lift) {
			lift, first = l, ev
		}
	}
	if first == nil {
		return verdict{fired: true, reason: fmt.Sprintf("we have not spoken with the person about debt %s nor sent a letter or electronic notice about it", x.c.Attempt.Debt)}
	}
	if !t.Before(lift) {
		return verdict{}
	}
	return verdict{fired: true, timed: true, until: lift,
		reason: fmt.Sprintf("the only notice about debt %s went out on %s; furnishing waits %d days after that date for a bounce (until %s)",
			x.c.Attempt.Debt, utcString(first.At), wait, utcString(lift))}
}

// tcpaState is consent to automated contact at the number called.
type tcpaState struct {
	consent   bool   // prior express consent in force
	revoked   *Event // the revocation in force
	confirmed *Event // an automated contact to the number since the revocation
}

// consentState replays consent for the number called: giving the number for
// the debt is consent (FCC 07-232); a revocation by any reasonable means
// ends all consent to that number (64.1200(a)(10)); consent given after a
// revocation restores it. Consent given after now does not count.
func (x *eval) consentState() tcpaState {
	var s tcpaState
	if !x.isTel {
		return s
	}
	to := x.c.Attempt.To
	base := x.phone != nil && x.phone.ProvidedForDebt
	var given *Event
	for i := range x.c.History {
		ev := &x.c.History[i]
		switch ev.Kind {
		case EventConsentGiven:
			if ev.At.After(x.now) || phoneChannels&channelBit(ev.Channel) == 0 || ev.To != to || !x.debtMatches(ev.Debt) {
				continue
			}
			if given == nil || ev.At.After(given.At) {
				given = ev
			}
		case EventConsentRevoked:
			if x.revocationCoversAddr(ev, to) && (s.revoked == nil || ev.At.After(s.revoked.At)) {
				s.revoked = ev
			}
		}
	}
	if s.revoked != nil && given != nil && given.At.After(s.revoked.At) {
		s.revoked = nil
	}
	if s.revoked == nil {
		s.consent = base || given != nil
		return s
	}
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind == EventAttempt && automatedChannels&channelBit(ev.Channel) != 0 && ev.To == to && !ev.At.Before(s.revoked.At) {
			s.confirmed = ev
			break
		}
	}
	return s
}

// revocationCoversAddr: a revocation covers the number or address it came
// from; one from nowhere we know (a letter, the web, an unknown number)
// covers every number and address of the person.
func (x *eval) revocationCoversAddr(ev *Event, to string) bool {
	if strings.EqualFold(ev.From, to) {
		return true
	}
	if ev.From == "" {
		return true
	}
	if x.isKnownPhone(ev.From) {
		return false
	}
	if _, ok := x.email(ev.From); ok {
		return false
	}
	return true
}

// confirmationAllowed: one text confirming an opt-out, with no marketing,
// within 5 minutes of the revocation (64.1200(a)(12); FCC 24-24).
func (x *eval) confirmationAllowed(t time.Time) bool {
	r := x.tcpa.revoked
	a := x.c.Attempt
	if r == nil || a.Purpose != PurposeOptOutConfirmation || a.Channel != ChannelSMS || a.Marketing || x.tcpa.confirmed != nil {
		return false
	}
	rv := versionAt(x.e.revocation, t)
	if rv == nil {
		return false
	}
	return !t.Before(r.At) && !t.After(r.At.Add(time.Duration(rv.p.int("confirmation_minutes"))*time.Minute))
}

// checkTCPAConsent: artificial or prerecorded voice calls (AI voices
// included, FCC 24-17) and automated texts to a mobile need prior express
// consent (47 USC 227(b)(1)(A)(iii)). A number of unknown line type may be a
// mobile; a residential landline is the next rule's.
func checkTCPAConsent(x *eval, _ *ruleVersion, _ time.Time) verdict {
	if channelBit(x.c.Attempt.Channel) == 0 {
		return verdict{fired: true, reason: fmt.Sprintf("unknown channel %q: it may be an automated call or text, and consent cannot be checked", x.c.Attempt.Channel)}
	}
	if !x.isTel || x.c.Attempt.To == "" {
		return verdict{fired: true, reason: "an automated call or text needs a phone number to check consent for"}
	}
	if x.tcpa.revoked != nil || x.tcpa.consent {
		return verdict{}
	}
	if x.line == ledger.LineLandline && x.c.Attempt.Channel != ChannelSMS {
		return verdict{}
	}
	line := string(x.line)
	if x.line == ledger.LineUnknown {
		line = "line type unknown, so possibly a mobile"
	}
	return verdict{fired: true, reason: fmt.Sprintf("no prior express consent to reach %s (%s) by %s: the number was not given for this debt and no consent is on record",
		x.c.Attempt.To, line, x.c.Attempt.Channel)}
}

// checkLandlineCap: at most 3 artificial or prerecorded voice calls without
// consent to a residential line in 30 days (64.1200(a)(3)(ii); FCC 20-186).
func checkLandlineCap(x *eval, rv *ruleVersion, t time.Time) verdict {
	if x.line != ledger.LineLandline || x.tcpa.consent {
		return verdict{}
	}
	mask := rv.p.mask("counted_outcomes")
	ts := x.buf[:0]
	for i := range x.c.History {
		ev := &x.c.History[i]
		if ev.Kind == EventAttempt && artificialVoice&channelBit(ev.Channel) != 0 && ev.To == x.c.Attempt.To && counted(ev.Outcome, mask) {
			ts = append(ts, ev.At)
		}
	}
	x.buf = ts
	return x.capVerdict(t, ts, rv.p.int("window_days"), rv.p.int("max_calls"),
		"artificial-voice call without consent to landline ", x.c.Attempt.To)
}

// checkIdentification: an artificial or prerecorded message names the
// business at the start and gives a callback number (64.1200(b)).
func checkIdentification(x *eval, rv *ruleVersion, _ time.Time) verdict {
	var missing []string
	for _, d := range rv.p.set("required_disclosures") {
		if !x.hasDisclosure(Disclosure(d)) {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return verdict{}
	}
	return verdict{fired: true, reason: "the artificial-voice message lacks " + strings.Join(missing, " and ")}
}

// checkRevocation: consent revoked by any reasonable means is honoured at
// once on every automated channel to that number, except one confirmation
// text (64.1200(a)(10),(12); FCC 24-24).
func checkRevocation(x *eval, rv *ruleVersion, t time.Time) verdict {
	r := x.tcpa.revoked
	if r == nil || x.confirmationAllowed(t) {
		return verdict{}
	}
	v := verdict{fired: true}
	if !x.explain {
		return v
	}
	how := r.Via
	if r.From != "" {
		how += " from " + r.From
	}
	said := ""
	if r.Text != "" {
		said = fmt.Sprintf(" (%q", r.Text)
		if ok, kw := Revocation(r.Text); ok {
			said += ": " + kw
		}
		said += ")"
	}
	v.reason = fmt.Sprintf("the person revoked consent on %s by %s%s; that stops every automated call and text to %s",
		utcString(r.At), how, said, x.c.Attempt.To)
	if x.c.Attempt.Purpose == PurposeOptOutConfirmation {
		switch {
		case x.tcpa.confirmed != nil:
			v.reason += fmt.Sprintf("; a confirmation was already sent on %s", utcString(x.tcpa.confirmed.At))
		case x.c.Attempt.Marketing:
			v.reason += "; a confirmation text may not carry marketing"
		case x.c.Attempt.Channel != ChannelSMS:
			v.reason += "; only a confirmation text is allowed"
		default:
			v.reason += fmt.Sprintf("; the %d-minute window for a confirmation text has passed", rv.p.int("confirmation_minutes"))
		}
	}
	return v
}

// checkMarketing: collection calls and texts carry no marketing, which
// would make them telemarketing (64.1200(c),(d)).
func checkMarketing(x *eval, _ *ruleVersion, _ time.Time) verdict {
	if !x.c.Attempt.Marketing {
		return verdict{}
	}
	return verdict{fired: true, reason: "the message includes marketing, which makes it telemarketing"}
}

// checkMassachusetts: for each debt, at most 2 initiated calls, texts or
// recorded messages in 7 days to a residence, mobile or personal number, and
// at most 2 in 30 days to any other number (940 CMR 7.04(1)(f)). A number of
// unknown line type is held to both limits.
func checkMassachusetts(x *eval, rv *ruleVersion, t time.Time) verdict {
	personalLines := rv.p.mask("personal_lines")
	kind := func(n string) (personal, other bool) {
		l := x.lineOf(n)
		if l == ledger.LineUnknown {
			return true, true
		}
		p := lineBit(l)&personalLines != 0
		return p, !p
	}
	mask := rv.p.mask("counted_outcomes")
	toPersonal, toOther := kind(x.c.Attempt.To)
	var v verdict
	check := func(personal bool, window, limit int, what string) {
		ts := x.buf[:0]
		for i := range x.c.History {
			ev := &x.c.History[i]
			if ev.Kind != EventAttempt || phoneChannels&channelBit(ev.Channel) == 0 || !x.debtMatches(ev.Debt) || !counted(ev.Outcome, mask) {
				continue
			}
			if p, o := kind(ev.To); (personal && p) || (!personal && o) {
				ts = append(ts, ev.At)
			}
		}
		x.buf = ts
		w := x.window(t, ts, window, limit)
		v.add(x, w, func() string {
			return fmt.Sprintf("%s initiated communication about debt %s to %s numbers within %d days (on %s)",
				ordinal(w.count+1), x.c.Attempt.Debt, what, window, w.daysList())
		})
	}
	if toPersonal {
		check(true, rv.p.int("personal_window_days"), rv.p.int("max_personal"), "residence, mobile or personal")
	}
	if toOther {
		check(false, rv.p.int("other_window_days"), rv.p.int("max_other"), "other (work)")
	}
	return v
}

// checkWashington: a licensed agency communicates with the debtor at most 3
// times a week, and at most once a week at work (RCW 19.16.250(13)). Counts
// cover every debt; a week is any 7 consecutive days; a number or address
// we cannot place is treated as a workplace one.
func checkWashington(x *eval, rv *ruleVersion, t time.Time) verdict {
	mask := rv.p.mask("counted_outcomes")
	window := rv.p.int("window_days")
	atWork := func(ch Channel, to string) bool {
		switch {
		case phoneChannels&channelBit(ch) != 0:
			l := x.lineOf(to)
			return l == ledger.LineWork || l == ledger.LineUnknown
		case ch == ChannelEmail:
			m, ok := x.email(to)
			return !ok || m.EmployerProvided
		}
		return false
	}
	var v verdict
	check := func(work bool, limit int, what string) {
		ts := x.buf[:0]
		for i := range x.c.History {
			ev := &x.c.History[i]
			switch ev.Kind {
			case EventAttempt:
				if ev.Channel == ChannelCreditReport || !counted(ev.Outcome, mask) || (work && !atWork(ev.Channel, ev.To)) {
					continue
				}
			case EventLetterSent, EventValidationNoticeSent:
				if work {
					continue
				}
			default:
				continue
			}
			ts = append(ts, ev.At)
		}
		x.buf = ts
		w := x.window(t, ts, window, limit)
		v.add(x, w, func() string {
			return fmt.Sprintf("%s communication %swithin %d days (on %s)", ordinal(w.count+1), what, window, w.daysList())
		})
	}
	check(false, rv.p.int("max_week"), "")
	if atWork(x.c.Attempt.Channel, x.c.Attempt.To) {
		check(true, rv.p.int("max_work_week"), "at the person's work ")
	}
	return v
}

// checkOpenDispute: any open dispute, written or oral, sends the debt to a
// person before further automated contact.
func checkOpenDispute(x *eval, _ *ruleVersion, _ time.Time) verdict {
	for i := range x.c.History {
		d := &x.c.History[i]
		if d.Kind == EventDispute && x.debtMatches(d.Debt) && !x.verified(d) {
			how := "oral"
			if d.Written {
				how = "written"
			}
			return verdict{fired: true, reason: fmt.Sprintf("open %s dispute of debt %s since %s: a person must review before further contact", how, x.c.Attempt.Debt, utcString(d.At))}
		}
	}
	return verdict{}
}

// windowHit is the result of a day-window cap check.
type windowHit struct {
	blocked bool
	timed   bool
	until   time.Time
	count   int   // events in the window in the worst zone
	days    []int // their local days, sorted
}

func (w windowHit) daysList() string {
	parts := make([]string, len(w.days))
	prevMonth := 0
	for i, d := range w.days {
		_, m, dd := civilFromDays(d)
		if m == prevMonth {
			parts[i] = fmt.Sprint(dd)
		} else {
			parts[i] = dayString(d)
		}
		prevMonth = m
	}
	return strings.Join(parts, ", ")
}

// window checks a cap of limit events within window calendar days ending on
// t's local day, in every zone of x.days. Blocked when any zone reaches the
// cap; then until is the first local midnight at which every zone is below it.
// add folds one window of a rule with several caps into the rule's
// verdict: it fires if any cap is reached, lifts only when every reached
// cap has lifted (the latest until), and explains each reached cap.
func (v *verdict) add(x *eval, w windowHit, reason func() string) {
	if !w.blocked {
		return
	}
	if x.explain {
		if v.reason != "" {
			v.reason += "; "
		}
		v.reason += reason()
	}
	if !v.fired || (v.timed && (!w.timed || w.until.After(v.until))) {
		v.timed, v.until = w.timed, w.until
	}
	v.fired = true
}

func (x *eval) window(t time.Time, ts []time.Time, window, limit int) windowHit {
	var w windowHit
	if limit == 0 {
		return windowHit{blocked: true}
	}
	if len(ts) < limit {
		return w
	}
	var worst *time.Location
	for _, loc := range x.days {
		d := dayOf(t, loc)
		n, last := 0, d
		for _, e := range ts {
			ed := dayOf(e, loc)
			if ed <= d && ed > d-window {
				n++
			}
			last = max(last, ed)
		}
		if n > w.count || worst == nil {
			w.count, worst = n, loc
		}
		if n < limit {
			continue
		}
		w.blocked, w.timed = true, true
		lift := d + 1
		for ; lift <= last+window; lift++ {
			c := 0
			for _, e := range ts {
				if ed := dayOf(e, loc); ed <= lift && ed > lift-window {
					c++
				}
			}
			if c < limit {
				break
			}
		}
		if u := startOfDay(lift, loc); u.After(w.until) {
			w.until = u
		}
	}
	if w.blocked && x.explain {
		d := dayOf(t, worst)
		for _, e := range ts {
			if ed := dayOf(e, worst); ed <= d && ed > d-window {
				w.days = append(w.days, ed)
			}
		}
		slices.Sort(w.days)
	}
	return w
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
