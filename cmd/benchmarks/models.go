package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/recoup-dev/recoup/shared/datasets"
	"github.com/recoup-dev/recoup/shared/evaluate"
	"github.com/recoup-dev/recoup/shared/preference"
)

// python is the interpreter with Debian's python3-sklearn and
// python3-xgboost, the peers of the side-by-side table.
const python = "/usr/bin/python3"

// ensurePeers installs the peers from Debian when they are missing and we
// may (root with apt-get, as on CI); otherwise it says how.
func ensurePeers(ctx context.Context) error {
	check := func() error {
		return exec.CommandContext(ctx, python, "-c", "import sklearn, xgboost").Run()
	}
	if check() == nil {
		return nil
	}
	const hint = "the model table needs Debian's python3-sklearn and python3-xgboost: sudo apt-get install -y python3-sklearn python3-xgboost"
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		return fmt.Errorf("%s", hint)
	}
	fmt.Fprintln(os.Stderr, "benchmarks: installing python3-sklearn and python3-xgboost with apt-get")
	cmd := exec.CommandContext(ctx, apt, "install", "-y", "--no-install-recommends", "python3-sklearn", "python3-xgboost")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apt-get install: %w; %s", err, hint)
	}
	return check()
}

// modelsSection evaluates the models on both public data sets beside the
// README's baselines and the peers run on the same matrices.
func modelsSection(ctx context.Context, root string) (string, error) {
	if err := ensurePeers(ctx); err != nil {
		return "", err
	}
	data := filepath.Join(root, "..", "shared", "data")
	var b strings.Builder
	b.WriteString(modelsBegin + "\n## Models beside scikit-learn and XGBoost\n\n")
	b.WriteString("Written by `make eval` and `make bench`: `recoup model eval --peers` on the splits of ../shared/data/README.md. " +
		"The peers (Debian's python3-sklearn and python3-xgboost) read the exact feature matrix our models read; " +
		"scikit-learn's logistic regression imputes the mean and standardises, as our linear part does, " +
		"which also reads, for a classifier, a flag per pattern of missing values (a customer with no payment history yet). " +
		"XGBoost runs with eta 0.05, depth 4, 300 trees, 0.8 row and column sampling; " +
		"\"trees chosen as ours\" is the same XGBoost with its tree count chosen as ours is, early stopping (50 rounds) on the newest 20% of the training rows, " +
		"then a refit on all rows with the count scaled to them, timed whole. Training times are wall time on this machine, " +
		"ours including the choice of the blend (both learners fitted on the older rows, then the ones the blend weighs refitted on all, " +
		"the linear model beside the trees); " +
		"on the IBM file ours is both models, trained side by side, so compare it with the sum of XGBoost's two rows. " +
		"The section runs before the local stack starts, on a quiet machine.\n\n")
	for _, ds := range []struct{ format, file, title string }{
		{evaluate.FormatIBM, "WA_Fn-UseC_-Accounts-Receivable.csv", "IBM accounts receivable: late payment and days to settle (time split 2013-07-01)"},
		{evaluate.FormatUCI, "default_of_credit_card_clients.tsv", "UCI credit card default (IDs divisible by 5 held out)"},
	} {
		res, err := evaluate.Run(ctx, evaluate.Spec{Format: ds.format, Data: filepath.Join(data, ds.file), Python: python, Seed: 1})
		if err != nil {
			return "", fmt.Errorf("%s: %w", ds.format, err)
		}
		fmt.Fprintf(&b, "### %s\n\n%d training rows, %d test rows. Our blend: trees' share %.1f of the log-odds (%d trees)",
			ds.title, res.TrainRows, res.TestRows, res.Choice.TreesWeight, res.Choice.Trees)
		if res.Choice.DaysTreesWeight != nil {
			fmt.Fprintf(&b, ", %.1f for days to pay", *res.Choice.DaysTreesWeight)
		}
		b.WriteString(", chosen on the newest 20% of the training rows.\n\n")
		b.WriteString("| model | AUC | Brier | calibration error | MAE days | training s |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
		line := func(name string, s evaluate.Scores) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, f4(s.AUC), f4(s.Brier), f4(s.ECE), f2(s.MAE), f2(s.TrainSeconds))
		}
		line("**Recoup** (late / default)", evaluate.Scores{AUC: res.Model.AUC, Brier: res.Model.Brier, ECE: res.Model.ECE, TrainSeconds: res.Model.TrainSeconds})
		if res.Model.MAE != nil {
			line("**Recoup** (days to pay)", evaluate.Scores{MAE: res.Model.MAE})
		}
		for _, k := range []string{"logistic_regression", "xgboost", "xgboost_selected", "linear_regression", "xgboost_regression", "xgboost_regression_selected"} {
			if s, ok := res.Peers[k]; ok {
				name := strings.ReplaceAll(strings.TrimSuffix(k, "_selected"), "_", " ")
				if strings.HasSuffix(k, "_selected") {
					name += ", trees chosen as ours"
				}
				line("scikit-learn / XGBoost: "+name, s)
			}
		}
		for _, k := range []string{"smoothed_late_rate", "customer_mean_days", "terms_days", "pay_0_status"} {
			if s, ok := res.Baselines[k]; ok {
				line("baseline: "+strings.ReplaceAll(k, "_", " "), s)
			}
		}
		b.WriteString("\n")
	}
	if err := bankSection(&b, filepath.Join(data, "uci_bank_marketing_bank-full_with_id.csv")); err != nil {
		return "", err
	}
	b.WriteString(modelsEnd + "\n")
	return b.String(), nil
}

// bankSection replays the channel preference model on the bank-marketing
// file (`recoup model eval --format bank-marketing`).
func bankSection(b *strings.Builder, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := datasets.ReadBank(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	res, err := preference.BankReplay(rows, preference.ReplayOptions{Seed: 1, Choose: preference.DefaultOptions()})
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "### Channel preference: offline replay on UCI bank marketing\n\n%d rows of 2008 fit the priors, %d rows of 2009-2010 are replayed "+
		"(Li et al. 2011); a policy is credited only where its pick equals the logged channel. "+
		"The last column is the bank's own rate in the months of the policy's matched rows: response rates rose from about 6%% to 57%% "+
		"over the period, so compare each rate with it, not with the others. %s\n\n", res.TrainRows, res.TestRows, res.Caveat)
	b.WriteString("| policy | matched rows | response rate | 95% interval | bank's rate, same months |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, p := range res.Policies {
		fmt.Fprintf(b, "| %s | %d | %.1f%% | %.1f-%.1f%% | %.1f%% |\n", p.Name, p.Matched, 100*p.Rate, 100*p.Low, 100*p.High, 100*p.SamePeriods)
	}
	b.WriteString("\n")
	return nil
}

const (
	modelsBegin = "<!-- models: make eval rewrites this section -->"
	modelsEnd   = "<!-- /models -->"
)

// replaceModels puts section into the report at path in place of the old
// one, or at its end.
func replaceModels(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	if i := strings.Index(s, modelsBegin); i >= 0 {
		if j := strings.Index(s[i:], modelsEnd); j >= 0 {
			s = s[:i] + section + strings.TrimPrefix(s[i+j+len(modelsEnd):], "\n")
			return os.WriteFile(path, []byte(s), 0o644)
		}
	}
	if s != "" && !strings.HasSuffix(s, "\n\n") {
		s += "\n"
	}
	return os.WriteFile(path, []byte(s+section), 0o644)
}

func f4(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%.4f", *v)
}

func f2(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%.2f", *v)
}
