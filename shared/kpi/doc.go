// Package kpi computes the baseline accounts-receivable KPIs from the ledger:
// the "before" numbers every later collections result is compared with. It is
// pure Go (no I/O besides WriteTable) and works in integer minor units; floats
// appear only in ratios (days, percentages), never in money.
//
// Figures are computed per currency (amounts in different currencies are never
// added) and describe the end of the calendar day AsOf in UTC: an invoice,
// payment or closure dated on AsOf counts. All day counts are calendar days
// between UTC dates (ledger.DaysBetween).
//
// # Balance of an invoice at a day t
//
// An ERP export is a snapshot: Open is the balance on the day it was taken.
// With a full payment history the balance can be rebuilt exactly from the
// payments; with only open balances the snapshot is all there is. One rule
// covers both, so that a controller can tie each figure to the source rows:
//
//	balance(t) = not AR                          if InvoiceDate > t
//	           = 0                               if ClosedDate is set and ClosedDate <= t
//	           = Amount - Applied(<= t)          if ClosedDate is set and ClosedDate > t
//	           = Open + Applied(> t)             if the invoice is not closed
//	then limited to 0 <= balance <= Amount
//
// Applied(<= t) is the sum of payments applied to the invoice (same tenant,
// Payment.Invoice == invoice id) received on or before t, and Applied(> t)
// those received after t. A closed invoice is rolled forward from its original
// amount; an open one is rolled back from the exported balance by adding back
// the cash that arrived after t. Consequences:
//   - Full history (e.g. the IBM file: each invoice is closed by one payment of
//     its full amount on its settled date): the balance is Amount before the
//     settled date and 0 from it, exactly.
//   - Open-items export without payments: every open invoice carries Open from
//     its invoice date, so AR at AsOf is the sum of Open; reductions the export
//     does not itemize (credit memos, short pays) are dated at the invoice date,
//     which never invents collections inside the CEI window.
//   - AsOf before the export date: payments received after AsOf are added back,
//     so the invoice is as open as it was on AsOf.
//
// An invoice is open at t when its balance is positive; only open invoices
// are counted and aged.
//
// # Unapplied cash and AR
//
// A payment with no invoice, or naming an invoice not in the input, is
// unapplied cash of its currency from its received date on. It lowers what
// the customers owe but cannot be aged, so:
//
//	OpenAR        = sum of invoice balances at AsOf (ties out to the aging)
//	UnappliedCash = sum of unapplied payments received on or before AsOf
//	NetAR         = OpenAR - UnappliedCash    (total AR for DSO and CEI)
//	PastDueAR     = sum of balances with DaysPastDue(AsOf) >= 1
//	DisputedAR    = sum of balances of invoices flagged Disputed
//
// Cash applied to an invoice beyond its amount is dropped by the limit above
// rather than moved to unapplied cash.
//
// # Aging
//
// Days past due = DaysBetween(DueDate, AsOf). Buckets: Current (<= 0, not yet
// due; an invoice due on AsOf is current), 1-30, 31-60, 61-90, 91-120, 121+.
// Each bucket has the count of open invoices, their balance, and its share of
// OpenAR as a fraction (0 when OpenAR is 0). Unapplied cash is not aged.
//
// # DSO, countback method
//
// Periods are calendar months walked back from AsOf: the first runs from the
// 1st of AsOf's month to AsOf (partial), then each earlier full month. Credit
// sales of a period = sum of Amount of invoices dated in it (all invoices,
// whatever their status). Starting with R = NetAR:
//
//	while R > sales(period):  DSO += days(period); R -= sales(period); step back a month
//	finally:                  DSO += R / sales(period) * days(period)
//
// Example: NetAR 1,300, sales March (31 days, AsOf 31 March) 1,200, February
// (28 days) 500: DSO = 31 + 100/500*28 = 36.6. NetAR <= 0 gives 0. Should AR
// outlast the sales history (impossible for consistent data), the walk stops at
// the earliest invoice and DSO counts all the days walked.
//
// # CEI, collection effectiveness index
//
// Over the Window (default 30) days ending at AsOf: the beginning is the end of
// day AsOf - Window, credit sales are invoices dated after it and on or before
// AsOf.
//
//	CEI = (BeginNetAR + Sales - EndNetAR) / (BeginNetAR + Sales - EndCurrentAR) * 100
//
// EndCurrentAR is the balance of invoices not yet past due at AsOf (the
// Current bucket). When the denominator is not positive CEI is NaN: not
// available, printed "n/a".
//
// # Payment behaviour
//
// Over invoices closed (ClosedDate set) on or before AsOf, and within the
// trailing 365 days (AsOf - 365 < ClosedDate <= AsOf); if there are none, over
// all invoices closed on or before AsOf, and PaidBasis says which was used:
//
//	AvgDaysToPay  = mean(DaysBetween(InvoiceDate, ClosedDate))
//	AvgDaysLate   = mean(max(0, DaysBetween(DueDate, ClosedDate)))
//	SharePaidLate = count(ClosedDate > DueDate) / count   (a fraction)
//
// With no closed invoice at all the three are NaN and PaidCount is 0.
package kpi
