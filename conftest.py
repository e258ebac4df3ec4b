"""Collection rules for the whole checkout (``tests/`` has its own conftest).

``sk_dbn/onnx.py`` imports skl2onnx and its doctest runs onnxruntime: without
the ``onnx`` extra the module is not collected for doctests (``tests/test_onnx.py``
skips itself).
"""

import importlib.util

collect_ignore = []
if not all(importlib.util.find_spec(name) for name in ("skl2onnx", "onnxruntime")):
    collect_ignore.append("sk_dbn/onnx.py")
