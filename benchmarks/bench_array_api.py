"""Seconds per epoch of sk_dbn on every array namespace and device available
(numpy, torch CPU, torch CUDA, CuPy), beside the same epochs hand-written in
plain PyTorch on the same device.

Two like-for-like epochs, float32, MNIST-sized rows (784 inputs, 10 classes):

- RBM PCD-1 784 -> 500: ``StackedRBMTransformer(persistent=True, cd_k=1,
  momentum=0, weight_decay=0, learning_rate=0.05)`` (``bench_pretrain``'s
  like-for-like row) against :func:`benchmarks._torch_reference.rbm_pcd1_epoch`;
- Adam fine-tuning 784-500-500-10: ``DBNClassifier(init="xavier_uniform",
  solver="adam")``, logistic, every epoch run (``bench_finetune``'s
  estimator) against :func:`benchmarks._torch_reference.adam_epoch`;

at batch 100 and 1000. numpy runs sk_dbn as it always has; every other
backend runs it under ``sklearn.config_context(array_api_dispatch=True)`` with
the data (and labels) already on the device. That needs the environment
variable ``SCIPY_ARRAY_API=1`` before scipy is first imported: this module sets
it (if unset) before importing anything, and ``python -m benchmarks`` sets it
before its header imports scipy when this module is selected. A backend that is
missing is listed as not available; an sk_dbn fit that raises, or returns
weights that are not on the device, is listed as failed with the reason.

Run: ``python -m benchmarks.bench_array_api [--quick] [--threads N]``.
"""

import os

# scipy reads this once, when it is first imported; sklearn checks it when
# dispatch is switched on. Set before numpy, scipy and sklearn are imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import contextlib
import sys
import time

import numpy as np
import sklearn

from . import bench_finetune, bench_pretrain
from ._common import (
    main_for,
    median,
    mnist_like,
    no_warnings,
    paired_ratio,
    run_interleaved,
    section,
    table,
)

RBM, ADAM = "RBM PCD-1 784-500", "Adam fine-tuning 784-500-500-10"
CONFIGS = (RBM, ADAM)
BATCHES = (100, 1000)
N_CLASSES = 10
# the project's targets for a CUDA GPU: speed-up over numpy by batch size, and
# the largest ratio sk_dbn / hand-written PyTorch on the same GPU
GPU_SPEEDUP_TARGETS = {100: 10.0, 1000: 50.0}
GPU_RATIO_TARGET = 1.5


# ----------------------------------------------------------------------- backends
class Backend:
    """One array namespace on one device: how to put data there, how to wait
    for it, and whether an array lives there.

    ``missing`` is why the backend cannot run here (None when it can).
    """

    def __init__(self, namespace, device, missing=None, module=None):
        self.namespace, self.device, self.missing = namespace, device, missing
        self.module = module
        self.label = namespace if namespace == "numpy" else f"{namespace} {device}"
        self.on_gpu = device == "cuda"
        self.has_reference = namespace == "torch" and missing is None

    def put(self, array):
        """``array`` (numpy) as this backend's array, on its device (a copy)."""
        if self.namespace == "torch":
            return self.module.asarray(array, device=self.device, copy=True)
        if self.namespace == "cupy":
            return self.module.asarray(array)
        return array

    def owns(self, array):
        """Whether ``array`` is this backend's array on its device."""
        if self.namespace == "torch":
            return (isinstance(array, self.module.Tensor)
                    and array.device.type == self.device)
        if self.namespace == "cupy":
            return isinstance(array, self.module.ndarray)
        return isinstance(array, np.ndarray)


def synchronize(backend):
    """Wait until everything queued on ``backend``'s device has run (a no-op
    on the CPU), so that a clock stopped next measures finished work."""
    if backend.namespace == "torch" and backend.on_gpu:
        backend.module.cuda.synchronize()
    elif backend.namespace == "cupy":
        backend.module.cuda.Device().synchronize()


def _short(exc):
    """``"TypeError: first line of the message"``, at most 100 characters."""
    message = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {message[0] if message else ''}"
    return text if len(text) <= 100 else text[:97] + "..."


