"""``digitpad-serve``: run the app, configured by the same settings object as the app.

    DIGITPAD_HOST=0.0.0.0 DIGITPAD_PORT=8000 DIGITPAD_WORKERS=2 digitpad-serve

uvicorn with httptools and uvloop, our header deadline (``app.runtime.protocol``),
a graceful drain on SIGTERM and exit 0 after it, a weights reload on SIGHUP
(``app.runtime.supervisor``). The weights and the database (migrated here) are checked
before any worker starts, so a bad file or URL stops start-up with one line and exit
code 3 whatever the number of workers."""

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

from app.lifespan import open_storage
from app.middleware.headers import API_CSP, COMMON
from app.observability.logs import log_config
from app.runtime.protocol import ServeConfig, TimedHttpToolsProtocol
from app.runtime.supervisor import raise_fd_limit, run_one, run_workers
from app.serving.models import load_models
from app.serving.predictor import StartupError
from app.settings import Settings


def config_from(settings: Settings) -> ServeConfig:
    return ServeConfig(
        "app.main:app", host=settings.host, port=settings.port, http=TimedHttpToolsProtocol,
        loop="auto", proxy_headers=True, timeout_graceful_shutdown=settings.graceful_timeout,
        access_log=False, log_config=log_config(settings.log_format),  # requests: app.middleware.observe
        header_timeout=settings.header_timeout, body_timeout=settings.body_timeout,
        error_headers=[(b"content-security-policy", API_CSP.encode()), *COMMON])


def usage() -> str:
    """Every setting, its variable, default and meaning: what ``digitpad-serve --help`` prints."""
    lines = ["usage: digitpad-serve [--help]", "",
             "Serve digitpad (the drawing page and the API). Configured only by environment variables:", ""]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "none" if default in (None, []) else str(default).lower() if isinstance(default, bool) else str(default)
        lines.append(f"  DIGITPAD_{name.upper():22s} {field.description} (default: {shown})")
    lines += ["", "SIGTERM drains and exits 0; SIGHUP reloads the weights. More in docs/operations.md."]
    return "\n".join(lines)


def main() -> None:
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(usage())
        return
    if sys.argv[1:]:
        print(f"digitpad-serve takes no arguments (got {' '.join(sys.argv[1:])[:80]}); it reads DIGITPAD_* "
              "variables: digitpad-serve --help", file=sys.stderr)
        sys.exit(2)
    settings = Settings()
    try:
        load_models(settings)  # the same check every worker makes, once, before any starts
        # and the migrations, once, before workers race to apply them
        open_storage(settings.database_url, settings.database_timeout).dispose()
    except StartupError as e:
        print(e, file=sys.stderr)
        sys.exit(3)
    raise_fd_limit()
    config = config_from(settings)
    try:
        sys.exit(run_workers(config, settings) if settings.workers > 1 else run_one(config))
    except StartupError as e:  # no place for the workers' metrics
        if "workers" in settings.model_fields_set:  # asked for by name: a setting to fix
            print(e, file=sys.stderr)
            sys.exit(3)
        print("warning: nowhere writable for several workers' metrics, so one worker serves (set "
              "DIGITPAD_METRICS_DIR to a writable folder for one worker per core)", file=sys.stderr)
        os.environ["DIGITPAD_WORKERS"] = "1"  # for the app's own settings: all the cores for its threads
        sys.exit(run_one(config))


if __name__ == "__main__":
    main()
