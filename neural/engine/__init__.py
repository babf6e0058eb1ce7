"""Framework-free ML core: torch, numpy, pandas, scikit-learn. Never imports Django/Celery/Channels."""
