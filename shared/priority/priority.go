// Package priority orders the worklist by the expected value of acting
// now, not by the chance of payment alone: a customer who will pay anyway
// needs no call, and a small balance is not worth an expensive one.
//
// For one customer and the channel chosen for them:
//
//	value = open balance × (1 − P(paid within the horizon anyway))
//	        × P(useful response on the channel) × lift − cost of the contact
//
// The product of the last three factors is the change in the probability
// of being paid that the action is expected to bring. Lift is the share of
// useful responses (a reply, a promise, a click to pay) that turn into a
// payment which would not otherwise have come within the horizon; the
// data here cannot measure it (no one randomised contacts), so it is the
// tenant's setting, to be measured by the pilot/shadow mode, and the
// explanation always shows it.
package priority

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/recoup-dev/recoup/shared/money"
)

// ErrConfig marks a configuration that cannot rank.
var ErrConfig = errors.New("priority: invalid configuration")

// Config is a tenant's economics of collecting.
type Config struct {
	// Currency is the reporting currency values are compared in.
	Currency money.Currency
	// Rates convert other currencies into Currency: how many units of
	// Currency one unit of the key buys, as a decimal string ("1.0834").
	Rates map[string]string
	// Lift is the share of useful responses that bring a payment which
	// would not otherwise have come within the horizon (default 0.5).
	Lift float64
	// Costs are the cost of one contact per channel in Currency; a
	// channel not listed uses DefaultCosts.
	Costs map[string]money.Amount
}

// DefaultCosts are one contact's cost per channel in US cents: email and
// SMS at their AWS prices with headroom, an AI call of a few minutes, a
// collector's call at about ten minutes of loaded staff time, a printed
// and posted letter. Tenants set their own.
var DefaultCosts = map[string]int64{"email": 1, "sms": 2, "ai_voice": 50, "voice": 500, "letter": 120}

// Input is one customer's case for a contact.
type Input struct {
	Customer string
	Open     money.Amount
	// PayAnyway is the probability the balance is paid within the horizon
	// without this contact (the ranking model's share of the balance).
	PayAnyway float64
	Channel   string
	// Response is the probability of a useful response on Channel.
	Response float64
}

// Item is a ranked case.
type Item struct {
	Input
	// Uplift is the expected change in the probability of payment.
	Uplift float64
	// Value is the expected value of acting now, in Config.Currency.
	Value money.Amount
	Cost  money.Amount
	// Why shows the arithmetic in words.
	Why string
}

// economics is a validated Config.
type economics struct {
	cfg   Config
	lift  float64
	rates map[string]*big.Rat
}

// Validate reports what makes the configuration unusable: no reporting
// currency, a lift outside (0, 1], a rate that is not a positive decimal.
func (cfg Config) Validate() error {
	_, err := cfg.compile()
	return err
}

func (cfg Config) compile() (economics, error) {
	if cfg.Currency.IsZero() {
		return economics{}, fmt.Errorf("%w: no reporting currency", ErrConfig)
	}
	e := economics{cfg: cfg, lift: cfg.Lift, rates: map[string]*big.Rat{cfg.Currency.Code(): big.NewRat(1, 1)}}
	if e.lift == 0 {
		e.lift = 0.5
	}
	if !(e.lift > 0 && e.lift <= 1) {
		return economics{}, fmt.Errorf("%w: lift %v outside (0,1]", ErrConfig, cfg.Lift)
	}
	for code, s := range cfg.Rates {
		r, ok := new(big.Rat).SetString(s)
		if !ok || r.Sign() <= 0 {
			return economics{}, fmt.Errorf("%w: rate %s = %q is not a positive decimal", ErrConfig, code, s)
		}
		e.rates[code] = r
	}
	return e, nil
}

// open converts a customer's balance into the reporting currency.
func (e economics) open(customer string, a money.Amount) (money.Amount, error) {
	rate, ok := e.rates[a.Currency.Code()]
	if !ok {
		return money.Amount{}, fmt.Errorf("%w: customer %s owes %s and there is no %s rate to %s", ErrConfig, customer,
			a.Currency, a.Currency, e.cfg.Currency)
	}
	return convert(a, rate, e.cfg.Currency), nil
}

