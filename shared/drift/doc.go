// Package drift watches a model's inputs and scores for population shift
// between training and today, with the population stability index (PSI).
//
// The training job calls Capture on its feature matrix and a sample of the
// model's scores and stores the Reference (JSON, versioned) beside the model.
// Each scoring run calls Compare with the rows it has just scored: every
// column and the score get a PSI against the reference and a level (ok, warn,
// alarm), and the Report says in words which part of each distribution
// moved. An alarm means the model is now scoring a population it did not
// learn from: check the data feed first, then retrain.
//
// Bins follow metrics.PSI so that the two agree on data without missing
// values: quantile bins of the reference (metrics.QuantileEdges), closed on
// the right, outer bins unbounded, repeated edges merged, an empty bin's share
// replaced by metrics.PSIEpsilon. Drift adds one bin for missing values (NaN),
// because a feed that stops sending a field shows up as nothing else: the
// values that remain keep their old distribution.
//
// Known blind spot of quantile bins: a column that is constant in the
// reference has a single value bin, so PSI sees only whether its values go
// missing, not whether the constant changes; the report says so for such
// columns.
package drift
