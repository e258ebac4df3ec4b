"""sk_dbn: scikit-learn-compatible deep belief networks and smart weight initialisation.

Public estimators: :class:`StackedRBMTransformer` (greedy layer-wise RBM
pre-training) and :class:`DBNClassifier` (a network whose initial weights come from
any scheme in :mod:`sk_dbn.initializers`, LSUV or RBM pre-training, fine-tuned with
backprop).
"""

from ._dbn import DBNClassifier
from ._stacked import StackedRBMTransformer
from ._version import __version__

__all__ = ["DBNClassifier", "StackedRBMTransformer", "__version__"]
