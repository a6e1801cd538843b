"""Worker processes for OCR, started and owned by this module.

Each worker is a fresh ``python -m aktenarchiv.workers`` in its own process group (so a
Ctrl-C in the terminal reaches only the main process, which stops everything itself). It
reads one pickled job at a time from its stdin and writes the pickled result to a private
copy of its stdout. Workers never hold the archive lock: they are started with ``exec``, so
no file descriptor of the main process survives in them (every file we open is close-on-exec).

They die with the main process, however it ends:

- ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: the kernel sends SIGTERM when the parent dies, even by
  ``kill -9``; the SIGTERM handler kills the worker's running ocrmypdf process group (with
  Tesseract and Ghostscript) and exits at once, wherever the worker is (:func:`_stop_on_sigterm`);
- a worker waiting for a job sees end-of-file on its stdin when the parent is gone;
- :meth:`WorkerPool.stop` sends SIGTERM, then SIGKILL to the worker's process group.

The kernel ties the death signal to the thread that started the worker, so a pool is used
from the thread that lives as long as the run (the CLI's main thread).
"""

from __future__ import annotations

import logging
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from .errors import MissingToolError
from .ocr.recognize import stop_ocr
from .ocr.tools.lifetime import die_with_parent

_HEADER = struct.Struct("!Q")
_STOP_GRACE = 5.0  # seconds stopped workers get, together, to kill their OCR runs before SIGKILL


class WorkerDiedError(RuntimeError):
    """A worker process ended without answering (killed, out of memory, crashed)."""


@dataclass
class _Worker:
    proc: subprocess.Popen
    key: Any = None  # the job it runs, None when idle


@dataclass(frozen=True, slots=True)
class Done:
    """One finished job: its key and either its result or the exception it raised."""

    key: Any
    result: Any = None
    error: BaseException | None = None


