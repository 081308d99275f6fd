package ranking

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/recoup-dev/recoup/shared/drift"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/learn/gbdt"
	"github.com/recoup-dev/recoup/shared/learn/metrics"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Model is a trained ranking model: one classifier per horizon and the
// days-to-pay regressor, over the features of one feature version.
type Model struct {
	FeatureVersion string
	Features       []string
	// TrainedAt is when training ran; DataEnd the export date of the
	// ledger it learnt from.
	TrainedAt, DataEnd time.Time
	// Validation holds the heads' scores on the holdout: the newest
	// instants, which the model that was scored had not seen.
	Validation Metrics
	// Drift is the reference population the daily scoring compares with:
	// the holdout's features and the 30-day probabilities the model
	// trained without them gave it (scores on training rows would look
	// more confident than any real day's).
	Drift *drift.Reference

	within [len(Horizons)]*scoring.Classifier
	days   *scoring.Regressor
}

// Metrics are a model's scores on held-out rows.
type Metrics struct {
	From time.Time `json:"from"` // the holdout's instants
	To   time.Time `json:"to"`
	Rows int       `json:"rows"`
	// Per horizon: AUC, Brier score and expected calibration error of the
	// pay-within probability.
	Within [len(Horizons)]ClassMetrics `json:"pay_within"`
	// DaysMAE is the mean absolute error of the expected days to pay on
	// the rows whose payment (or 90 days) the data shows.
	DaysMAE  float64 `json:"days_mae"`
	DaysRows int     `json:"days_rows"`
	// Baseline is the AUC, on the 30-day horizon, of ranking by the
	// customer's smoothed on-time share alone: the rule a team would use
	// without a model.
	Baseline float64 `json:"baseline_auc"`
}

// ClassMetrics are the held-out scores of one probability.
type ClassMetrics struct {
	AUC      float64 `json:"auc"`
	Brier    float64 `json:"brier"`
	ECE      float64 `json:"calibration_error"`
	Positive float64 `json:"positive_share"` // share paid within the horizon
}

// Config tunes training. The zero value is the default.
type Config struct {
	Examples ExampleConfig
	// HoldoutWeeks are the newest weeks of instants kept out of training
	// to validate the model (default 8).
	HoldoutWeeks int
	Seed         uint64
}

// ErrHoldout marks data too short or too thin to validate a model on.
var ErrHoldout = errors.New("ranking: not enough held-out rows")

// headTrees are the boosting settings of each head. A shallow, quick
// learner keeps four heads on a million invoices within a minute of
// training and three seconds of scoring; the blend still chooses the
// linear model where the trees do not help.
func headTrees(obj gbdt.Objective) gbdt.Params {
	p := scoring.DefaultTrees(obj)
	p.Trees, p.LearningRate, p.EarlyStopping = 60, 0.3, 10
	return p
}

// Train learns a model from one tenant's snapshot exported at end. It
// first trains on every instant before the holdout and scores the holdout
// (Validation), then refits on every row, so the model that is deployed
// has seen the newest behaviour.
func Train(s features.Snapshot, end time.Time, cfg Config) (*Model, error) {
	m, _, err := TrainAgainst(s, end, cfg, nil)
	return m, err
}

// Comparison scores a challenger against the champion on the rows
// neither has seen: the holdout instants after the champion's last
// training instant. Comparing on rows the champion trained on would
// flatter it and no challenger would ever win.
type Comparison struct {
	From       time.Time `json:"from"`
	Rows       int       `json:"rows"`
	Challenger Metrics   `json:"challenger"`
	Champion   Metrics   `json:"champion"`
}

