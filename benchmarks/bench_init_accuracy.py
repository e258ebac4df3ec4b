"""DBNClassifier test accuracy for each init vs MLPClassifier on digits (the
done-check of the DBNClassifier issue).

Digits scaled to [0, 1], 75/25 stratified split, 3 seeds (each seed fixes the split
and the model), mean ± std test accuracy of ``DBNClassifier`` for ``init`` in
{rbm, lsuv, xavier_uniform, he_normal, orthogonal, normal, zeros}, next to
``MLPClassifier`` with the same hidden sizes, activation and epoch budget
(``max_iter``; both stop early by the same ``tol`` / ``n_iter_no_change`` rule).
``init="rbm"`` pre-trains for ``StackedRBMTransformer().n_iter`` epochs per layer on
top of that budget.

Run: ``python -m benchmarks.bench_init_accuracy [--quick] [--threads N]``.
"""

import sys

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sk_dbn import DBNClassifier, StackedRBMTransformer

from ._common import digits01, main_for, mean_std, no_warnings, section, table, timed

INITS = ("rbm", "lsuv", "xavier_uniform", "he_normal", "orthogonal", "normal",
         "zeros")
HIDDEN = (256,)
ACTIVATION = "logistic"
MAX_ITER = 200


def run(quick=False, repeats=None, threads=None):
    seeds = tuple(range(repeats or (1 if quick else 3)))
    max_iter = 50 if quick else MAX_ITER
    X, y = digits01()
    models = {f"DBNClassifier init={init}": (
        lambda seed, init=init: DBNClassifier(
            HIDDEN, init=init, activation=ACTIVATION, max_iter=max_iter,
            random_state=seed))
        for init in INITS}
    models["MLPClassifier"] = lambda seed: MLPClassifier(
        HIDDEN, activation=ACTIVATION, max_iter=max_iter, random_state=seed)
    results = {name: ([], [], []) for name in models}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        for name, make in models.items():
            est = make(seed)
            with no_warnings():
                t, _ = timed(est.fit, X_train, y_train)
            acc, secs, iters = results[name]
            acc.append(est.score(X_test, y_test))
            secs.append(t)
            iters.append(est.n_iter_)
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    mlp_mean = np.mean(results["MLPClassifier"][0])
    rows = []
    for name, (acc, secs, iters) in sorted(
            results.items(), key=lambda kv: -np.mean(kv[1][0])):
        rows.append([name, mean_std(acc), f"{np.mean(acc) - mlp_mean:+.4f}",
                     f"{np.mean(iters):.0f}", f"{np.mean(secs):.2f}"])
    probe = StackedRBMTransformer()
    intro = (
        f"digits / 16, 75/25 stratified split, seeds {list(seeds)}; hidden "
        f"{HIDDEN}, activation {ACTIVATION}, adam, max_iter={max_iter} for both "
        f"(default tol and n_iter_no_change); init='rbm' adds "
        f"{probe.n_iter} pre-training epochs. Sorted by mean accuracy."
    )
    headers = ["model", "test accuracy (mean ± std)", "vs MLP", "n_iter_ (mean)",
               "fit s (mean)"]
    return section("DBNClassifier init methods vs MLPClassifier on digits", intro,
                   table(headers, rows))


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
