"""Static files: hashed names with compressed copies in production, plain files on the laptop."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.STORAGES['staticfiles']['BACKEND'], s.WHITENOISE_USE_FINDERS)"
)


def storage_with(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STATIC_MANIFEST")}
    clean.update(DJANGO_SETTINGS_MODULE="photondrift.settings", **env)
    out = subprocess.run([sys.executable, "-c", SHOW], env=clean, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_it_serves_hashed_compressed_files_in_production_and_plain_ones_on_a_laptop(tmp_path):
    home = str(tmp_path)
    production = storage_with(PHOTONDRIFT_HOME=home, DATABASE_URL="postgres://u@127.0.0.1:1/x")
    assert production == "whitenoise.storage.CompressedManifestStaticFilesStorage False"
    laptop = storage_with(PHOTONDRIFT_HOME=home)
    assert laptop == "django.contrib.staticfiles.storage.StaticFilesStorage True"
    assert storage_with(PHOTONDRIFT_HOME=home, STATIC_MANIFEST="1").startswith("whitenoise.storage.Compressed")


def test_collectstatic_skips_what_no_page_asks_for():
    from django.contrib.staticfiles.finders import get_finders

    from photondrift.staticfiles import StaticFiles

    found = {path for finder in get_finders() for path, _ in finder.list(StaticFiles.ignore_patterns)}
    assert "plotly.min.js" in found and "favicon.svg" in found
    assert "widgetbundle.js" not in found and not any(p.startswith("datasets/") for p in found)


def test_the_partial_plotly_bundle_is_the_same_release_as_the_full_one():
    """static/vendor/plotly holds plotly.js's cartesian bundle (npm plotly.js-cartesian-dist-min,
    a third of the size) for every page without a parallel-coordinates chart; it must be the
    release the Python package bundles, or the figures built in Python may use what it lacks."""
    import re
    from pathlib import Path

    import plotly
    from django.conf import settings

    def release(path: Path) -> str:
        return re.search(r"plotly\.js(?: \(cartesian - minified\))? v(\d+\.\d+\.\d+)", path.read_text()[:300]).group(1)

    full = release(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")
    partial = release(settings.BASE_DIR / "static" / "vendor" / "plotly" / "plotly-cartesian.min.js")
    assert partial == full