def backends():
    """numpy, torch CPU, torch CUDA, CuPy: each usable here or not (and why)."""
    found = [Backend("numpy", "cpu")]
    try:
        import torch
    except ImportError:
        found += [Backend("torch", d, "torch not installed") for d in ("cpu", "cuda")]
    else:
        found.append(Backend("torch", "cpu", module=torch))
        cuda = None if torch.cuda.is_available() else (
            "torch built without CUDA" if torch.version.cuda is None
            else "no CUDA device")
        found.append(Backend("torch", "cuda", cuda, torch))
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except ImportError:
        found.append(Backend("cupy", "cuda", "CuPy not installed"))
    except Exception as exc:  # CUDA runtime errors without a driver or device
        found.append(Backend("cupy", "cuda", f"no usable device ({_short(exc)})"))
    else:
        found.append(Backend("cupy", "cuda", None if count else "no CUDA device",
                             cupy))
    return found


def dispatch_problem():
    """Why scikit-learn's array API dispatch cannot work in this process, or
    None. (scipy takes ``SCIPY_ARRAY_API`` into account only when imported.)"""
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        return "SCIPY_ARRAY_API=1 is not set"
    try:
        from scipy._lib import _array_api
    except ImportError:  # pragma: no cover - scipy's private layout moved
        return None
    if not getattr(_array_api, "SCIPY_ARRAY_API", True):
        return "scipy was imported before SCIPY_ARRAY_API=1 was set"
    return None


def describe_devices(found, threads):
    """Markdown bullets naming the software and devices of each backend."""
    lines = []
    torch = next((b.module for b in found if b.namespace == "torch" and b.module),
                 None)
    if torch is not None:
        lines.append(f"- torch {torch.__version__}, {torch.get_num_threads()} CPU "
                     f"threads{'' if threads is None else ' (--threads)'}")
    for b in found:
        if b.namespace == "numpy":
            continue
        if b.missing:
            lines.append(f"- {b.label}: not available here ({b.missing})")
        elif b.namespace == "torch" and b.on_gpu:
            props = torch.cuda.get_device_properties(0)
            lines.append(
                f"- {b.label}: {torch.cuda.get_device_name(0)}, "
                f"{props.total_memory / 2**30:.0f} GiB, compute capability "
                f"{props.major}.{props.minor}, CUDA {torch.version.cuda}")
        elif b.namespace == "cupy":
            cupy = b.module
            name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
            name = name.decode() if isinstance(name, bytes) else name
            lines.append(f"- {b.label}: CuPy {cupy.__version__}, {name}")
    problem = dispatch_problem()
    lines.append("- array API dispatch: " + (
        f"unavailable ({problem})" if problem else
        "SCIPY_ARRAY_API=1, sklearn.config_context(array_api_dispatch=True)"))
    return "\n".join(lines)


@contextlib.contextmanager
def torch_threads(found, threads):
    """``torch.set_num_threads(threads)`` for the block (None: unchanged)."""
    torch = next((b.module for b in found if b.namespace == "torch" and b.module),
                 None)
    if torch is None or threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------ fits
class NotOnDevice(Exception):
    """An sk_dbn fit that returned its weights somewhere else than its input."""


def sk_dbn_estimator(config, batch, epochs):
    """``bench_pretrain``'s like-for-like PCD-1 transformer or
    ``bench_finetune``'s logistic DBNClassifier, unfitted."""
    if config == RBM:
        return bench_pretrain._estimator("sk_dbn PCD-1", batch, epochs)[0]
    return bench_finetune.make_estimator("DBNClassifier", "logistic", batch, epochs)


def sk_dbn_seconds_per_epoch(backend, data, config, batch, epochs):
    """One sk_dbn fit on ``backend``'s arrays ``data = (X, y)``: seconds per
    epoch, from a synchronised start to a synchronised end."""
    X, y = data
    est = sk_dbn_estimator(config, batch, epochs)
    args = (X,) if config == RBM else (X, y)
    dispatch = (contextlib.nullcontext() if backend.namespace == "numpy"
                else sklearn.config_context(array_api_dispatch=True))
    with dispatch, no_warnings():
        synchronize(backend)
        start = time.perf_counter()
        est.fit(*args)
        synchronize(backend)
        seconds = time.perf_counter() - start
    W = est.coefs_[0]
    if not backend.owns(W):
        raise NotOnDevice(f"fitted weights are {type(W).__module__}."
                          f"{type(W).__name__}, not on {backend.label}")
    return seconds / (epochs if config == RBM else est.n_iter_)


