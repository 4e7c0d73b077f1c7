"""Model serving: the served models by name (``models``), one model's predictions
(``predictor``), the bounded CPU pool every request's work runs on (``executor``), and the
reload SIGHUP asks for (``reload``)."""
