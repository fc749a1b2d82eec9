"""Time scikit-learn on the same work as `fmnist bench`, and print the ratio per step.

Not run in CI. Set up once, then compare:

    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -r bench/requirements.txt
    cargo run --release -- bench             # writes bench/results.md and bench/results.csv
    cargo run --release -- features --out bench/features   # the section-2 inputs, as CSV
    bench/.venv/bin/python bench/sklearn_compare.py

Each step repeats the work of the `fmnist bench` step with the same id (see bench/results.csv),
on the same data, and the table reports the median of `--repeat` runs and ours / theirs:
below 1 means fmnist is faster. The result is written to bench/sklearn.md.
"""

import argparse
import csv
import gzip
import hashlib
import os
import statistics
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = Path(os.environ.get("FMNIST_DATA", "/usr/share/datasets/fashion-mnist"))
FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
HERE = Path(__file__).resolve().parent


def load():
    """Decompress, hash and parse the four files, as fmnist's loader does."""
    arrays = []
    for name in FILES:
        raw = gzip.decompress((DATA / f"{name}.gz").read_bytes())
        hashlib.sha256(raw).hexdigest()
        offset = 16 if "images" in name else 8
        a = np.frombuffer(raw, dtype=np.uint8, offset=offset)
        arrays.append(a.reshape(-1, 784) if "images" in name else a)
    return arrays


def near_zero_var_keep(x, freq_cut=90.0, unique_cut=10.0):
    """R caret's nearZeroVar on uint8 columns, as fmnist::preprocess::NearZeroVar."""
    keep = []
    n = x.shape[0]
    for j in range(x.shape[1]):
        counts = np.bincount(x[:, j], minlength=256)
        distinct = np.count_nonzero(counts)
        if distinct <= 1:
            continue
        top2 = np.sort(counts)[-2:]
        if top2[1] / top2[0] > freq_cut and 100.0 * distinct / n <= unique_cut:
            continue
        keep.append(j)
    return np.array(keep)