// Terms are what a channel choice weighs for one customer, in minor units
// of the reporting currency: the worth of a useful response (balance × not
// paid anyway × lift) and each channel's cost. Choosing by response rate
// alone would put a five-dollar call on a twenty-dollar balance.
type Terms struct {
	Response int64
	Costs    map[string]int64
}

// TermsFor gives the terms of a customer's channel choice among channels.
func (cfg Config) TermsFor(customer string, open money.Amount, payAnyway float64, channels []string) (Terms, error) {
	e, err := cfg.compile()
	if err != nil {
		return Terms{}, err
	}
	if !(payAnyway >= 0 && payAnyway <= 1) {
		return Terms{}, fmt.Errorf("priority: customer %s: pay-anyway probability %v outside [0,1]", customer, payAnyway)
	}
	o, err := e.open(customer, open)
	if err != nil {
		return Terms{}, err
	}
	t := Terms{Response: int64(math.Round(float64(o.Minor) * (1 - payAnyway) * e.lift)), Costs: map[string]int64{}}
	for _, ch := range channels {
		c, err := costOf(cfg, ch)
		if err != nil {
			return Terms{}, fmt.Errorf("customer %s: %w", customer, err)
		}
		t.Costs[ch] = c.Minor
	}
	return t, nil
}

// Rank values every input and orders them highest value first (ties:
// larger balance, then customer id, so the order is reproducible).
func Rank(in []Input, cfg Config) ([]Item, error) {
	e, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	lift := e.lift
	out := make([]Item, 0, len(in))
	for _, c := range in {
		for what, p := range map[string]float64{"pay-anyway probability": c.PayAnyway, "response probability": c.Response} {
			if !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("priority: customer %s: %s %v outside [0,1]", c.Customer, what, p)
			}
		}
		open, err := e.open(c.Customer, c.Open)
		if err != nil {
			return nil, err
		}
		cost, err := costOf(cfg, c.Channel)
		if err != nil {
			return nil, fmt.Errorf("customer %s: %w", c.Customer, err)
		}
		uplift := (1 - c.PayAnyway) * c.Response * lift
		value := money.New(int64(math.Round(float64(open.Minor)*uplift))-cost.Minor, cfg.Currency)
		it := Item{Input: c, Uplift: uplift, Value: value, Cost: cost}
		it.Why = fmt.Sprintf("%s open × %.0f%% not expected to pay anyway × %.0f%% respond by %s × %.0f%% of responses pay − %s contact = %s",
			open, 100*(1-c.PayAnyway), 100*c.Response, c.Channel, 100*lift, cost, value)
		out = append(out, it)
	}
	slices.SortStableFunc(out, func(a, b Item) int {
		if c := cmp.Compare(b.Value.Minor, a.Value.Minor); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Open.Minor, a.Open.Minor); c != 0 {
			return c
		}
		return cmp.Compare(a.Customer, b.Customer)
	})
	return out, nil
}

func costOf(cfg Config, channel string) (money.Amount, error) {
	if c, ok := cfg.Costs[channel]; ok {
		if c.Currency != cfg.Currency || c.Minor < 0 {
			return money.Amount{}, fmt.Errorf("%w: cost of %s must be a non-negative %s amount", ErrConfig, channel, cfg.Currency)
		}
		return c, nil
	}
	cents, ok := DefaultCosts[channel]
	if !ok {
		return money.Amount{}, fmt.Errorf("%w: unknown channel %q", ErrConfig, channel)
	}
	if cfg.Currency.Code() != "USD" {
		return money.Amount{}, fmt.Errorf("%w: the default costs are in USD; set Costs for %s in %s", ErrConfig, channel, cfg.Currency)
	}
	return money.New(cents, cfg.Currency), nil
}

// convert turns an amount into the reporting currency exactly (rational
// arithmetic), rounding half away from zero only at the end.
func convert(a money.Amount, rate *big.Rat, to money.Currency) money.Amount {
	if a.Currency == to {
		return a
	}
	v := new(big.Rat).SetInt64(a.Minor)
	v.Mul(v, rate)
	v.Mul(v, new(big.Rat).SetFrac(pow10(to.Scale()), pow10(a.Currency.Scale())))
	f, _ := v.Float64()
	return money.New(int64(math.Round(f)), to)
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
