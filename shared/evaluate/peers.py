"""Peer models for `make eval`: scikit-learn and XGBoost on the exact matrix
the Go models see (written by shared/evaluate), so the side-by-side table
compares learners, not feature pipelines.

Usage: python3 peers.py TRAIN.csv TEST.csv
Each CSV has a header: label, then optionally days, then the features; an
empty cell is a missing value. Prints one JSON object.
"""
import json
import sys
import time

import numpy as np
import sklearn
import xgboost
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


# The settings most write-ups use for tabular data of this size (and that
# reproduce the UCI figure in ../shared/data/README.md); chosen once, never
# tuned on a test split.
XGB = dict(tree_method="hist", n_jobs=2, random_state=0, n_estimators=300, learning_rate=0.05, max_depth=4,
           subsample=0.8, colsample_bytree=0.8)


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.genfromtxt(path, delimiter=",", skip_header=1, missing_values="", filling_values=np.nan)
    if data.ndim == 1:
        data = data.reshape(1, -1)
    cols = {name: i for i, name in enumerate(header)}
    y = data[:, cols["label"]]
    days = data[:, cols["days"]] if "days" in cols else None
    feats = [i for name, i in cols.items() if name not in ("label", "days")]
    return data[:, feats], y, days


def ece(y, p, bins=10):
    # The same definition as shared/learn/metrics.ECE: equal-width bins,
    # the weighted mean of |mean(p) - mean(y)| per bin.
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(p[m].mean() - y[m].mean())
    return total / len(y)


def classify(name, model, xtr, ytr, xte, yte):
    t = time.perf_counter()
    model.fit(xtr, ytr)
    secs = time.perf_counter() - t
    p = model.predict_proba(xte)[:, 1]
    return name, {"auc": roc_auc_score(yte, p), "brier": brier_score_loss(yte, p), "ece": ece(yte, p),
                  "train_seconds": secs}


def regress(name, model, xtr, dtr, xte, dte):
    t = time.perf_counter()
    model.fit(xtr, dtr)
    secs = time.perf_counter() - t
    return name, {"mae": mean_absolute_error(dte, model.predict(xte)), "train_seconds": secs}


def selected(model, xtr, ytr, valid=0.2, patience=50, most=1000):
    """XGBoost with its tree count chosen as ours is (shared/scoring): early
    stopping on the newest share of the training rows, then a refit on all
    rows with the count scaled to them. Timed whole, as ours is."""
    n = len(ytr) - round(len(ytr) * valid)
    params = dict(XGB, n_estimators=most, early_stopping_rounds=patience)
    first = model(**params)
    first.fit(xtr[:n], ytr[:n], eval_set=[(xtr[n:], ytr[n:])], verbose=False)
    trees = max(1, round((first.best_iteration + 1) * len(ytr) / n))
    return model(**dict(XGB, n_estimators=trees))


class Selected:
    """Wraps selected() so classify() and regress() time the choice too."""

    def __init__(self, model):
        self.model, self.fitted = model, None

    def fit(self, x, y):
        self.fitted = selected(self.model, x, y).fit(x, y)
        return self

    def predict_proba(self, x):
        return self.fitted.predict_proba(x)

    def predict(self, x):
        return self.fitted.predict(x)


def main():
    xtr, ytr, dtr = load(sys.argv[1])
    xte, yte, dte = load(sys.argv[2])
    linear = lambda m: make_pipeline(SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler(), m)
    out = {"versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__}}
    for name, res in (
        classify("logistic_regression", linear(LogisticRegression(max_iter=5000)), xtr, ytr, xte, yte),
        classify("xgboost", xgboost.XGBClassifier(**XGB), xtr, ytr, xte, yte),
        classify("xgboost_selected", Selected(xgboost.XGBClassifier), xtr, ytr, xte, yte),
    ):
        out[name] = res
    if dtr is not None:
        for name, res in (
            regress("linear_regression", linear(LinearRegression()), xtr, dtr, xte, dte),
            regress("xgboost_regression", xgboost.XGBRegressor(**XGB),
                    xtr, dtr, xte, dte),
            regress("xgboost_regression_selected", Selected(xgboost.XGBRegressor), xtr, dtr, xte, dte),
        ):
            out[name] = res
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
