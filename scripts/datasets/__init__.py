"""Data-set generators: test sets, training glyphs, the committed samples and examples
(``python -m scripts.datasets.NAME``)."""
