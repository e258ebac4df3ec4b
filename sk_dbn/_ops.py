"""The few primitives whose fast numpy form differs from the plain array-API one.

The per-batch maths (activations, forward and backward passes, losses, the
optimizers, contrastive divergence) is written once, in array-API terms: the
namespace ``xp`` of the data, its in-place operators (``a *= b``), and the
primitives of :func:`get_ops`. Every primitive returns its result, and the maths
always uses what it returns:

- for numpy (:class:`NumpyOps`), ``out=`` is honoured: results go into the
  preallocated buffers of a fit, elementwise updates run over cache-sized chunks
  (:meth:`NumpyOps.chunks`), and scipy's special functions are used;
- for any other namespace (:class:`ArrayAPIOps`: PyTorch, CuPy,
  ``array_api_strict``), each primitive is the plain expression, a new array on
  the input's device (``out`` is ignored), and the chunks are the whole arrays.

So there is no ``if numpy`` in the maths: the difference lives here.
"""

import functools
import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax, xlogy

from .utils._sklearn import array_namespace, convert_to_numpy, numpy_namespace

CHUNK = 1 << 16
"""Elements per chunk of numpy's elementwise updates (256 KiB of float32)."""


class ArrayAPIOps:
    """The primitives for any array-API namespace ``xp``: plain expressions."""

    def __init__(self, xp):
        self.xp = xp
        self._float64 = {}

    # ----------------------------------------------------------- allocation
    def empty(self, shape, dtype, device=None):
        return self.xp.empty(shape, dtype=dtype, device=device)

    def zeros(self, shape, dtype, device=None):
        return self.xp.zeros(shape, dtype=dtype, device=device)

    def scalar(self, value, like):
        """``value`` as a scalar for arithmetic with the array ``like``: a Python
        float, which the namespace casts to ``like``'s dtype, or, for a 0-d
        array (a sum on the device), that array in ``like``'s dtype (no read
        back to the host)."""
        if isinstance(value, numbers.Real):  # Python and numpy scalars
            return float(value)
        return self.xp.astype(value, like.dtype)

    def astype(self, X, dtype):
        """``X`` in ``dtype`` (itself when it has it)."""
        return self.xp.astype(X, dtype, copy=False)

    # ------------------------------------------------------------- products
    def matmul(self, A, B, out=None):
        """``A @ B``."""
        return A @ B

    def take(self, X, idx, out=None):
        """Rows ``idx`` (an integer array of ``X``'s namespace) of ``X``."""
        return self.xp.take(X, idx, axis=0)

    def rows(self, X, start, stop):
        """Rows ``start:stop`` of ``X`` (``stop`` may be past the end)."""
        return X[start : min(stop, X.shape[0]), ...]

    def dense(self, X):
        """Whether ``X`` is a dense array (not a scipy sparse matrix)."""
        return True

    def axpy(self, a, x, y):
        """``y + a * x`` (into ``y`` where the namespace allows)."""
        return y + a * x

    # --------------------------------------------------------- elementwise
    def tanh(self, x, out=None):
        return self.xp.tanh(x)

    def exp(self, x, out=None):
        return self.xp.exp(x)

    def sqrt(self, x, out=None):
        return self.xp.sqrt(x)

    def maximum(self, a, b, out=None):
        if isinstance(b, (int, float)):  # not every namespace takes a scalar here
            return self.xp.clip(a, min=b)
        return self.xp.maximum(a, b)

    def sign(self, x, out=None):
        return self.xp.sign(x)

    def multiply(self, a, b, out=None):
        """``a * b``, in ``out``'s dtype when ``out`` is given (numpy's ``out=``
        casts the same way)."""
        product = a * b
        return product if out is None else self.xp.astype(product, out.dtype)

    def subtract(self, a, b, out=None):
        return a - b

    def add(self, a, b, out=None):
        """``a + b``, in ``out``'s dtype when ``out`` is given."""
        total = a + b
        return total if out is None else self.xp.astype(total, out.dtype)

    def stacked(self, parts, out):
        """``parts`` one above the other (numpy wrote them into consecutive rows
        of ``out`` already: ``out`` is returned)."""
        return self.xp.concat(parts, axis=0)

    def filled(self, parts, out):
        """A vector of ``parts`` (numbers, or vectors) one after the other, in
        ``out``'s dtype; each number stands for ``n`` entries where ``parts`` is
        a list of ``(value, n)``."""
        xp = self.xp
        pieces = [xp.full((n,), float(v), dtype=out.dtype, device=out.device)
                  if isinstance(v, (int, float)) else xp.astype(v, out.dtype)
                  for v, n in parts]
        return xp.concat(pieces)

    def greater(self, a, b, out):
        """``a > b`` as 0/1 in ``out``'s dtype (``out`` gives the dtype only)."""
        return self.xp.astype(a > b, out.dtype)

    def less(self, a, b, out):
        """``a < b`` as 0/1 in ``out``'s dtype."""
        return self.xp.astype(a < b, out.dtype)

    def equal(self, a, b, out):
        """``a == b`` as 0/1 in ``out``'s dtype."""
        return self.xp.astype(a == b, out.dtype)

    def leaky_relu(self, Z, slope):
        """``max(z, slope z)``, for ``0 <= slope < 1``."""
        return self.xp.maximum(Z, Z * slope)

    def expit(self, x, out=None):
        """The logistic function, exact in relative terms (``exp(log_expit(x))``)."""
        return self.xp.exp(self.log_expit(x))

    def log_expit(self, x):
        """``log(1 / (1 + exp(-x)))``, stable for every ``x``."""
        return -self.xp.logaddexp(self.xp.zeros_like(x), -x)

    def softplus(self, x):
        """``log(1 + exp(x))``, stable for every ``x``."""
        return self.xp.logaddexp(self.xp.zeros_like(x), x)

    def xlogy(self, x, y):
        """``x log(y)``, 0 where ``x`` is 0."""
        xp = self.xp
        safe = xp.where(x == 0, xp.ones_like(y), y)
        return xp.where(x == 0, xp.zeros_like(x), x * xp.log(safe))

    def logsumexp(self, Z):
        """``log(sum(exp(Z), axis=1))`` of each row, as a column."""
        xp = self.xp
        zmax = xp.max(Z, axis=1, keepdims=True)
        return zmax + xp.log(xp.sum(xp.exp(Z - zmax), axis=1, keepdims=True))

    def softmax(self, Z):
        """The softmax of each row of ``Z``."""
        xp = self.xp
        E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
        return E / xp.sum(E, axis=1, keepdims=True)

    def picked(self, Z, y):
        """``Z[i, y[i]]`` for every row ``i`` (``y``: integer class indices)."""
        return self.xp.take_along_axis(Z, y[:, None], axis=1)[:, 0]

    def minus_one_hot(self, delta, y):
        """``delta`` with 1 subtracted at ``delta[i, y[i]]`` of every row (in
        place where the namespace allows)."""
        xp = self.xp
        classes = xp.arange(delta.shape[1], device=getattr(y, "device", None))
        return delta - xp.astype(y[:, None] == classes[None, :], delta.dtype)

    # ----------------------------------------------------------- reductions
    def rowdot(self, A, B):
        """The dot product of each row of ``A`` with that row of ``B``."""
        return self.xp.sum(A * B, axis=1)

    def sum_squares(self, a):
        """``sum(a ** 2)`` as a 0-d array in float64 where the device has it (it
        stays on the device)."""
        return self.xp.astype(self.xp.sum(a * a), self.float64(a))

    def mean_loss(self, losses, sample_weight=None):
        """The mean of the rows' ``losses`` (weighted by ``sample_weight``), as a
        0-d array in float64 where the device has it (it stays on the device)."""
        xp = self.xp
        losses = xp.astype(losses, self.float64(losses))
        if sample_weight is None:
            return xp.sum(losses) / losses.shape[0]
        w = xp.astype(sample_weight, losses.dtype)
        return xp.sum(w * losses) / xp.sum(w)

    def float64(self, a):
        """float64, or float32 on a device without float64."""
        device = getattr(a, "device", None)
        key = str(device)
        if key not in self._float64:
            names = self.xp.__array_namespace_info__().dtypes(
                kind="real floating", device=device)
            self._float64[key] = (self.xp.float64 if "float64" in names
                                  else self.xp.float32)
        return self._float64[key]

    # --------------------------------------------------- elementwise updates
    def divide(self, a, b, out=None):
        return a / b

    def scratch_for(self, arrays, n=1):
        """``n`` work buffers for an elementwise update of ``arrays`` by
        :meth:`chunks` (numpy only: other namespaces compute into new arrays)."""
        return (None,) * n

    def chunks(self, *arrays, scratch=()):
        """The pieces an elementwise update walks through: here, the arrays
        (and None for each work buffer)."""
        yield [*arrays, *scratch]

    def assembled(self, pieces, out):
        """The column blocks ``pieces`` side by side (numpy wrote them into views
        of ``out`` already)."""
        return self.xp.concat(pieces, axis=1)