class WorkerPool:
    """Up to ``size`` worker processes, each running one job at a time."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()

    # -- what the main process sees ------------------------------------------------------
    @property
    def pids(self) -> list[int]:
        """Process ids (= process group ids) of the running workers."""
        return [w.proc.pid for w in self._workers]

    @property
    def busy(self) -> int:
        """How many jobs are running."""
        return sum(1 for w in self._workers if w.key is not None)

    def has_room(self) -> bool:
        """True when another job can start now."""
        return self.busy < self.size

    def submit(self, key: Any, func: Callable, *args: Any) -> None:
        """Start ``func(*args)`` in an idle worker; ``key`` comes back with its :class:`Done`."""
        worker = next((w for w in self._workers if w.key is None), None) or self._start()
        worker.key = key
        try:
            _write_frame(worker.proc.stdin, pickle.dumps((func, args), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            worker.key = None
            self._discard(worker)
            raise WorkerDiedError("an OCR worker process ended unexpectedly") from None

    def wait(self) -> list[Done]:
        """Block until at least one running job finishes; returns the finished ones."""
        if not self.busy:
            return []
        done = []
        for sel_key, _ in self._selector.select():
            worker: _Worker = sel_key.data
            key = worker.key
            try:
                ok, value = pickle.loads(_read_frame(worker.proc.stdout))
            except (EOFError, OSError, pickle.UnpicklingError):
                self._discard(worker)
                code = worker.proc.wait()
                _close(worker)
                if key is not None:  # an idle worker that ended is simply replaced when needed
                    done.append(Done(key, error=WorkerDiedError(f"the OCR worker process ended (exit status {code})")))
                continue
            worker.key = None
            done.append(Done(key, value) if ok else Done(key, error=value))
        return done

    # -- ending ----------------------------------------------------------------------------
    def close(self) -> None:
        """End idle workers normally (end of file on their input) and wait for them."""
        workers = list(self._workers)
        for worker in workers:  # all at once: each ends while the others do
            self._discard(worker)
            worker.proc.stdin.close()
        _reap(workers)

    def stop(self) -> None:
        """Stop every worker and its OCR run now (Ctrl-C, a fatal error)."""
        workers = list(self._workers)
        for worker in workers:
            self._discard(worker)
            _kill_group(worker.proc.pid, signal.SIGTERM)
        _reap(workers)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()
        self._selector.close()

    # -- internals ---------------------------------------------------------------------------
    def _start(self) -> _Worker:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "aktenarchiv.workers", str(os.getpid()),
                 str(logging.getLogger().getEffectiveLevel())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, process_group=0,
            )
        except OSError as exc:  # out of processes or memory
            raise MissingToolError(f"cannot start an OCR worker process ({sys.executable}): {exc}") from None
        worker = _Worker(proc)
        self._workers.append(worker)
        self._selector.register(proc.stdout, selectors.EVENT_READ, worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
            self._selector.unregister(worker.proc.stdout)


class InlinePool:
    """The pool's interface without processes: each job runs in this process when submitted.

    For ``ocr.in_process`` (debugging, and the fast test tier's instant engines, whose work
    costs less than starting a worker): one job at a time, no isolation from a crashing
    OCR library, and a stop kills only the OCR program this process runs.
    """

    def __init__(self) -> None:
        self._done: list[Done] = []

    @property
    def busy(self) -> int:
        """Finished jobs not yet collected by :meth:`wait`."""
        return len(self._done)

    def has_room(self) -> bool:
        """True when nothing waits to be collected."""
        return not self._done

    def submit(self, key: Any, func: Callable, *args: Any) -> None:
        """Run ``func(*args)`` now; its :class:`Done` comes back from the next :meth:`wait`."""
        try:
            self._done.append(Done(key, func(*args)))
        except Exception as exc:  # handed back like a worker's, for the pipeline to decide
            self._done.append(Done(key, error=exc))

    def wait(self) -> list[Done]:
        """The jobs run since the last call."""
        done, self._done = self._done, []
        return done

    def close(self) -> None:
        """Nothing to end."""

    def stop(self) -> None:
        """Stop the OCR program this process runs (Ctrl-C, a fatal error)."""
        stop_ocr()

    def __enter__(self) -> InlinePool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.stop()


def _reap(workers: list[_Worker]) -> None:
    """Wait for ending workers, together at most ``_STOP_GRACE``; SIGKILL for any still running."""
    deadline = time.monotonic() + _STOP_GRACE
    try:
        for worker in workers:
            try:
                worker.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(worker.proc.pid, signal.SIGKILL)
                worker.proc.wait()
    finally:
        for worker in workers:
            _close(worker)


def _close(worker: _Worker) -> None:
    for stream in (worker.proc.stdin, worker.proc.stdout):
        try:
            stream.close()
        except OSError:  # a pipe whose reader is gone cannot flush; nothing is lost
            pass


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _write_frame(stream, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


def _on_sigterm(signum, frame) -> None:
    stop_ocr()
    os._exit(128 + signum)


def _stop_on_sigterm() -> None:
    """Have SIGTERM stop this worker at once, even in the middle of a blocking call.

    A Python signal handler runs in the main thread between two bytecodes. A SIGTERM that
    lands after the last check and before a blocking call (a job's ``time.sleep``, waiting for
    an OCR program, reading the next job) waits until that call returns: a worker stopped just
    as it took a job ran the job on until :meth:`WorkerPool.stop` gave up after ``_STOP_GRACE``
    and sent SIGKILL (4 stops in 40 in a loop). The C-level handler writes every signal to the
    wakeup pipe at once, in whichever thread it lands; a thread waiting on it does the stop.
    """
    read_fd, write_fd = os.pipe()  # not inherited by the programs a job starts
    os.set_blocking(write_fd, False)  # a signal handler never blocks
    signal.signal(signal.SIGTERM, _on_sigterm)  # still the main thread's path, when it gets there first
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def watch() -> None:
        while signums := os.read(read_fd, 64):
            if signal.SIGTERM in signums:
                _on_sigterm(signal.SIGTERM, None)

    threading.Thread(target=watch, name="sigterm", daemon=True).start()


def _serve(parent_pid: int, log_level: int) -> None:
    """The worker's loop: one job from stdin, its result to the private output, until EOF."""
    # Like the main process (``akte -v`` shows the workers' debug log too), on stderr.
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    _stop_on_sigterm()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    die_with_parent(parent_pid, signal.SIGTERM)
    jobs = os.fdopen(os.dup(0), "rb")
    results = os.fdopen(os.dup(1), "wb")
    # A stray print in a library must not corrupt the result stream.
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    while True:
        try:
            func, args = pickle.loads(_read_frame(jobs))
        except EOFError:
            _leave()
        try:
            answer = (True, func(*args))
        except BaseException as exc:  # handed to the main process, which decides
            # A traceback does not pickle; its text does, in the exception's __dict__, so the
            # main process can log where a bug struck.
            try:
                exc.worker_traceback = traceback.format_exc()
            except AttributeError:  # an exception type without a __dict__
                pass
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result or exception: its text goes, with a traceback
            lost = RuntimeError(f"{type(exc).__name__}: {exc}")
            # The job's own traceback when it failed, else the one of the failed pickling.
            lost.worker_traceback = getattr(answer[1], "worker_traceback", None) or traceback.format_exc()
            data = pickle.dumps((False, lost))
        try:
            _write_frame(results, data)
        except OSError:  # the main process is gone; nobody waits for this result
            _leave()


def _leave() -> NoReturn:
    """End the worker at once: every result is written and flushed, and nothing the worker
    holds needs tidying. A normal interpreter exit tears down numpy, pikepdf and the rest
    module by module, which took ~0.1 s per worker at the end of every run."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):  # a library's stray print, which a normal exit would flush
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
