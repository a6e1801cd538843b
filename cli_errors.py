"""How ``akte`` reports problems: typed errors become exit codes, nothing else leaks.

``handles_errors`` wraps every command: an ``AkteError`` prints one line and exits with its
code; any other exception is a bug, reported as ``internal error: <type>: <message>`` (exit
70) with the traceback only under ``--verbose``; Typer's own exits and usage errors pass
through. Every message, log line and traceback goes through :func:`config.redact` first, so
the run's secrets (Elasticsearch password, API key, URL user info) are never printed.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from typing import Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .config import redact
from .errors import AkteError, ExitCode

err = Console(stderr=True, soft_wrap=True)  # messages are never broken inside a path or a reason


class _Redactor(logging.Filter):
    """Takes the run's secrets (Elasticsearch password, API key, URL user info) out of every
    log line: the HTTP client logs node URLs, even at the default WARNING level. It also drops
    the tracebacks libraries attach to their warnings unless ``--verbose`` asked for them."""

    secrets: tuple[str, ...] = ()
    verbose: bool = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.verbose:
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        if self.secrets:
            record.msg, record.args = redact(record.getMessage(), self.secrets), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip(), self.secrets)
        return True


_REDACTOR = _Redactor()


def _print_traceback(exc: BaseException) -> None:
    """The traceback, with the secrets taken out, when ``--verbose`` asked for it."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        err.print(Text(redact("".join(traceback.format_exception(exc)), _REDACTOR.secrets)), soft_wrap=True)


def handles_errors(func: Callable) -> Callable:
    """Turn our typed errors into a message on stderr and the matching exit code.

    Anything else is a bug: it is reported in one line as an internal error (exit 70), with
    the traceback only under ``--verbose``. Typer's and Click's own exits and usage errors
    pass through unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AkteError as exc:
            # soft_wrap: one line per message, so paths and ids stay whole for grep and scripts
            err.print(f"[red]error:[/red] {escape(redact(exc.message, _REDACTOR.secrets))}", soft_wrap=True)
            _print_traceback(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except BrokenPipeError:
            # The reader left (`akte list --json | head`): end quietly, as rich does for
            # its own output, with stdout on /dev/null so the final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]: run the same command again to continue")
            raise typer.Exit(130) from None
        except Exception as exc:
            if type(exc).__module__.partition(".")[0] in ("typer", "click"):
                raise  # Exit, Abort, BadParameter …: Typer reports these itself
            message = redact(f"{type(exc).__name__}: {exc}", _REDACTOR.secrets)
            err.print(f"[red]internal error:[/red] {escape(message)}", soft_wrap=True)
            if not logging.getLogger().isEnabledFor(logging.DEBUG):
                err.print("[dim]rerun with --verbose for the traceback, and please report it[/dim]")
            _print_traceback(exc)
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper


def setup_logging(verbose: bool) -> None:
    """Log to stderr (DEBUG with ``--verbose``, else WARNING), through the redacting filter."""
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)  # basicConfig configures only once per process
    for handler in logging.getLogger().handlers:
        if _REDACTOR not in handler.filters:
            handler.addFilter(_REDACTOR)
    _REDACTOR.secrets, _REDACTOR.verbose = (), verbose


def keep_secret(secrets: tuple[str, ...]) -> None:
    """Texts that no message, log line or traceback of this run may show."""
    _REDACTOR.secrets = secrets