class NumpyOps(ArrayAPIOps):
    """The primitives for numpy: into ``out=``, over cache-sized chunks, scipy's
    special functions, and sparse matrices where a product takes them."""

    def __init__(self):
        super().__init__(numpy_namespace)

    def empty(self, shape, dtype, device=None):
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype, device=None):
        return np.zeros(shape, dtype=dtype)

    def scalar(self, value, like):
        """A scalar of ``like``'s dtype: the arithmetic stays in that dtype."""
        return like.dtype.type(value)

    def astype(self, X, dtype):
        return X.astype(dtype, copy=False)  # a sparse matrix too

    def matmul(self, A, B, out=None):
        if type(A) is np.ndarray and type(B) is np.ndarray:
            return np.dot(A, B, out=out)
        if sp.issparse(A) or sp.issparse(B):
            product = np.asarray(A @ B)
            if out is None:
                return product
            out[...] = product
            return out
        return np.dot(A, B, out=out)

    def take(self, X, idx, out=None):
        if sp.issparse(X):
            return X[idx]
        return np.take(X, idx, axis=0, out=out)

    def rows(self, X, start, stop):
        return X[start:stop]

    def dense(self, X):
        return not sp.issparse(X)

    # the elementwise operations are numpy's ufuncs themselves (they take
    # ``out=``): no Python call in between, on a path taken ~50 times a batch
    tanh, exp, sqrt, sign = (staticmethod(f) for f in (np.tanh, np.exp, np.sqrt,
                                                       np.sign))
    maximum, multiply, subtract, add, divide = (staticmethod(f) for f in (
        np.maximum, np.multiply, np.subtract, np.add, np.divide))
    greater, less, equal = (staticmethod(f) for f in (np.greater, np.less,
                                                       np.equal))
    expit = staticmethod(expit)

    def axpy(self, a, x, y):
        # in place, one cache-sized chunk at a time
        for xc, yc, s in self.chunks(x, y, scratch=self.scratch_for([y])):
            yc += np.multiply(xc, a, out=s)
        return y

    def stacked(self, parts, out):
        return out

    def filled(self, parts, out):
        start = 0
        for value, n in parts:
            out[start : start + n] = value
            start += n
        return out[:start]

    def leaky_relu(self, Z, slope):
        # in place, through one cache-sized scratch (no temporary the size of Z)
        a = Z.dtype.type(slope)
        if not Z.flags.c_contiguous:
            return np.maximum(Z, Z * a, out=Z)
        for z, s in self.chunks(Z, scratch=self.scratch_for([Z])):
            np.maximum(z, np.multiply(z, a, out=s), out=z)
        return Z

    def log_expit(self, x):
        return log_expit(x)

    def softplus(self, x):
        return np.logaddexp(0, x)

    def xlogy(self, x, y):
        return xlogy(x, y)

    def logsumexp(self, Z):
        return logsumexp(Z, axis=1, keepdims=True)

    def softmax(self, Z):
        return softmax(Z, axis=1)

    def rowdot(self, A, B):
        return np.einsum("ij,ij->i", A, B)

    def sum_squares(self, a):
        flat = a.reshape(-1)
        return float(np.dot(flat, flat))

    def picked(self, Z, y):
        return Z[np.arange(Z.shape[0]), y]

    def minus_one_hot(self, delta, y):
        delta[np.arange(delta.shape[0]), y] -= 1
        return delta

    def mean_loss(self, losses, sample_weight=None):
        if sample_weight is None:
            return float(losses.sum()) / losses.shape[0]
        return float(np.dot(sample_weight, losses)) / float(sample_weight.sum())

    def float64(self, a):
        return np.float64

    def assembled(self, pieces, out):
        return out

    def scratch_for(self, arrays, n=1):
        size = min(CHUNK, max(a.size for a in arrays))
        return tuple(np.empty(size, dtype=arrays[0].dtype) for _ in range(n))

    def chunks(self, *arrays, scratch=()):
        """Aligned cache-sized chunks of flat views of same-shaped C-contiguous
        arrays, and as many elements of each work buffer of ``scratch`` (from
        :meth:`scratch_for`): an update's passes over one chunk run while it is
        in cache."""
        if not all(a.flags.c_contiguous for a in arrays):
            raise ValueError("arrays updated in place must be C-contiguous")
        flat = [a.reshape(-1) for a in arrays]
        for start in range(0, flat[0].shape[0], CHUNK):
            n = min(CHUNK, flat[0].shape[0] - start)
            yield [f[start : start + n] for f in flat] + [w[:n] for w in scratch]


