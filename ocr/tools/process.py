"""Run an external OCR program so that a timeout or a stop request really ends it.

Each program runs in its own process group (``start_new_session``), so that the program
and every child it starts (ocrmypdf's Tesseract and Ghostscript) are killed together: on a
timeout, and by :func:`kill_running` when a worker process is told to stop. Every OCR
engine that runs programs goes through here; there is one running program per worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
from functools import partial
from pathlib import Path

from ...errors import MissingToolError, ToolFailedError
from .lifetime import die_with_parent

_running: set[subprocess.Popen] = set()  # the programs this process runs, for kill_running()


def run_in_own_group(
    args: list[str], *, what: str, env: dict[str, str] | None, cwd: Path | None, timeout: float, input_file: Path
) -> subprocess.CompletedProcess:
    """Run ``args`` (never through a shell) and collect its output as text.

    Args:
        args: the program and its arguments.
        what: the program's name for messages (``ocrmypdf``).
        env: its environment (None: ours).
        cwd: its working directory.
        timeout: seconds it may run.
        input_file: the document it works on, for the timeout message.

    Raises:
        MissingToolError: the program cannot be started.
        ToolFailedError: it ran longer than ``timeout`` seconds (it was killed).
    """
    parent = os.getpid()
    try:
        # If this process is killed outright, the program must not run on as an orphan.
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd, start_new_session=True,
                                preexec_fn=partial(die_with_parent, parent))
    except OSError as exc:
        raise MissingToolError(f"cannot start {what}: {exc}") from None
    _running.add(proc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise ToolFailedError(f"{input_file}: OCR took longer than {timeout:.0f} s and was stopped") from None
    except BaseException:  # Ctrl-C in a run without workers (ocr.in_process): no orphan runs on
        _kill(proc)
        raise
    finally:
        _running.discard(proc)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def kill_running() -> None:
    """Stop the programs this process runs, with all their children (no-op if none)."""
    for proc in list(_running):
        _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def failure(what: str, proc: subprocess.CompletedProcess) -> str:
    """Why a program failed, for a quarantine reason: its exit code or signal, and last words."""
    code = proc.returncode
    if code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exit code {code}"
    return f"{what} {how}: {last_line(proc.stderr)}"


def last_line(text: str | None) -> str:
    """The last non-empty line of a program's output (at most 300 characters)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"
