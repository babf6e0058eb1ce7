"""claude-flow's files: ``.claude-flow/metrics/*.json``, ``.swarm/memory.db``, ``.swarm/routing-outcomes.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from neural.datasets.importers.base import (
    Importer,
    Probe,
    check_sqlite_tables,
    epoch_ms_to_iso,
    records_frame,
    register,
    require_tables,
    sqlite_connect,
)
from neural.errors import DataError


def _records_with(doc: Any, keys: set[str]) -> bool:
    return isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict) and keys <= set(doc[0])


@register
class TaskMetricsImporter(Importer):
    name = "claude-flow-tasks"
    description = (
        "claude-flow .claude-flow/metrics/task-metrics.json: [{id, type, success, duration, timestamp, metadata}]"
    )
    default_target = "success"
    priority = 5

    def sniff(self, probe: Probe) -> bool:
        return _records_with(probe.json_doc, {"id", "type", "success", "duration", "timestamp"})

    def read(self, path: Path) -> pd.DataFrame:
        df = records_frame(self.json(path), what="task-metrics.json")
        df["timestamp"] = epoch_ms_to_iso(df["timestamp"])
        return df.rename(columns={"duration": "duration_ms"})


@register
class AgentMetricsImporter(Importer):
    name = "claude-flow-agents"
    description = (
        "claude-flow .claude-flow/metrics/agent-metrics.json: agents' counters, as an array or keyed by agent id"
    )
    priority = 4

    def sniff(self, probe: Probe) -> bool:
        doc = probe.json_doc
        if "agent-metrics" in probe.path.name:
            return isinstance(doc, (list, dict))
        keyed = isinstance(doc, dict) and bool(doc) and all(isinstance(v, dict) for v in doc.values())
        rows = list(doc.values()) if keyed else doc if isinstance(doc, list) else []
        return bool(rows) and isinstance(rows[0], dict) and any(k in rows[0] for k in ("agentId", "agentType"))

    def read(self, path: Path) -> pd.DataFrame:
        doc = self.json(path)
        if isinstance(doc, dict):
            if not all(isinstance(v, dict) for v in doc.values()):
                raise DataError(
                    "agent-metrics.json: expected an object of agents keyed by id, or an array", field="file"
                )
            doc = [{"agent_id": key, **value} for key, value in doc.items()]
        df = records_frame(doc, what="agent-metrics.json")
        for col in [c for c in df.columns if c.lower().endswith(("timestamp", "createdat", "lastactive"))]:
            if pd.api.types.is_numeric_dtype(df[col]):
                df[col] = epoch_ms_to_iso(df[col])
        return df


@register
class SystemMetricsImporter(Importer):
    name = "claude-flow-system"
    description = "claude-flow .claude-flow/metrics/system-metrics.json: [{timestamp, memory*, cpuCount, cpuLoad, ...}]"
    priority = 5

    def sniff(self, probe: Probe) -> bool:
        return _records_with(probe.json_doc, {"timestamp", "cpuLoad"}) or _records_with(
            probe.json_doc, {"timestamp", "memoryUsagePercent"}
        )

    def read(self, path: Path) -> pd.DataFrame:
        df = records_frame(self.json(path), what="system-metrics.json")
        df["timestamp"] = epoch_ms_to_iso(df["timestamp"])
        return df


@register
class PerformanceImporter(Importer):
    name = "claude-flow-performance"
    description = "claude-flow .claude-flow/metrics/performance.json: one snapshot of counters per row"
    priority = 5

    def sniff(self, probe: Probe) -> bool:
        doc = probe.json_doc
        return (isinstance(doc, dict) and {"startTime", "totalTasks"} <= set(doc)) or _records_with(
            doc, {"startTime", "totalTasks"}
        )

    def read(self, path: Path) -> pd.DataFrame:
        doc = self.json(path)
        df = records_frame([doc] if isinstance(doc, dict) else doc, what="performance.json")
        df["startTime"] = epoch_ms_to_iso(df["startTime"])
        return df


@register
class RoutingOutcomesImporter(Importer):
    name = "claude-flow-routing"
    description = "claude-flow .swarm/routing-outcomes.json: [{task, agent, success, quality, keywords, timestamp}]"
    default_target = "success"
    priority = 5

    def sniff(self, probe: Probe) -> bool:
        doc = probe.json_doc
        if isinstance(doc, dict) and isinstance(doc.get("outcomes"), list):
            doc = doc["outcomes"]
        return _records_with(doc, {"task", "agent", "success"})

    def read(self, path: Path) -> pd.DataFrame:
        doc = self.json(path)
        if isinstance(doc, dict) and isinstance(doc.get("outcomes"), list):
            doc = doc["outcomes"]
        df = records_frame(doc, what="routing-outcomes.json")
        if "timestamp" in df.columns and pd.api.types.is_numeric_dtype(df["timestamp"]):
            df["timestamp"] = epoch_ms_to_iso(df["timestamp"])
        return df


MEMORY_COLUMNS = ("key", "value", "namespace", "created_at")
TASK_KEY = re.compile(r"task[:/_-]([^:]+)")


@register
class MemoryDbImporter(Importer):
    """Joins the pre-task and post-task hook entries by task id: one row per task."""

    name = "claude-flow-memory"
    description = "claude-flow .swarm/memory.db SQLite: hooks:pre-task / hooks:post-task entries joined by taskId"
    default_target = "success"
    priority = 8

    def sniff(self, probe: Probe) -> bool:
        return "memory_entries" in probe.sqlite_tables

    def read(self, path: Path) -> pd.DataFrame:
        require_tables(path, {"memory_entries"}, what="claude-flow memory")
        with sqlite_connect(path) as conn:
            check_sqlite_tables(conn, {"memory_entries"}, what="claude-flow memory")
            found = [row[1] for row in conn.execute("PRAGMA table_info(memory_entries)")]
            missing = [c for c in MEMORY_COLUMNS if c not in found]
            if missing:
                raise DataError(
                    f"memory.db's memory_entries table lacks column(s) {', '.join(missing)} "
                    f"(found: {', '.join(found) or 'none'})",
                    field="file",
                )
            entries = pd.read_sql_query(
                "SELECT key, value, namespace, created_at FROM memory_entries "
                "WHERE namespace IN ('hooks:pre-task', 'hooks:post-task') ORDER BY created_at",
                conn,
            )
        if entries.empty:
            raise DataError(
                "memory.db has no hooks:pre-task or hooks:post-task entries in memory_entries", field="file"
            )
        pre, post = {}, {}
        for row in entries.itertuples(index=False):
            value = _json_object(row.value)
            task_id = value.get("taskId") or _task_id_from_key(row.key)
            if not task_id:
                continue
            value.setdefault("_created_at", row.created_at)
            (pre if row.namespace == "hooks:pre-task" else post)[task_id] = value
        rows = [_task_row(task_id, pre.get(task_id, {}), post.get(task_id)) for task_id in dict.fromkeys([*pre, *post])]
        return pd.DataFrame(rows)


def _json_object(text: Any) -> dict:
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _task_id_from_key(key: str) -> str | None:
    match = TASK_KEY.search(key or "")
    return match.group(1) if match else None


def _when(value: dict, *keys: str) -> pd.Timestamp | None:
    """The first of ``keys`` as a UTC time; numbers are epoch milliseconds (or seconds when small)."""
    for key in (*keys, "_created_at"):
        raw = value.get(key)
        if raw is None:
            continue
        if isinstance(raw, (int, float)):
            return pd.Timestamp(raw, unit="ms" if raw > 1e11 else "s", tz="UTC")
        parsed = pd.to_datetime(raw, utc=True, errors="coerce")
        if not pd.isna(parsed):
            return parsed
    return None


def _task_row(task_id: str, pre: dict, post: dict | None) -> dict:
    started = _when(pre, "startedAt", "timestamp", "startTime")
    finished = _when(post, "completedAt", "endedAt", "timestamp") if post else None
    status = str((post or {}).get("status") or ("completed" if post else "incomplete")).lower()
    success = (post or {}).get("success")
    if success is None:
        success = post is not None and status in ("completed", "success", "succeeded", "done")
    duration = (post or {}).get("duration") or (post or {}).get("durationMs")
    if duration is None and started is not None and finished is not None:
        duration = (finished - started).total_seconds() * 1000
    return {
        "task_id": task_id,
        "description": pre.get("description"),
        "agent_id": pre.get("agentId") or (post or {}).get("agentId"),
        "agent_type": pre.get("agentType") or (post or {}).get("agentType"),
        "started_at": started.isoformat() if started is not None else None,
        "duration_ms": float(duration) if duration is not None else None,
        "outcome": status,
        "success": bool(success),
    }
