"""Ctrl-C during training: stop cleanly at the next mini-batch boundary.

While a fit runs in the main thread, :class:`InterruptGuard` replaces the SIGINT
handler. The first Ctrl-C only sets a flag; the training loop calls
:meth:`InterruptGuard.check` after each completed mini-batch and stops there, so no
layer is left half-updated. A second Ctrl-C while the first is still pending raises
:class:`TrainingAborted` at once, for a user who does not want to wait for the
batch to finish.
"""

import signal
import threading


class TrainingAborted(KeyboardInterrupt):
    """A second Ctrl-C while the first was still pending: abort the fit at once."""


class InterruptGuard:
    """Context manager deferring Ctrl-C to mini-batch boundaries while training.

    On entry in the main thread a SIGINT handler is installed; on exit the
    previous handler is put back exactly (also when the block raises), so guards
    nest. Nothing is installed

    * outside the main thread (e.g. joblib workers), where Python cannot set
      signal handlers;
    * where the process ignores SIGINT (``SIG_IGN``): it stays ignored;
    * where the current handler was set from C (``signal.getsignal`` returns
      None), as it could not be restored afterwards;
    * where ``signal.signal`` refuses (``ValueError``/``TypeError`` on exotic
      hosts).

    In those cases :meth:`check` still works and never raises.

    Attributes
    ----------
    requested : bool
        True once Ctrl-C was pressed inside the guard.
    """

    def __init__(self):
        self.requested = False
        self._previous = None  # the handler to put back on exit
        self._installed = False  # SIG_DFL is 0 (falsy), hence a separate flag

    def _handler(self, signum, frame):
        """SIGINT handler: the first signal is noted, a second one aborts."""
        if self.requested:
            raise TrainingAborted
        self.requested = True

    def check(self):
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed inside the guard.

        Raises
        ------
        KeyboardInterrupt
            If :attr:`requested` is set.
        """
        if self.requested:
            raise KeyboardInterrupt

    def __enter__(self):
        """Install the handler where that is possible and safe.

        Returns
        -------
        self : InterruptGuard
        """
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            previous = signal.getsignal(signal.SIGINT)
            if previous is None or previous is signal.SIG_IGN:
                return self  # set from C (not restorable), or ignored: keep it
            signal.signal(signal.SIGINT, self._handler)
        except (ValueError, TypeError):  # exotic hosts: leave the handler alone
            return self
        self._previous = previous
        self._installed = True
        return self

    def __exit__(self, *exc):
        """Restore the previous handler.

        Returns
        -------
        suppress : bool
            Always False: exceptions propagate.
        """
        if self._installed:
            self._installed = False
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False
