package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recoup-dev/recoup/infra/local"
	"github.com/recoup-dev/recoup/shared/datasets"
	"github.com/recoup-dev/recoup/shared/evaluate"
	"github.com/recoup-dev/recoup/shared/preference"
)

// dataFiles are the public data sets of ../shared/data by format.
var dataFiles = map[string]string{
	evaluate.FormatIBM: "WA_Fn-UseC_-Accounts-Receivable.csv",
	evaluate.FormatUCI: "default_of_credit_card_clients.tsv",
	formatBank:         "uci_bank_marketing_bank-full_with_id.csv",
}

// formatBank is the UCI bank-marketing file, on which the channel
// preference model is replayed.
const formatBank = "bank-marketing"

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "train" {
		return runModelTrain(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "eval" {
		return fmt.Errorf("%w: want a subcommand: train or eval", errUsage)
	}
	fs := newFlags("model eval", stderr)
	format := fs.String("format", "", "data format: ibm-ar, uci-default or bank-marketing (required)")
	data := fs.String("data", "", "the whole data file, split as ../shared/data/README.md says (default: the file in ../shared/data)")
	train := fs.String("train", "", "training half of any split (with --test)")
	test := fs.String("test", "", "test half of any split (with --train)")
	peers := fs.Bool("peers", false, "also run scikit-learn and XGBoost on the same matrix (Debian's python3-sklearn and python3-xgboost)")
	python := fs.String("python", "/usr/bin/python3", "the Python that runs the peers")
	seed := fs.Uint64("seed", 1, "training seed")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	name, ok := dataFiles[*format]
	if !ok {
		return fmt.Errorf("%w: --format must be ibm-ar, uci-default or bank-marketing, not %q", errUsage, *format)
	}
	if *format == formatBank && (*train != "" || *test != "" || *peers) {
		return fmt.Errorf("%w: bank-marketing is replayed on its own time split: use --data only, without --peers", errUsage)
	}
	spec := evaluate.Spec{Format: *format, Data: *data, Train: *train, Test: *test, Seed: *seed}
	if spec.Data == "" && spec.Train == "" && spec.Test == "" {
		root, err := local.FindRepoRoot(".")
		if err != nil {
			return fmt.Errorf("find ../shared/data: %w; pass --data FILE", err)
		}
		spec.Data = filepath.Join(root, "..", "shared", "data", name)
		if _, err := os.Stat(spec.Data); err != nil {
			return fmt.Errorf("the %s file is not in ../shared/data (%w); pass --data FILE", *format, err)
		}
	}
	if *format == formatBank {
		return replayBank(spec.Data, *seed, stdout)
	}
	if *peers {
		spec.Python = *python
	}
	res, err := evaluate.Run(ctx, spec)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(res)
}

// replayBank replays the channel preference model on the bank-marketing
// file against the logged choices and the best channel overall.
func replayBank(path string, seed uint64, stdout io.Writer) error {
	res, err := bankReplay(path, seed)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func bankReplay(path string, seed uint64) (preference.ReplayResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return preference.ReplayResult{}, err
	}
	defer f.Close()
	rows, err := datasets.ReadBank(f)
	if err != nil {
		return preference.ReplayResult{}, fmt.Errorf("%s: %w", path, err)
	}
	return preference.BankReplay(rows, preference.ReplayOptions{Seed: seed, Choose: preference.DefaultOptions()})
}
