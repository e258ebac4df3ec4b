"""Collection rules for the whole checkout (``tests/`` has its own conftest).

``SCIPY_ARRAY_API=1``: scikit-learn refuses ``array_api_dispatch=True`` unless
scipy was imported with it, so it is set here, before anything imports scipy;
the array-API tests (``tests/test_array_api.py`` and scikit-learn's array-API
checks in ``tests/test_common.py``) need it. It does not change what scipy does
with numpy arrays.

``sk_dbn/onnx.py`` imports skl2onnx and its doctest runs onnxruntime: without
the ``onnx`` extra the module is not collected for doctests (``tests/test_onnx.py``
skips itself).
"""

import importlib.util
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

collect_ignore = []
if not all(importlib.util.find_spec(name) for name in ("skl2onnx", "onnxruntime")):
    collect_ignore.append("sk_dbn/onnx.py")
