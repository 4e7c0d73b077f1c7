"""Scorers: a served model against the drawn-digit and drawn-number sets (``python -m scripts.evaluation.NAME``)."""
