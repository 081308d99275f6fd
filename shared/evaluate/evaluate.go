// Package evaluate measures the ranking models on the public data sets in
// ../shared/data, on the README's splits, beside the simple baselines a
// finance team would otherwise use and, on request, beside scikit-learn and
// XGBoost run on the very same matrix.
package evaluate

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/recoup-dev/recoup/shared/datasets"
	"github.com/recoup-dev/recoup/shared/features"
	"github.com/recoup-dev/recoup/shared/learn/metrics"
	"github.com/recoup-dev/recoup/shared/scoring"
)

// Formats evaluate can read.
const (
	FormatIBM = "ibm-ar"
	FormatUCI = "uci-default"
)

// Spec says what to evaluate.
type Spec struct {
	Format string
	// Data is the whole file, split as the README says; or Train and Test
	// are the two halves of any split in the same format.
	Data, Train, Test string
	// Python, when set, runs the peers (peers.py) with that interpreter.
	Python string
	Seed   uint64
}

// Scores are one model's figures on the test rows. Fields a task does not
// have are omitted.
type Scores struct {
	AUC          *float64 `json:"auc,omitempty"`
	Brier        *float64 `json:"brier,omitempty"`
	ECE          *float64 `json:"calibration_error,omitempty"`
	MAE          *float64 `json:"mae_days,omitempty"`
	TrainSeconds *float64 `json:"train_seconds,omitempty"`
}

// Result is what `recoup model eval` prints.
type Result struct {
	Format    string            `json:"format"`
	TrainRows int               `json:"train_rows"`
	TestRows  int               `json:"test_rows"`
	Model     Scores            `json:"model"`
	Choice    Choice            `json:"model_choice"`
	Baselines map[string]Scores `json:"baselines"`
	Peers     map[string]Scores `json:"peers,omitempty"`
	PeerInfo  map[string]string `json:"peer_versions,omitempty"`
}

// Choice records how training chose the model, from the validation rows.
type Choice struct {
	TreesWeight     float64  `json:"trees_weight"`
	Trees           int      `json:"trees"`
	DaysTreesWeight *float64 `json:"days_trees_weight,omitempty"`
	Ignored         []string `json:"ignored_features,omitempty"`
}

//go:embed peers.py
var peersScript []byte

// Run evaluates spec.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	switch spec.Format {
	case FormatIBM:
		return runIBM(ctx, spec)
	case FormatUCI:
		return runUCI(ctx, spec)
	}
	return nil, fmt.Errorf("evaluate: unknown format %q (want %s or %s)", spec.Format, FormatIBM, FormatUCI)
}

func checkSpec(spec Spec) error {
	switch {
	case spec.Data != "" && (spec.Train != "" || spec.Test != ""):
		return errors.New("evaluate: give either the data file or --train and --test, not both")
	case spec.Data == "" && (spec.Train == "" || spec.Test == ""):
		return errors.New("evaluate: give the data file, or both --train and --test")
	}
	return nil
}

