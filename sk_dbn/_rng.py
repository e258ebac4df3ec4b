"""Random number generation: one ``numpy.random.Generator`` per fit."""

import numbers

import numpy as np


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
