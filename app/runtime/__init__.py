"""The process: the ``digitpad-serve`` command (``cli``), uvicorn's server and our worker
supervisor (``supervisor``), the HTTP protocol with its header deadline (``protocol``), and the
shutdown state that SIGTERM starts and the app reads (``shutdown``)."""