func runIBM(ctx context.Context, spec Spec) (*Result, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	var train, test *datasets.Invoices
	if spec.Data != "" {
		s, err := readIBM(ctx, spec.Data)
		if err != nil {
			return nil, err
		}
		if train, test, err = datasets.IBMExamples(s, datasets.IBMSplit); err != nil {
			return nil, err
		}
	} else {
		a, err := readIBM(ctx, spec.Train)
		if err != nil {
			return nil, err
		}
		b, err := readIBM(ctx, spec.Test)
		if err != nil {
			return nil, err
		}
		if train, test, err = datasets.IBMFiles(a, b); err != nil {
			return nil, err
		}
	}
	res := &Result{Format: FormatIBM, TrainRows: train.Rows(), TestRows: test.Rows(), Baselines: map[string]Scores{}}
	m := scoring.Matrix{X: train.X, Rows: train.Rows(), Names: train.Names}
	opts := scoring.Options{Seed: spec.Seed}
	start := time.Now()
	// The two models are independent and, on a couple of thousand rows,
	// neither keeps both cores busy: they are trained side by side.
	var (
		days    *scoring.Regressor
		drep    scoring.Report
		daysErr error
		wg      sync.WaitGroup
	)
	wg.Go(func() { days, drep, daysErr = scoring.TrainRegressor(m, train.Days, opts) })
	late, rep, err := scoring.TrainClassifier(m, train.Y, opts)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("train the late-payment model: %w", err)
	}
	if daysErr != nil {
		return nil, fmt.Errorf("train the days-to-pay model: %w", daysErr)
	}
	secs := time.Since(start).Seconds()
	dw := drep.Weight
	res.Choice = Choice{TreesWeight: rep.Weight, Trees: rep.Trees, DaysTreesWeight: &dw, Ignored: rep.Ignored}

	p, d := make([]float64, test.Rows()), make([]float64, test.Rows())
	for i := range test.Rows() {
		p[i] = late.Predict(test.Row(i))
		d[i] = days.Predict(test.Row(i))
	}
	if res.Model, err = classScores(test.Y, p); err != nil {
		return nil, err
	}
	mae, err := metrics.MAE(test.Days, d)
	if err != nil {
		return nil, err
	}
	res.Model.MAE, res.Model.TrainSeconds = &mae, &secs

	// Baselines from the data README, computed here on the same rows.
	smoothed, custDays, terms := make([]float64, test.Rows()), make([]float64, test.Rows()), make([]float64, test.Rows())
	meanDays := stat.Mean(train.Days, nil)
	for i := range test.Rows() {
		row := test.Row(i)
		smoothed[i] = row[features.LateShareSmoothed]
		custDays[i] = row[features.DaysToPayMean]
		if math.IsNaN(custDays[i]) { // a new customer: the portfolio's mean
			custDays[i] = meanDays
		}
		terms[i] = row[features.TermsDays]
	}
	if res.Baselines["smoothed_late_rate"], err = classScores(test.Y, smoothed); err != nil {
		return nil, err
	}
	for name, pred := range map[string][]float64{"customer_mean_days": custDays, "terms_days": terms} {
		v, err := metrics.MAE(test.Days, pred)
		if err != nil {
			return nil, err
		}
		res.Baselines[name] = Scores{MAE: &v}
	}
	if spec.Python != "" {
		if err := runPeers(ctx, spec.Python, res, &train.Table, train.Days, &test.Table, test.Days); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func runUCI(ctx context.Context, spec Spec) (*Result, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	var train, test *datasets.Table
	if spec.Data != "" {
		all, err := readUCI(spec.Data)
		if err != nil {
			return nil, err
		}
		train, test = all.Split(datasets.UCIDefaultHeldOut)
	} else {
		var err error
		if train, err = readUCI(spec.Train); err != nil {
			return nil, err
		}
		if test, err = readUCI(spec.Test); err != nil {
			return nil, err
		}
		if !slices.Equal(train.Names, test.Names) {
			return nil, fmt.Errorf("evaluate: %s and %s have different columns", spec.Train, spec.Test)
		}
	}
	res := &Result{Format: FormatUCI, TrainRows: train.Rows(), TestRows: test.Rows(), Baselines: map[string]Scores{}}
	start := time.Now()
	c, rep, err := scoring.TrainClassifier(scoring.Matrix{X: train.X, Rows: train.Rows(), Names: train.Names}, train.Y,
		scoring.Options{Seed: spec.Seed})
	if err != nil {
		return nil, fmt.Errorf("train the default model: %w", err)
	}
	secs := time.Since(start).Seconds()
	res.Choice = Choice{TreesWeight: rep.Weight, Trees: rep.Trees, Ignored: rep.Ignored}
	p := make([]float64, test.Rows())
	for i := range test.Rows() {
		p[i] = c.Predict(test.Row(i))
	}
	if res.Model, err = classScores(test.Y, p); err != nil {
		return nil, err
	}
	res.Model.TrainSeconds = &secs
	pay0 := -1
	for j, n := range test.Names {
		if n == "PAY_0" {
			pay0 = j
		}
	}
	if pay0 >= 0 {
		h := make([]float64, test.Rows())
		for i := range test.Rows() {
			h[i] = test.Row(i)[pay0]
		}
		auc, err := metrics.AUC(test.Y, h)
		if err != nil {
			return nil, err
		}
		res.Baselines["pay_0_status"] = Scores{AUC: &auc} // a ranking, not a probability: no Brier
	}
	if spec.Python != "" {
		if err := runPeers(ctx, spec.Python, res, train, nil, test, nil); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func classScores(y, p []float64) (Scores, error) {
	auc, err := metrics.AUC(y, p)
	if err != nil {
		return Scores{}, err
	}
	brier, err := metrics.Brier(y, p)
	if err != nil {
		return Scores{}, err
	}
	ece, err := metrics.ECE(y, p, 10)
	if err != nil {
		return Scores{}, err
	}
	return Scores{AUC: &auc, Brier: &brier, ECE: &ece}, nil
}

// runPeers writes the two matrices and runs peers.py on them.
func runPeers(ctx context.Context, python string, res *Result, train *datasets.Table, trainDays []float64,
	test *datasets.Table, testDays []float64) error {
	dir, err := os.MkdirTemp("", "recoup-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "peers.py")
	if err := os.WriteFile(script, peersScript, 0o600); err != nil {
		return err
	}
	a, b := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := writeMatrix(a, train, trainDays); err != nil {
		return err
	}
	if err := writeMatrix(b, test, testDays); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, python, script, a, b)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("peers (%s %s): %w; they need Debian's python3-sklearn and python3-xgboost", python, "peers.py", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		return fmt.Errorf("peers: output is not JSON: %w", err)
	}
	res.Peers = map[string]Scores{}
	for k, v := range raw {
		if k == "versions" {
			if err := json.Unmarshal(v, &res.PeerInfo); err != nil {
				return fmt.Errorf("peers: versions: %w", err)
			}
			continue
		}
		var s struct {
			AUC   *float64 `json:"auc"`
			Brier *float64 `json:"brier"`
			ECE   *float64 `json:"ece"`
			MAE   *float64 `json:"mae"`
			Secs  *float64 `json:"train_seconds"`
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("peers: %s: %w", k, err)
		}
		res.Peers[k] = Scores{AUC: s.AUC, Brier: s.Brier, ECE: s.ECE, MAE: s.MAE, TrainSeconds: s.Secs}
	}
	return nil
}

func readIBM(ctx context.Context, path string) (features.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return features.Snapshot{}, err
	}
	defer f.Close()
	return datasets.ReadIBM(ctx, filepath.Base(path), f)
}

func readUCI(path string) (*datasets.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := datasets.ReadUCIDefault(io.Reader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
