"""sk_dbn: scikit-learn-compatible deep belief networks and smart weight initialisation.

Public estimators: :class:`StackedRBMTransformer` (greedy layer-wise RBM
pre-training), :class:`DBNClassifier` and :class:`DBNRegressor` (networks whose
initial weights come from any scheme in :mod:`sk_dbn.initializers`, LSUV or RBM
pre-training, fine-tuned with backprop).
"""

from ._dbn import DBNClassifier, DBNRegressor
from ._stacked import StackedRBMTransformer
from ._version import __version__

__all__ = ["DBNClassifier", "DBNRegressor", "StackedRBMTransformer", "__version__"]
