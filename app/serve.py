"""``digitpad-serve``: run the app with uvicorn, configured by the same settings object.

    DIGITPAD_HOST=0.0.0.0 DIGITPAD_PORT=8000 DIGITPAD_WORKERS=2 digitpad-serve
"""

from __future__ import annotations

import uvicorn

from app.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("app.main:app", host=settings.host, port=settings.port, workers=settings.workers,
                timeout_graceful_shutdown=settings.graceful_timeout, proxy_headers=True)


if __name__ == "__main__":
    main()
