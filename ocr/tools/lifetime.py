"""Tie a process's life to its parent's: ``prctl(PR_SET_PDEATHSIG)`` through libc (Linux).

Used by the OCR worker processes and by the ocrmypdf runs they start, so that a ``kill -9``
of ``akte`` leaves no orphan OCRing on (and holding on to files) for minutes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# Loaded once here: between fork and exec (OCR threads start programs) nothing may be loaded.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> None:
    """Have the kernel send ``signum`` to this process when its parent dies.

    Exits at once when the parent ``parent_pid`` is already gone (it can die before the
    request is made). Safe to call between fork and exec, also with threads running.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)
