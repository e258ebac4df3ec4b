"""sk_dbn: scikit-learn-compatible deep belief networks and smart weight initialisation.

Public estimators: :class:`StackedRBMTransformer` (greedy layer-wise RBM
pre-training), :class:`DBNClassifier` and :class:`DBNRegressor` (networks whose
initial weights come from any scheme in :mod:`sk_dbn.initializers`, LSUV or RBM
pre-training, fine-tuned with backprop). :func:`move_estimator_to` moves a
fitted model between array namespaces and devices (a GPU model to numpy, and
back).
"""

from ._dbn import DBNClassifier, DBNRegressor
from ._namespace import move_estimator_to
from ._stacked import StackedRBMTransformer
from ._version import __version__

__all__ = ["DBNClassifier", "DBNRegressor", "StackedRBMTransformer",
           "move_estimator_to", "__version__"]
