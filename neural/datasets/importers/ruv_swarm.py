"""ruv-swarm's SQLite database: one row per task result (task x agent), with the agent and its metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neural.datasets.importers.base import (
    Importer,
    Probe,
    check_sqlite_tables,
    register,
    require_tables,
    sqlite_connect,
)
from neural.errors import DataError

TABLES = {"tasks", "task_results", "agents", "metrics"}
DONE = {"completed", "success", "succeeded", "done"}


@register
class RuvSwarmImporter(Importer):
    name = "ruv-swarm"
    description = "ruv-swarm SQLite (tasks, task_results, agents, metrics): one row per task result"
    default_target = "success"
    priority = 8

    def sniff(self, probe: Probe) -> bool:
        return {"tasks", "agents"} <= probe.sqlite_tables

    def read(self, path: Path) -> pd.DataFrame:
        require_tables(path, TABLES, what="ruv-swarm")
        with sqlite_connect(path) as conn:
            check_sqlite_tables(conn, {"tasks", "task_results", "agents", "metrics"}, what="ruv-swarm")
            tasks = pd.read_sql_query("SELECT * FROM tasks", conn)
            results = pd.read_sql_query("SELECT * FROM task_results", conn)
            agents = pd.read_sql_query("SELECT * FROM agents", conn)
            metrics = pd.read_sql_query("SELECT * FROM metrics", conn)
        if tasks.empty:
            raise DataError("ruv-swarm database has no rows in table tasks", field="file")
        tasks = _prefixed(tasks, "task_", key="id", key_name="task_id")
        agents = _prefixed(agents, "agent_", key="id", key_name="agent_id")
        if results.empty:
            frame = tasks.copy()
        else:
            results = results.rename(
                columns={c: f"result_{c}" for c in results.columns if c not in ("task_id", "agent_id")}
            )
            frame = results.merge(tasks, on="task_id", how="left")
        if "agent_id" in frame.columns:
            frame = frame.merge(agents, on="agent_id", how="left")
        frame = frame.merge(_agent_metrics(metrics), on="agent_id", how="left") if "agent_id" in frame else frame
        status = frame.get("task_status", pd.Series("", index=frame.index)).astype(str).str.lower()
        error = frame.get("task_error", pd.Series(None, index=frame.index))
        frame["success"] = status.isin(DONE) & error.isna()
        return frame


def _prefixed(df: pd.DataFrame, prefix: str, *, key: str, key_name: str) -> pd.DataFrame:
    return df.rename(
        columns={c: (key_name if c == key else c if c.startswith(prefix) else f"{prefix}{c}") for c in df.columns}
    )


def _agent_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Each agent's mean of each metric, as ``agent_metric_<name>`` columns."""
    needed = {"entity_type", "entity_id", "metric_name", "metric_value"}
    if metrics.empty or not needed <= set(metrics.columns):
        return pd.DataFrame({"agent_id": pd.Series(dtype="str")})
    agent_rows = metrics[metrics["entity_type"].astype(str).str.lower() == "agent"]
    if agent_rows.empty:
        return pd.DataFrame({"agent_id": pd.Series(dtype="str")})
    wide = agent_rows.pivot_table(index="entity_id", columns="metric_name", values="metric_value", aggfunc="mean")
    wide.columns = [f"agent_metric_{c}" for c in wide.columns]
    return wide.reset_index().rename(columns={"entity_id": "agent_id"})
