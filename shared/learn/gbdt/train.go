package gbdt

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/recoup-dev/recoup/shared/learn/schema"
)

// Report describes a training run, for logs and model cards.
type Report struct {
	// TrainLoss and ValidLoss hold the loss after every round run: mean log
	// loss for Logistic, mean squared error for SquaredError (weighted by W).
	// ValidLoss is nil without a validation set.
	TrainLoss, ValidLoss []float64
	// BestRound is the number of rounds at which the validation loss was
	// lowest (the rounds run without a validation set). With EarlyStopping
	// the model keeps exactly this many trees.
	BestRound int
	// Skipped names the features that were constant in the training data and
	// so could never be split on.
	Skipped []string
	// Elapsed is the wall time of Train.
	Elapsed time.Duration
}

// Train fits a model to train. With a validation set it reports the validation loss
// of every round and, with p.EarlyStopping, stops when it stalls and keeps the
// best number of trees. Errors wrap ErrInvalidParams, ErrInvalidData (and
// ErrTooFewRows or ErrSingleClass) or ErrSchema (valid's columns differ).
func Train(train Dataset, valid *Dataset, p Params) (*Model, Report, error) {
	start := time.Now()
	var rep Report
	if err := checkInputs(&train, valid, p); err != nil {
		return nil, rep, err
	}
	names := train.featureNames()
	stats := columnStats(&train)
	var usable []int
	for f, s := range stats {
		if s.constant() {
			rep.Skipped = append(rep.Skipped, names[f])
		} else {
			usable = append(usable, f)
		}
	}
	if len(usable) == 0 {
		return nil, rep, invalid("train", "every feature is constant (or all missing)")
	}
	binners := fitBinners(&train, stats, p.Bins, p.Seed)
	bm := binMatrix(&train, binners)
	var vm binnedMatrix
	var vpred []float64
	if valid != nil {
		vm = binMatrix(valid, binners)
	}

	team := newTeam()
	defer team.close()
	m := &Model{objective: p.Objective, base: baseScore(p.Objective, &train), names: slices.Clone(names)}
	pred := make([]float64, train.Rows)
	for i := range pred {
		pred[i] = m.base
	}
	if valid != nil {
		vpred = make([]float64, valid.Rows)
		for i := range vpred {
			vpred[i] = m.base
		}
	}
	gh := make([]gpair, train.Rows)
	trainEval := newEvaluator(p.Objective, &train)
	var validEval *evaluator
	if valid != nil {
		validEval = newEvaluator(p.Objective, valid)
	}
	trainEval.update(team, &bm, nil, nil, nil, pred, gh)
	gr := newGrower(&bm, binners, p, team)
	s := newSampler(p, train.Rows, team)

	best, bestLoss := -1, math.Inf(1)
	for t := range p.Trees {
		n, oob := s.rows(gr.idx, t)
		feats := s.features(usable, t)
		tree := gr.grow(gh, n, feats)
		m.appendTree(tree)
		rep.TrainLoss = append(rep.TrainLoss, trainEval.update(team, &bm, tree, gr.credits, oob, pred, gh))
		if valid == nil {
			continue
		}
		loss := validEval.update(team, &vm, tree, nil, nil, vpred, nil)
		rep.ValidLoss = append(rep.ValidLoss, loss)
		if loss < bestLoss {
			best, bestLoss = t, loss
		}
		if p.EarlyStopping > 0 && t-best >= p.EarlyStopping {
			break
		}
	}
	rep.BestRound = len(rep.TrainLoss)
	if valid != nil {
		rep.BestRound = best + 1
	}
	if p.EarlyStopping > 0 {
		m.truncate(rep.BestRound)
	}
	m.computeImportance()
	rep.Elapsed = time.Since(start)
	return m, rep, nil
}

// checkInputs validates params and data before any work is done.
func checkInputs(train, valid *Dataset, p Params) error {
	if err := p.validate(); err != nil {
		return err
	}
	if err := train.check("train", p.Objective); err != nil {
		return err
	}
	if train.Rows < MinRows {
		return fmt.Errorf("%w: %w: train has %d rows, want at least %d", ErrInvalidData, ErrTooFewRows, train.Rows, MinRows)
	}
	if p.Objective == Logistic {
		var pos, all float64
		for i, y := range train.Y {
			pos += train.weight(i) * y
			all += train.weight(i)
		}
		if pos == 0 || pos == all {
			class := 0
			if pos > 0 {
				class = 1
			}
			return fmt.Errorf("%w: %w: every weighted train label is %d", ErrInvalidData, ErrSingleClass, class)
		}
	}
	if p.EarlyStopping > 0 && valid == nil {
		return fmt.Errorf("%w: EarlyStopping = %d needs a validation set", ErrInvalidParams, p.EarlyStopping)
	}
	if valid == nil {
		return nil
	}
	if valid.Cols != train.Cols {
		return fmt.Errorf("%w: valid has %d columns, train has %d", ErrSchema, valid.Cols, train.Cols)
	}
	if err := valid.check("valid", p.Objective); err != nil {
		return err
	}
	if valid.Rows == 0 {
		return invalid("valid", "no rows")
	}
	if err := schema.Compare(train.featureNames(), valid.featureNames(), "training data", "validation data"); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return nil
}