def reference_seconds_per_epoch(backend, data, config, batch, epochs):
    """The same epochs hand-written in plain PyTorch (see
    :mod:`benchmarks._torch_reference`) on ``data = (X, Y one-hot)``."""
    from . import _torch_reference as ref

    X, Y = data
    synchronize(backend)
    start = time.perf_counter()
    gen = ref.generator(backend.device)
    if config == RBM:
        rbm = ref.new_rbm(X, bench_pretrain.N_HIDDEN, gen)
        for _ in range(epochs):
            rbm = ref.rbm_pcd1_epoch(rbm, X, batch, bench_pretrain.LEARNING_RATE,
                                     gen)
    else:
        sizes = (X.shape[1], *bench_finetune.HIDDEN, N_CLASSES)
        net = ref.AdamNet(sizes, gen, X.dtype, backend.device)
        for _ in range(epochs):
            float(ref.adam_epoch(net, X, Y, batch, gen))  # the loss, as sk_dbn's
    synchronize(backend)
    return (time.perf_counter() - start) / epochs


def device_data(backend, X, y):
    """``{"sk_dbn": (X, y), "reference": (X, Y one-hot)}`` on ``backend``'s
    device (the reference only for torch)."""
    data = {"sk_dbn": (backend.put(X), backend.put(y))}
    if backend.has_reference:
        data["reference"] = (data["sk_dbn"][0],
                             backend.put(np.eye(N_CLASSES, dtype=X.dtype)[y]))
    return data


# ------------------------------------------------------------------------- run
def run(quick=False, repeats=None, threads=None):
    n_samples = 6000 if quick else 60000
    rounds = repeats or (2 if quick else 3)
    cpu_epochs, gpu_epochs = (1, 1) if quick else (2, 3)
    X, y = mnist_like(n_samples, np.float32)
    found = backends()
    usable = [b for b in found if not b.missing]
    problem = dispatch_problem()

    failures = {}  # (backend label, kind, config, batch) -> reason
    labels, configs = [], []

    def attempt(key, measure):
        """``measure()``, or NaN with the reason recorded once it has failed."""
        if key in failures:
            return float("nan")
        try:
            return measure()
        except Exception as exc:  # a benchmark row, not a crash of the run
            failures[key] = _short(exc)
            return float("nan")

    with torch_threads(found, threads):
        for b in usable:
            data = device_data(b, X, y)
            epochs = gpu_epochs if b.on_gpu else cpu_epochs
            kinds = [("sk_dbn", sk_dbn_seconds_per_epoch)]
            if b.has_reference:
                kinds.append(("reference", reference_seconds_per_epoch))
            for config in CONFIGS:
                for batch in BATCHES:
                    for kind, fit in kinds:
                        key = (b.label, kind, config, batch)
                        if kind == "sk_dbn" and b.namespace != "numpy" and problem:
                            failures[key] = problem
                        if b.on_gpu:  # warm-up, untimed: CUDA context, kernels
                            warm = (data[kind][0][: 10 * batch],
                                    data[kind][1][: 10 * batch])
                            attempt(key, lambda b=b, fit=fit, warm=warm, c=config,
                                    bs=batch: fit(b, warm, c, bs, 1))
                        labels.append(key)
                        configs.append(
                            lambda key=key, b=b, fit=fit, d=data[kind], c=config,
                            bs=batch, e=epochs: attempt(key, lambda: fit(b, d, c,
                                                                         bs, e)))
        times = dict(zip(labels, run_interleaved(configs, rounds, progress=True)))
        devices = describe_devices(found, threads)

    rows, notes = [], []

    def cell(key):
        if key not in times:
            return "n/a"
        if key in failures:
            if failures[key] not in notes:
                notes.append(failures[key])
            return f"failed [{notes.index(failures[key]) + 1}]"
        return f"{median(times[key]):.3g}"

    def ratio(numerators, denominators, fmt="{:.2f}x"):
        if any(k not in times or k in failures for k in (numerators, denominators)):
            return "n/a"
        return fmt.format(paired_ratio(times[numerators], times[denominators]))

    for b in found:
        if b.missing:
            rows.append([b.label, f"not available here: {b.missing}"] + [""] * 7)
            continue
        for config in CONFIGS:
            for batch in BATCHES:
                ours, theirs = ((b.label, k, config, batch)
                                for k in ("sk_dbn", "reference"))
                numpy = ("numpy", "sk_dbn", config, batch)
                rows.append([
                    b.label, config, batch, cell(ours), cell(theirs),
                    ratio(ours, theirs, "{:.2f}"), ratio(numpy, ours),
                    ratio(numpy, theirs),
                    str(gpu_epochs if b.on_gpu else cpu_epochs),
                ])
    headers = ["backend", "config", "batch", "sk_dbn s/epoch",
               "hand-written torch s/epoch", "sk_dbn / hand-written",
               "sk_dbn speed-up vs numpy", "hand-written speed-up vs numpy",
               "epochs"]
    footnotes = "\n".join(f"[{i + 1}] {reason}" for i, reason in enumerate(notes))
    intro = (
        f"{n_samples} MNIST-sized rows (784 inputs, {N_CLASSES} classes), float32. "
        f"*RBM*: one layer 784 -> {bench_pretrain.N_HIDDEN}, PCD-1, plain SGD "
        f"(learning rate {bench_pretrain.LEARNING_RATE}, no momentum, no weight "
        "decay). *Adam*: "
        f"784-{bench_finetune.HIDDEN[0]}-{bench_finetune.HIDDEN[1]}-10 logistic, "
        "softmax cross-entropy, alpha 1e-4, Xavier-uniform start, shuffled, "
        "no pre-training. sk_dbn s/epoch = fit time / epochs, from a "
        "synchronised start to a synchronised end (input validation, the "
        "per-epoch reconstruction error or loss included); on numpy without "
        "dispatch, elsewhere under `array_api_dispatch=True` with the data "
        "already on the device. *Hand-written torch*: the same updates in plain "
        "PyTorch on the same device (`benchmarks/_torch_reference.py`; no "
        "autograd, no torch.optim), parameter set-up included, reading the loss "
        "once per epoch. GPU backends get one untimed warm-up fit per row first. "
        f"Medians of {rounds} interleaved rounds; ratios are medians of "
        "per-round paired ratios; speed-up vs numpy = sk_dbn's numpy s/epoch "
        "(same config and batch) / this one.\n\n" + devices
    )
    parts = [table(headers, rows)]
    if footnotes:
        parts.append(footnotes)
    return (section("sk_dbn across array namespaces and devices", intro, *parts)
            + "\n" + _targets(found, times, failures, cell))