// TrainAgainst trains as Train does and, when champion is not nil,
// compares the two. The comparison is nil when fewer than
// scoring.MinRows rows are new to the champion (it trained on data too
// recent to judge it fairly yet).
func TrainAgainst(s features.Snapshot, end time.Time, cfg Config, champion *Model) (*Model, *Comparison, error) {
	h, err := features.NewHistory(s)
	if err != nil {
		return nil, nil, err
	}
	ex, err := Build(h, s.Invoices, end, cfg.Examples)
	if err != nil {
		return nil, nil, err
	}
	weeks := cfg.HoldoutWeeks
	if weeks <= 0 {
		weeks = 8
	}
	cut := 0
	if ex.M.Rows > 0 {
		cut = after(ex.At, ex.At[ex.M.Rows-1].AddDate(0, 0, -7*weeks))
	}
	if ex.M.Rows-cut < scoring.MinRows || cut < scoring.MinRows {
		return nil, nil, fmt.Errorf("%w: %d training and %d holdout rows (the newest %d weeks), need %d of each",
			ErrHoldout, cut, ex.M.Rows-cut, weeks, scoring.MinRows)
	}
	early, err := fit(rows(ex, 0, cut), cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	holdout := rows(ex, cut, ex.M.Rows)
	if early.Validation, err = early.evaluate(holdout); err != nil {
		return nil, nil, err
	}
	p, err := early.Predict(holdout.M)
	if err != nil {
		return nil, nil, err
	}
	ref, err := drift.Capture(drift.Sample{Names: holdout.M.Names, Rows: holdout.M.Rows, X: holdout.M.X,
		Scores: p.Within[len(Horizons)-1]}, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("drift reference: %w", err)
	}
	var cmp *Comparison
	if champion != nil {
		// The champion's newest training instant is 30 days before the
		// end of its data.
		from := max(cut, after(ex.At, champion.DataEnd.AddDate(0, 0, -Horizons[len(Horizons)-1])))
		if ex.M.Rows-from >= scoring.MinRows {
			unseen := rows(ex, from, ex.M.Rows)
			cmp = &Comparison{From: ex.At[from], Rows: unseen.M.Rows}
			if cmp.Challenger, err = early.evaluate(unseen); err != nil {
				return nil, nil, err
			}
			if cmp.Champion, err = champion.evaluate(unseen); err != nil {
				return nil, nil, fmt.Errorf("score the champion: %w", err)
			}
		}
	}
	m, err := fit(ex, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	m.Validation = early.Validation
	m.Drift = ref
	m.DataEnd = end
	m.TrainedAt = time.Now().UTC()
	return m, cmp, nil
}

// after is the index of the first instant after t (at is sorted).
func after(at []time.Time, t time.Time) int {
	return sort.Search(len(at), func(i int) bool { return at[i].After(t) })
}

// rows are the examples from..to-1.
func rows(ex Examples, from, to int) Examples {
	c := len(ex.M.Names)
	out := Examples{M: scoring.Matrix{X: ex.M.X[from*c : to*c], Rows: to - from, Names: ex.M.Names},
		At: ex.At[from:to], Days: ex.Days[from:to]}
	for j := range Horizons {
		out.Within[j] = ex.Within[j][from:to]
	}
	return out
}

func fit(ex Examples, seed uint64) (*Model, error) {
	m := &Model{FeatureVersion: features.Version, Features: ex.M.Names}
	for j, n := range Horizons {
		p := headTrees(gbdt.Logistic)
		c, _, err := scoring.TrainClassifier(ex.M, ex.Within[j], scoring.Options{Seed: seed, Trees: &p})
		if err != nil {
			return nil, fmt.Errorf("pay within %d days: %w", n, err)
		}
		m.within[j] = c
	}
	// The days head learns from the rows whose outcome is known.
	known := scoring.Matrix{Names: ex.M.Names}
	var days []float64
	for i, d := range ex.Days {
		if !math.IsNaN(d) {
			known.X = append(known.X, ex.M.Row(i)...)
			known.Rows++
			days = append(days, d)
		}
	}
	p := headTrees(gbdt.SquaredError)
	r, _, err := scoring.TrainRegressor(known, days, scoring.Options{Seed: seed, Trees: &p})
	if err != nil {
		return nil, fmt.Errorf("days to pay: %w", err)
	}
	m.days = r
	return m, nil
}

// Predictions are the model's outputs on a matrix of rows.
type Predictions struct {
	Within [len(Horizons)][]float64
	Days   []float64
}

// Predict scores every row of m: probabilities in [0,1], never
// decreasing with the horizon (a payment within 7 days is also within
// 14), and expected days in [0, DaysCap].
func (m *Model) Predict(x scoring.Matrix) (Predictions, error) {
	return m.predict(x, len(Horizons))
}

// predict predicts the first heads horizons and the days; the others are
// left zero for the caller (scoring computes the last one with its
// reasons).
func (m *Model) predict(x scoring.Matrix, heads int) (Predictions, error) {
	if err := scoring.CheckSchema(m.Features, x.Names); err != nil {
		return Predictions{}, err
	}
	var p Predictions
	for j := range Horizons {
		p.Within[j] = make([]float64, x.Rows)
		if j >= heads {
			continue
		}
		if err := m.within[j].PredictBatch(x, p.Within[j]); err != nil {
			return p, err
		}
	}
	p.Days = make([]float64, x.Rows)
	if err := m.days.PredictBatch(x, p.Days); err != nil {
		return p, err
	}
	for i := range x.Rows {
		for j := 1; j < heads; j++ {
			p.Within[j][i] = max(p.Within[j][i], p.Within[j-1][i])
		}
		p.Days[i] = min(max(p.Days[i], 0), DaysCap)
	}
	return p, nil
}

// evaluate scores the model on held-out rows.
func (m *Model) evaluate(ex Examples) (Metrics, error) {
	p, err := m.Predict(ex.M)
	if err != nil {
		return Metrics{}, err
	}
	met := Metrics{From: ex.At[0], To: ex.At[len(ex.At)-1], Rows: ex.M.Rows}
	for j, n := range Horizons {
		y := ex.Within[j]
		var cm ClassMetrics
		var pos float64
		for _, v := range y {
			pos += v
		}
		cm.Positive = pos / float64(len(y))
		if cm.AUC, err = metrics.AUC(y, p.Within[j]); err != nil {
			return met, fmt.Errorf("%w: pay within %d days: %w", ErrHoldout, n, err)
		}
		if cm.Brier, err = metrics.Brier(y, p.Within[j]); err != nil {
			return met, err
		}
		if cm.ECE, err = metrics.ECE(y, p.Within[j], 10); err != nil {
			return met, err
		}
		met.Within[j] = cm
	}
	var yd, pd []float64
	for i, d := range ex.Days {
		if !math.IsNaN(d) {
			yd, pd = append(yd, d), append(pd, p.Days[i])
		}
	}
	met.DaysRows = len(yd)
	if len(yd) > 0 {
		if met.DaysMAE, err = metrics.MAE(yd, pd); err != nil {
			return met, err
		}
	}
	base := make([]float64, ex.M.Rows)
	for i := range base {
		base[i] = 1 - ex.M.Row(i)[features.LateShareSmoothed]
	}
	if met.Baseline, err = metrics.AUC(ex.Within[len(Horizons)-1], base); err != nil {
		return met, err
	}
	return met, nil
}

// Score is the loss a model's holdout metrics add up to, lower better:
// the mean Brier score over the horizons. Brier rewards both ranking and
// calibration, which the worklist's expected values both need.
func (m Metrics) Score() float64 {
	var s float64
	for _, c := range m.Within {
		s += c.Brier
	}
	return s / float64(len(m.Within))
}
