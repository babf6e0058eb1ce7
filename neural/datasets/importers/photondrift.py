"""PhotonDrift's own reports: drift analysis and security scans, ``items[]`` flattened one row per item."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neural.datasets.importers.base import Importer, Probe, records_frame, register
from neural.errors import DataError

REPORT_KEYS = {"scan_stats", "severity_summary", "category_summary", "total_items"}


def _reports(doc) -> list[dict] | None:
    candidates = doc if isinstance(doc, list) else [doc]
    if candidates and all(
        isinstance(r, dict) and isinstance(r.get("items"), list) and REPORT_KEYS & set(r) for r in candidates
    ):
        return candidates
    return None


@register
class PhotonDriftReportImporter(Importer):
    name = "photondrift-report"
    description = (
        "PhotonDrift drift / security report JSON: items[] flattened (location.file_path -> location.file_path column)"
    )
    default_target = "severity"
    priority = 6

    def sniff(self, probe: Probe) -> bool:
        return _reports(probe.json_doc) is not None

    def read(self, path: Path) -> pd.DataFrame:
        reports = _reports(self.json(path))
        if reports is None:
            raise DataError("not a PhotonDrift report: expected an object with items[] and scan_stats", field="file")
        rows = []
        for report in reports:
            for item in report["items"]:
                if not isinstance(item, dict):
                    raise DataError("PhotonDrift report: an entry of items[] is not an object", field="file")
                rows.append({**item, "report_timestamp": report.get("timestamp")})
        if not rows:
            raise DataError("PhotonDrift report has no items (items[] is empty): nothing to import", field="file")
        return records_frame(rows, what="PhotonDrift report")
