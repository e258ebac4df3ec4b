"""Random number generation: one ``numpy.random.Generator`` per fit, and the
generator of the data's namespace on its device (:func:`device_draws`)."""

import numbers

import numpy as np

from ._ops import numpy_dtype
from .utils._sklearn import array_namespace, is_cupy_array, is_torch_array


def check_generator(random_state, step=0):
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    ``step`` (e.g. the number of epochs already trained) is mixed into an int seed,
    so successive ``partial_fit`` calls draw fresh but reproducible numbers.

    ``None`` gives fresh entropy, an int a seeded generator (so refits with the same
    int are bit-identical), a ``Generator`` is used as is, and a legacy
    ``RandomState`` seeds a new generator from its stream (so, as in scikit-learn,
    passing the same instance twice gives different draws).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng([int(random_state), int(step)] if step else
                                     int(random_state))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(
            random_state.randint(0, 2**32, size=4, dtype=np.uint64)
        )
    raise ValueError(
        f"random_state must be None, an int, a numpy Generator or RandomState; "
        f"got {random_state!r}"
    )


class _NumpyDraws:
    """Draws from the fit's numpy generator, into numpy buffers."""

    def __init__(self, rng):
        self.rng = rng

    def uniform(self, out):
        """Uniform [0, 1) numbers of ``out``'s shape and dtype (into ``out``)."""
        return self.rng.random(out=out, dtype=out.dtype)

    def normal(self, out):
        """Standard normal numbers of ``out``'s shape and dtype (into ``out``)."""
        return self.rng.standard_normal(out=out, dtype=out.dtype)


class _TorchDraws:
    """Draws from a ``torch.Generator`` on the data's device."""

    def __init__(self, torch, device, seed):
        self.torch = torch
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)

    def uniform(self, out):
        return self.torch.rand(tuple(out.shape), generator=self.generator,
                               dtype=out.dtype, device=out.device)

    def normal(self, out):
        return self.torch.randn(tuple(out.shape), generator=self.generator,
                                dtype=out.dtype, device=out.device)


class _CupyDraws:
    """Draws from CuPy's generator on the data's device."""

    def __init__(self, cupy, device, seed):
        with device:
            self.generator = cupy.random.default_rng(seed)
        self.device = device

    def uniform(self, out):
        with self.device:
            return self.generator.random(tuple(out.shape), dtype=out.dtype)

    def normal(self, out):
        with self.device:
            return self.generator.standard_normal(tuple(out.shape), dtype=out.dtype)


class _HostDraws:
    """Draws of the fit's numpy generator, moved to the device (a namespace
    without a generator of its own, such as ``array_api_strict``): the same
    numbers as a numpy fit's."""

    def __init__(self, xp, rng):
        self.xp = xp
        self.rng = rng

    def uniform(self, out):
        return self._moved(self.rng.random(tuple(out.shape),
                                           dtype=numpy_dtype(out.dtype)), out)

    def normal(self, out):
        return self._moved(self.rng.standard_normal(
            tuple(out.shape), dtype=numpy_dtype(out.dtype)), out)

    def _moved(self, drawn, out):
        return self.xp.asarray(drawn, device=out.device)


def device_draws(rng, like):
    """The random numbers of a fit on the device of the array ``like``.

    For numpy data, the fit's generator ``rng`` itself (so seeded numpy fits draw
    exactly what they always drew); for PyTorch a ``torch.Generator``, for CuPy
    its generator, on the data's device; for any other namespace the numbers of
    ``rng`` itself, drawn on the host and moved (the same as a numpy fit's). The
    PyTorch and CuPy generators are seeded from a child of ``rng``'s seed
    sequence, which leaves ``rng``'s own stream untouched: the row orders and
    splits it draws are those of a numpy fit, and an int ``random_state`` gives
    the same numbers on the same backend and device.
    ``uniform(out)`` and ``normal(out)`` return arrays of ``out``'s shape, dtype
    and device (written into ``out`` for numpy).
    """
    if isinstance(like, np.ndarray):
        return _NumpyDraws(rng)
    if not (is_torch_array(like) or is_cupy_array(like)):
        return _HostDraws(array_namespace(like), rng)
    child = rng.bit_generator.seed_seq.spawn(1)[0]
    seed = int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if is_torch_array(like):
        import torch

        return _TorchDraws(torch, like.device, seed)
    import cupy

    return _CupyDraws(cupy, like.device, seed)