def _targets(found, times, failures, cell):
    """Issue 22's GPU targets, checked for each CUDA backend measured."""
    gpus = [b for b in found if b.on_gpu and not b.missing]
    if not gpus:
        return section("GPU targets", "No CUDA device here: the GPU targets "
                       "(batch 100 >= 10x numpy, batch 1000 >= 50x, within 1.5x "
                       "of hand-written PyTorch) were not checked.")
    rows = []
    for b in gpus:
        for config in CONFIGS:
            for batch in BATCHES:
                ours = (b.label, "sk_dbn", config, batch)
                theirs = (b.label, "reference", config, batch)
                numpy = ("numpy", "sk_dbn", config, batch)
                if ours in failures or numpy in failures:
                    rows.append([b.label, config, batch, cell(ours), "", "", "",
                                 ""])
                    continue
                speedup = paired_ratio(times[numpy], times[ours])
                goal = GPU_SPEEDUP_TARGETS[batch]
                if theirs in times and theirs not in failures:
                    r = paired_ratio(times[ours], times[theirs])
                    ratio_cells = [f"{r:.2f}", "yes" if r <= GPU_RATIO_TARGET
                                   else "no"]
                else:
                    ratio_cells = ["n/a", ""]
                rows.append([b.label, config, batch, f"{speedup:.2f}x (>= {goal:g}x)",
                             "yes" if speedup >= goal else "no",
                             f"<= {GPU_RATIO_TARGET}", *ratio_cells])
    headers = ["backend", "config", "batch", "sk_dbn speed-up vs numpy (target)",
               "met", "sk_dbn / hand-written target", "sk_dbn / hand-written",
               "met"]
    return section("GPU targets", "The project's targets: on a CUDA GPU an "
                   "epoch at batch 100 at least 10x the numpy epoch, at batch "
                   "1000 at least "
                   "50x, and within 1.5x of the hand-written PyTorch epoch on "
                   "the same GPU. The targets' numpy reference is 2 cores: "
                   "compare with `--threads 2` on a larger host.",
                   table(headers, rows))


def main(argv=None):
    return main_for(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
