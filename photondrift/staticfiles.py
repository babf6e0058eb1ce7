"""collectstatic's ignore list: plotly's package_data folder (served for plotly.min.js) also holds
the Jupyter widget bundle and sample data sets, about 5 MB no page asks for, which would
otherwise be hashed and compressed on every release."""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "widgetbundle.js", "datasets"]
