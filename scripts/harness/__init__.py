"""Driving the real product for the tests and benchmarks: a ``digitpad-serve`` process
(``server``), the container engine (``container``), loads (``load``), free ports and the
machine's name."""
