"""The demo, ``python -m sk_dbn``: what the lecture on weight initialisation
teaches, measured with the package's public estimators.

It stands apart from the library (nothing in :mod:`sk_dbn` imports it):

- :mod:`~sk_dbn._demo.results`: what is measured (:class:`~.results.Fit`,
  :class:`~.results.Cell`, :class:`~.results.Table`) and the definitions the
  measurements are judged by (n/c, still falling, clearly above); no training;
- :mod:`~sk_dbn._demo.runs`: the data, the settings of each part and the fits,
  as tasks that joblib can run in worker processes;
- :mod:`~sk_dbn._demo.text`: every sentence printed about the results, as
  functions of the measured tables;
- :mod:`~sk_dbn._demo.plots`: the figures of ``--plots DIR``;
- :mod:`~sk_dbn._demo.cli`: the command line, and the report of each part.
"""
