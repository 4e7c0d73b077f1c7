"""``digitpad-serve``: run the app, configured by the same settings object as the app.

    DIGITPAD_HOST=0.0.0.0 DIGITPAD_PORT=8000 DIGITPAD_WORKERS=2 digitpad-serve

uvicorn with httptools and uvloop, our header deadline (``app.runtime.protocol``),
a graceful drain on SIGTERM and exit 0 after it, a weights reload on SIGHUP
(``app.runtime.supervisor``). Start-up goes in the order things can fail, and each failure is
one line, never a traceback: the settings (a value that does not parse: exit code 2), the port
(already in use: exit code 3, before anything loads), the workers' metrics folder, then the
weights and the database (migrated here), checked once before any worker starts (exit code 3)."""

from __future__ import annotations

import os
import signal
import sys

# SIGHUP asks a running server to reload its weights, and SIGTERM or SIGINT to stop gracefully, but
# Python's default for the first two is to die: one sent while this process starts (imports, the
# weights and database checked: about a second) would kill the server. They are held from here,
# the first line run, until a handler is in place: the parent's (run_workers) or, with one worker,
# the server's (Server.capture_signals for SIGTERM and SIGINT, Server.startup for SIGHUP).
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM, signal.SIGINT})

import contextlib
import socket
import textwrap

from app.middleware.headers import API_CSP, COMMON
from app.observability.logs import log_config
from app.runtime.preflight import announce, keep_metrics, listening_socket
from app.runtime.protocol import ServeConfig, TimedHttpToolsProtocol
from app.serving.predictor import StartupError
from app.settings import DEFAULTS_IN_WORDS, Settings, SettingsProblem, read_settings
from app.training import folder as training_folder


def config_from(settings: Settings) -> ServeConfig:
    return ServeConfig(
        "app.main:app", host=settings.host, port=settings.port, http=TimedHttpToolsProtocol,
        loop="auto", proxy_headers=True, timeout_graceful_shutdown=settings.graceful_timeout,
        access_log=False, log_config=log_config(settings.log_format),  # requests: app.middleware.observe
        header_timeout=settings.header_timeout, body_timeout=settings.body_timeout,
        error_headers=[(b"content-security-policy", API_CSP.encode()), *COMMON])


def shown_default(name: str) -> str:
    """A setting's default as --help shows it: in words where the value alone would not explain
    it, with the value it comes to on this machine when that depends on the machine."""
    field = Settings.model_fields[name]
    value = field.get_default(call_default_factory=True)
    plain = "none" if value in (None, []) else str(value).lower() if isinstance(value, bool) else str(value)
    words = DEFAULTS_IN_WORDS.get(name)
    if words is None:
        return plain
    return f"{words}: {plain} here" if field.default_factory is not None else words


def described(variable: str, description: str, default: str, width: int = 100) -> list[str]:
    """One setting for --help: its variable, then its description wrapped beside it, and its
    default kept whole at the end (on a line of its own when the last line has no room)."""
    indent = " " * 33
    lines = textwrap.wrap(description, width, initial_indent=f"  {variable:30s} ", subsequent_indent=indent)
    if len(lines[-1]) + 1 + len(default) <= width:
        return [*lines[:-1], f"{lines[-1]} {default}"]
    return lines + textwrap.wrap(default, width, initial_indent=indent, subsequent_indent=indent)


def usage() -> str:
    """Every setting, its variable, meaning and default: what ``digitpad-serve --help`` prints."""
    lines = ["usage: digitpad-serve [--help]", "",
             "Serve digitpad (the drawing page and the API). Configured only by environment variables, e.g.",
             "DIGITPAD_PORT=8080 digitpad-serve:", ""]
    for name, field in Settings.model_fields.items():
        lines += described(f"DIGITPAD_{name.upper()}", str(field.description), f"(default: {shown_default(name)})")
    lines += ["", "SIGTERM drains and exits 0; SIGHUP reloads the weights. A setting that does not parse exits 2,",
              "a start-up that fails (port in use, weights, database) exits 3. More in docs/operations.md."]
    return "\n".join(lines)


def settings_or_exit() -> Settings:
    """The settings, or exit code 2 after one line per variable that does not parse."""
    try:
        return read_settings(Settings)
    except SettingsProblem as e:
        for line in e.lines:
            print(f"digitpad cannot start: {line} (digitpad-serve --help lists the settings)", file=sys.stderr)
        sys.exit(2)


def workers_for(settings: Settings, stack: contextlib.ExitStack) -> int:
    """How many workers serve: the setting, with their metrics folder made for the run (removed
    when ``stack`` closes), or one when no folder can be made and the number was not asked for."""
    if settings.workers == 1:
        return 1
    try:
        keep_metrics(settings, stack)
        return settings.workers
    except StartupError:
        if "workers" in settings.model_fields_set:  # asked for by name: a setting to fix
            raise
        print("warning: nowhere writable for several workers' metrics, so one worker serves (set "
              "DIGITPAD_METRICS_DIR to a writable folder for one worker per core)", file=sys.stderr)
        os.environ["DIGITPAD_WORKERS"] = "1"  # for the app's own settings: all the cores for its threads
        return 1


def serve(settings: Settings, config: ServeConfig, sock: socket.socket, workers: int) -> int:
    """Check the weights and the database once, then serve; the exit code."""
    # Imported only now, with the metrics folder set: prometheus-client decides between samples in
    # memory and samples in files when first imported, and the workers inherit these imports.
    from app.lifespan import open_storage
    from app.runtime.supervisor import raise_fd_limit, run_one, run_workers
    from app.serving.models import load_models

    load_models(settings)  # the same check every worker makes, once, before any starts
    open_storage(settings.database_url, settings.database_timeout).dispose()  # migrated once, before workers race
    raise_fd_limit()
    announce(sock)
    return run_workers(config, sock, workers) if workers > 1 else run_one(config, sock)


def main() -> None:
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(usage())
        return
    if sys.argv[1:]:
        print(f"digitpad-serve takes no arguments (got {' '.join(sys.argv[1:])[:80]}); it reads DIGITPAD_* "
              "variables: digitpad-serve --help", file=sys.stderr)
        sys.exit(2)
    settings = settings_or_exit()
    config = config_from(settings)
    try:
        with contextlib.ExitStack() as stack:
            sock = stack.enter_context(contextlib.closing(listening_socket(settings.host, settings.port)))
            workers = workers_for(settings, stack)
            if settings.training:  # one training folder for all the workers, removed when they stop
                stack.enter_context(training_folder.shared())
            sys.exit(serve(settings, config, sock, workers))
    except StartupError as e:
        print(e, file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