def timed(repeat, f):
    seconds, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ours", type=Path, default=HERE / "results.csv")
    parser.add_argument("--out", type=Path, default=HERE / "sklearn.md")
    parser.add_argument("--features", type=Path, default=HERE / "features",
                        help="directory of fmnist's features_train.csv and features_test.csv")
    parser.add_argument("--gamma", type=float, default=0.0127,
                        help="the SVM kernel width fmnist's sigest chose (results/table1.md)")
    args = parser.parse_args()

    theirs = {}
    theirs["load"], (xtr, ytr, xte, yte) = timed(args.repeat, load)
    xf = xtr.astype(np.float64)
    theirs["pixel_stats"], _ = timed(args.repeat, lambda: (xf.mean(0), xf.std(0, ddof=1)))
    theirs["pca_fit"], pca = timed(args.repeat, lambda: PCA(svd_solver="full").fit(xf))

    train, y, test = xtr[:10_000], ytr[:10_000], xte
    knn = lambda k: KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=2)

    def knn_raw():
        keep = near_zero_var_keep(train)
        scaler = StandardScaler().fit(train[:, keep].astype(np.float64))
        a = scaler.transform(train[:, keep].astype(np.float64)).astype(np.float32)
        b = scaler.transform(test[:, keep].astype(np.float64)).astype(np.float32)
        return knn(5).fit(a, y).predict(b)

    theirs["knn_raw_test"], raw_pred = timed(args.repeat, knn_raw)

    k95 = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 0.95) + 1)

    def knn_pca():
        a = pca.transform(train.astype(np.float64))[:, :k95].astype(np.float32)
        b = pca.transform(test.astype(np.float64))[:, :k95].astype(np.float32)
        return knn(7).fit(a, y).predict(b)

    theirs["knn_pca_test"], pca_pred = timed(args.repeat, knn_pca)

    def study():
        # As a scikit-learn user would write it: one GridSearchCV per feature set over the
        # study's grid and folds. The filter is fitted once on all training rows (sklearn has
        # no caret-style nearZeroVar transformer); scaling is fitted per fold, as in fmnist.
        cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=42)
        grid = {"kneighborsclassifier__n_neighbors": [1, 3, 5, 7, 9, 11]}
        keep = near_zero_var_keep(train)
        raw = GridSearchCV(make_pipeline(StandardScaler(), knn(5)), grid, cv=cv, n_jobs=1)
        raw.fit(train[:, keep].astype(np.float32), y).predict(test[:, keep].astype(np.float32))
        scores = pca.transform(train.astype(np.float64))[:, :k95].astype(np.float32)
        scores_test = pca.transform(test.astype(np.float64))[:, :k95].astype(np.float32)
        pc = GridSearchCV(make_pipeline(knn(5)), grid, cv=cv, n_jobs=1)
        pc.fit(scores, y).predict(scores_test)
        return raw.best_params_, pc.best_params_

    theirs["knn_study"], best = timed(1, study)

    # Section 2: the same 84 features (written by `fmnist features`), one fit + predict of
    # each model at the settings fmnist's Table 1 chose.
    accuracy = {}
    if (args.features / "features_train.csv").exists():
        tr = np.loadtxt(args.features / "features_train.csv", delimiter=",", skiprows=1)
        te = np.loadtxt(args.features / "features_test.csv", delimiter=",", skiprows=1)
        fy, fx, ty, tx = tr[:, 0], tr[:, 1:], te[:, 0], te[:, 1:]
        scaled = lambda model: make_pipeline(StandardScaler(), model)
        models = {
            "svm": scaled(SVC(C=8.0, gamma=args.gamma, cache_size=1000)),
            # multinom's decay d on sum(w^2) is C = 1 / (2 d) in scikit-learn's objective.
            "logistic": scaled(LogisticRegression(C=0.5, max_iter=100)),
            "forest": RandomForestClassifier(n_estimators=500, max_features=9, n_jobs=2, random_state=42),
            "knn_features": scaled(KNeighborsClassifier(n_neighbors=7, algorithm="brute", n_jobs=2)),
            "nb_gaussian": GaussianNB(),
        }
        for step, model in models.items():
            theirs[step], pred = timed(args.repeat, lambda: model.fit(fx, fy).predict(tx))
            accuracy[step] = np.mean(pred == ty)

    # Section 3.3: the PCA scores of the first 10,000 training images, each model at the
    # setting fmnist's default run chose (results/pca_models.md), one fit + predict.
    a = pca.transform(train.astype(np.float64))[:, :k95]
    b = pca.transform(test.astype(np.float64))[:, :k95]

    def averaged_nets():
        # Five 12-unit logistic nets, quasi-Newton for at most 100 iterations, as fmnist's
        # avNNet; decay d on the summed loss is alpha = 2 d in scikit-learn's objective.
        scaler = StandardScaler().fit(a)
        sa, sb = scaler.transform(a), scaler.transform(b)
        proba = sum(
            MLPClassifier(hidden_layer_sizes=(12,), activation="logistic", solver="lbfgs",
                          alpha=2.0, max_iter=100, random_state=seed).fit(sa, y).predict_proba(sb)
            for seed in range(5)
        )
        return proba.argmax(1)

    pca_models = {
        "gbm_pca": lambda: HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.1, max_depth=5, early_stopping=False,
            random_state=42).fit(a, y).predict(b),
        "net_pca": averaged_nets,
        "forest_pca": lambda: RandomForestClassifier(
            n_estimators=500, max_features=6, n_jobs=2, random_state=42).fit(a, y).predict(b),
    }
    for step, f in pca_models.items():
        theirs[step], pred = timed(args.repeat, f)
        accuracy[step] = np.mean(pred == yte)

    ours = {}
    if args.ours.exists():
        with args.ours.open() as f:
            ours = {row["step"]: float(row["median_seconds"]) for row in csv.DictReader(f)}

    lines = [
        "# fmnist against scikit-learn",
        "",
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}, {os.cpu_count()} cores; "
        f"medians of {args.repeat} runs (the kNN study: 1 run). Ratio = fmnist / scikit-learn: "
        "below 1 means fmnist is faster.",
        "",
        "| step | fmnist (s) | scikit-learn (s) | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step, t in theirs.items():
        o = ours.get(step)
        ratio = f"{o / t:.2f}" if o is not None else "n/a"
        ours_text = f"{o:.3f}" if o is not None else "n/a"
        lines.append(f"| {step} | {ours_text} | {t:.3f} | {ratio} |")
    lines += [
        "",
        f"scikit-learn's test accuracy: raw pixels k = 5 {np.mean(raw_pred == yte):.4f}, "
        f"PCA scores ({k95} components) k = 7 {np.mean(pca_pred == yte):.4f}; "
        f"its grid searches chose {best}.",
    ]
    on_features = {k: v for k, v in accuracy.items() if not k.endswith("_pca")}
    on_pca = {k: v for k, v in accuracy.items() if k.endswith("_pca")}
    if on_features:
        lines += ["", "scikit-learn's test accuracy on the 84 features: " + ", ".join(
            f"{k} {v:.4f}" for k, v in on_features.items()) + "."]
    lines += ["", f"scikit-learn's test accuracy on the {k95} PCA scores: " + ", ".join(
        f"{k} {v:.4f}" for k, v in on_pca.items()) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
