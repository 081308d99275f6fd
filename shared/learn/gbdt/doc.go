// Package gbdt is a histogram-based gradient-boosted decision tree learner
// for tabular data: late-payment probability (Logistic) and days to pay
// (SquaredError). It follows XGBoost's "hist" method closely enough that
// XGBoost-tuned parameters carry over: second-order (Newton) leaf weights with
// L2 shrinkage (Lambda), a minimum hessian per leaf (MinChildWeight), a
// minimum split gain (Gamma), depth-wise growth, row and column subsampling,
// and a learned default direction for missing values (NaN) at every split.
//
// # Why it is built this way
//
// Training bins every feature once into at most 256 quantile bins (bin 0 is
// reserved for missing values) stored column-major as bytes, so split search
// scans small gradient/hessian histograms instead of sorted values. Each tree
// level builds the histogram of the smaller child only and derives its
// sibling by subtracting from the parent. Histograms are built in parallel,
// one task per node and group of features, so every bin is summed by exactly
// one goroutine in row order: the model is bit-for-bit identical for a given
// Seed whatever GOMAXPROCS or the scheduler do. Every other parallel
// reduction uses fixed-size chunks summed in chunk order, and random draws
// come from PCG streams keyed by (Seed, round, chunk), for the same reason.
//
// On two cores, 100 depth-6 trees on 1,000,000 rows × 20 features train in
// about 6 s and score in about 0.7 s; on the UCI credit-default hold-out,
// DefaultParams with early stopping reach AUC 0.79, level with XGBoost.
//
// Prediction walks flat node arrays with the raw float thresholds, so a model
// needs no binning information and a loaded artifact predicts exactly what the
// trained model predicted. Rows hold finite values or NaN, as in training;
// an infinite value is compared like any other and, at a split that only
// separates present from missing values, goes the missing side.
//
// # Limits
//
// Histograms take 4 KB per feature per open node, so thousands of features
// at depth 6 need hundreds of megabytes; the data must fit in memory as
// float64 rows; categorical features must be encoded as numbers (ordinal or
// one-hot) by the caller; Contributions are Saabas, not SHAP, values.
//
// # Explanations
//
// Contributions splits a margin into per-feature parts with Saabas path
// attribution: every split moves the expected value from the parent's weight
// to the child's, and that change is credited to the split feature. The parts
// and the bias add up to Margin, which is what reason codes need; unlike
// TreeSHAP they are not consistent when features interact, so rank reasons by
// them rather than reading them as exact effects.
//
// # Artifacts
//
// MarshalBinary writes a versioned little-endian encoding with a CRC-32C
// trailer; UnmarshalBinary checks the checksum and every index, count and
// value before accepting a model, because a model file travels between
// training jobs and scoring lambdas and a silently corrupt one would score
// every account wrongly.
package gbdt