_NUMPY_OPS = NumpyOps()


@functools.cache
def _ops_for(xp):
    return ArrayAPIOps(xp)


def get_ops(xp):
    """The primitives for namespace ``xp`` (numpy, or its array-API wrapper,
    gets :class:`NumpyOps`)."""
    if xp is np or getattr(xp, "__name__", "").endswith("numpy"):
        return _NUMPY_OPS
    return _ops_for(xp)


def ops_of(*arrays):
    """The primitives for the namespace of ``arrays`` (numpy for numpy arrays
    and scipy sparse matrices)."""
    for a in arrays:
        if a is None or isinstance(a, (np.ndarray, np.generic)) or sp.issparse(a):
            continue
        return get_ops(array_namespace(a))
    return _NUMPY_OPS


def to_host(a):
    """``a`` as a numpy array on the host when it is an array of another
    namespace (itself otherwise: numpy arrays, sparse matrices, lists, pandas
    objects, None)."""
    if a is None or isinstance(a, (np.ndarray, np.generic)) or sp.issparse(a):
        return a
    try:
        xp = array_namespace(a)
    except TypeError:  # not an array of any namespace
        return a
    return convert_to_numpy(a, xp)


def to_device(a, like):
    """The numpy array ``a`` in the namespace and on the device of ``like``
    (itself when ``like`` is a numpy array or a scipy sparse matrix)."""
    if a is None or like is None or isinstance(like, np.ndarray) or sp.issparse(
            like):
        return a
    return array_namespace(like).asarray(a, device=like.device)


def numpy_dtype(dtype):
    """The numpy dtype of the same name as ``dtype`` (of any namespace)."""
    return np.dtype(str(dtype).rsplit(".", 1)[-1])
