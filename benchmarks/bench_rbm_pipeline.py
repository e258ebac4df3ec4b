"""RBM features + logistic regression on digits: StackedRBMTransformer vs
BernoulliRBM (the done-check of the foundation issue).

``Pipeline([("rbm", <RBM>), ("clf", LogisticRegression(C=C))])`` on scikit-learn's
digits scaled to [0, 1], 75/25 stratified split, for several seeds (each seed
fixes the split and the RBM). Both RBMs get the same hidden size and number of
epochs and otherwise run at their own defaults; the logistic regression is the same
for both. Logistic regression on the raw pixels is shown for reference.

Run: ``python -m benchmarks.bench_rbm_pipeline [--quick] [--threads N]``.
"""

import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline

from sk_dbn import StackedRBMTransformer

from ._common import digits01, main_for, mean_std, no_warnings, section, table, timed

N_HIDDEN = 256
N_EPOCHS = 20
C_VALUES = (1.0, 100.0)


def _pipelines(seed, C):
    clf = LogisticRegression(C=C, max_iter=5000)
    return {
        "StackedRBMTransformer": Pipeline([
            ("rbm", StackedRBMTransformer((N_HIDDEN,), n_iter=N_EPOCHS,
                                          random_state=seed)),
            ("clf", clf),
        ]),
        "BernoulliRBM": Pipeline([
            ("rbm", BernoulliRBM(n_components=N_HIDDEN, n_iter=N_EPOCHS,
                                 random_state=seed)),
            ("clf", LogisticRegression(C=C, max_iter=5000)),
        ]),
        "LogisticRegression on pixels": LogisticRegression(C=C, max_iter=5000),
    }


def run(quick=False, repeats=None, threads=None):
    seeds = tuple(range(repeats or (2 if quick else 5)))
    c_values = C_VALUES[-1:] if quick else C_VALUES
    X, y = digits01()
    scores, seconds = {}, {}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        for C in c_values:
            for name, pipe in _pipelines(seed, C).items():
                with no_warnings():
                    t, _ = timed(pipe.fit, X_train, y_train)
                scores.setdefault((name, C), []).append(pipe.score(X_test, y_test))
                seconds.setdefault((name, C), []).append(t)
    rows = []
    for C in c_values:
        ours = np.array(scores[("StackedRBMTransformer", C)])
        theirs = np.array(scores[("BernoulliRBM", C)])
        for name in ("StackedRBMTransformer", "BernoulliRBM",
                     "LogisticRegression on pixels"):
            s = scores[(name, C)]
            extra = ""
            if name == "StackedRBMTransformer":
                extra = f"{int(np.sum(ours >= theirs))}/{len(seeds)}"
            rows.append([f"{C:g}", name, mean_std(s), f"{min(s):.4f}",
                         f"{np.mean(seconds[(name, C)]):.2f}", extra])
    intro = (
        f"digits / 16, 75/25 stratified split, seeds {list(seeds)}; RBMs with "
        f"{N_HIDDEN} hidden units and {N_EPOCHS} epochs, each otherwise at its "
        "defaults (StackedRBMTransformer: CD-1, batch 32, lr 0.05, momentum, "
        "weight decay; BernoulliRBM: PCD-1, batch 10, lr 0.1). Test accuracy mean "
        "± std over seeds; last column: seeds where StackedRBMTransformer scored "
        ">= BernoulliRBM."
    )
    headers = ["LogReg C", "features", "test accuracy", "worst seed",
               "fit s (mean)", "sk_dbn >= sklearn"]
    return section("RBM + LogisticRegression pipeline on digits", intro,
                   table(headers, rows))


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
