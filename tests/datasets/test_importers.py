"""Every format imports through the CLI and the API, detected or named, from files in the real shapes."""

from __future__ import annotations

import io
import json
import shutil
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.datasets.importers import REGISTRY, detect, read_file
from neural.datasets.models import Dataset
from tests.datasets import formats


def cli(*args) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def upload(api, path, **fields):
    data = {"name": "up", "pattern": "prediction", **fields}
    data["file"] = io.BytesIO(path.read_bytes())
    data["file"].name = path.name
    return api.post("/api/v1/neural/datasets", data, format="multipart")


def csv_file(tmp_path, sep=",", encoding="utf-8"):
    lines = [sep.join(["load", "city", "ok"])]
    for i in range(40):
        lines.append(sep.join([str(i % 7), ["Zürich", "Malmö", "Köln"][i % 3], str(int(i % 7 > 3))]))
    path = tmp_path / "ops.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def frame_file(tmp_path, kind):
    df = pd.DataFrame(
        {"load": [i % 7 for i in range(40)], "queue": ["a", "b"] * 20, "ok": [i % 3 == 0 for i in range(40)]}
    )
    path = tmp_path / f"ops.{kind}"
    if kind == "json":
        df.to_json(path, orient="records")
    elif kind == "jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_parquet(path)
    return path


BUILDERS = {
    "claude-flow-tasks": lambda d: formats.task_metrics(d / "task-metrics.json"),
    "claude-flow-routing": lambda d: formats.routing_outcomes(d / "routing-outcomes.json"),
    "claude-flow-memory": lambda d: formats.memory_db(d / "memory.db"),
    "ruv-swarm": lambda d: formats.ruv_swarm_db(d / "ruv-swarm.db"),
    "photondrift-report": lambda d: formats.photondrift_report(d / "drift-report.json"),
    "fann": lambda d: formats.fann(d / "xor.data"),
    "json": lambda d: frame_file(d, "json"),
    "jsonl": lambda d: frame_file(d, "jsonl"),
    "parquet": lambda d: frame_file(d, "parquet"),
    "csv": lambda d: csv_file(d),
}
TARGETS = {"json": "ok", "jsonl": "ok", "parquet": "ok", "csv": "ok"}


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_it_detects_and_imports_each_format_through_the_cli(db, tmp_path, fmt):
    path = BUILDERS[fmt](tmp_path)
    assert detect(path).name == fmt
    extra = ["--target", TARGETS[fmt]] if fmt in TARGETS else []
    body = cli("data", "import", "--name", "imp", "--file", str(path), *extra)
    assert body["format"] == fmt and body["rows"] > 0
    named = cli("data", "import", "--name", "imp", "--file", str(path), "--format", fmt, *extra)
    assert named["sha256"] == body["sha256"] and named["version"] == 2


@pytest.mark.parametrize("fmt", ["claude-flow-memory", "ruv-swarm", "fann", "jsonl"])
def test_it_imports_formats_through_the_api(api, tmp_path, fmt):
    path = BUILDERS[fmt](tmp_path)
    res = upload(api, path, **({"target": TARGETS[fmt]} if fmt in TARGETS else {}))
    assert res.status_code == 201, res.json()
    assert res.json()["source_format"] == fmt


def test_it_reads_the_shared_claude_flow_samples():
    system, importer = read_file(formats.SHARED / "claude-flow-system-metrics.json")
    assert importer.name == "claude-flow-system" and len(system) == 75
    assert system["timestamp"].iloc[0].startswith("2025-08-06T")
    assert system["memoryUsagePercent"].between(0, 100).all()
    tasks, importer = read_file(formats.SHARED / "claude-flow-task-metrics.json")
    assert importer.name == "claude-flow-tasks"
    assert tasks.loc[0, "duration_ms"] == pytest.approx(71.112224) and bool(tasks.loc[0, "success"])
    perf, importer = read_file(formats.SHARED / "claude-flow-performance.json")
    assert importer.name == "claude-flow-performance" and perf.loc[0, "totalTasks"] == 1


def test_it_imports_the_shared_system_metrics_with_a_numeric_target(db):
    body = cli(
        "data",
        "import",
        "--name",
        "sys",
        "--file",
        str(formats.SHARED / "claude-flow-system-metrics.json"),
        "--target",
        "cpuLoad",
    )
    assert body["rows"] == 75 and body["task"] == "regression"


def test_it_joins_pre_and_post_task_hooks_into_one_row_per_task(tmp_path):
    df, _ = read_file(formats.memory_db(tmp_path / "memory.db", n=30))
    assert len(df) == 30 and df["task_id"].is_unique
    row = df.set_index("task_id").loc["task-001"]
    assert row["outcome"] == "completed" and bool(row["success"]) and row["duration_ms"] == pytest.approx(11_000)
    assert df.set_index("task_id").loc["task-003", "outcome"] == "failed"
    unfinished = df.set_index("task_id").loc["task-004"]
    assert unfinished["outcome"] == "incomplete" and not unfinished["success"]


def test_it_joins_ruv_swarm_results_with_tasks_agents_and_metrics(tmp_path):
    df, _ = read_file(formats.ruv_swarm_db(tmp_path / "swarm.db", n=12))
    assert len(df) == 12
    row = df.set_index("task_id").loc["t5"]
    assert row["agent_type"] == "tester" and row["agent_metric_cpu_usage"] == 10.0 and bool(row["success"])
    assert not df.set_index("task_id").loc["t4", "success"]


def test_it_flattens_photondrift_items_and_keeps_tag_lists_as_json(tmp_path):
    df, _ = read_file(formats.photondrift_report(tmp_path / "r.json", n=6))
    assert {"severity", "category", "location.file_path", "location.line_number"} <= set(df.columns)
    routing, _ = read_file(formats.routing_outcomes(tmp_path / "routing-outcomes.json", n=6))
    assert json.loads(routing.loc[0, "keywords"]) == ["api", "auth"]


def test_it_reads_fann_inputs_and_outputs(tmp_path):
    df, importer = read_file(formats.fann(tmp_path / "xor.data", n=8))
    assert list(df.columns) == ["x0", "x1", "x2", "y0"] and len(df) == 8 and importer.default_target == "y0"
    assert df.loc[3, "y0"] == 0 and df.loc[1, "y0"] == 1


@pytest.mark.parametrize(("sep", "encoding"), [(",", "utf-8"), (";", "latin-1"), ("\t", "utf-8"), ("|", "latin-1")])
def test_it_detects_csv_delimiter_and_encoding(tmp_path, sep, encoding):
    df, _ = read_file(csv_file(tmp_path, sep, encoding))
    assert list(df.columns) == ["load", "city", "ok"] and set(df["city"]) == {"Zürich", "Malmö", "Köln"}


def test_every_registered_format_has_a_test_here():
    assert set(REGISTRY) - set(BUILDERS) <= {"claude-flow-agents", "claude-flow-system", "claude-flow-performance"}


def test_it_reads_agent_metrics_keyed_by_agent(tmp_path):
    df, importer = read_file(formats.agent_metrics(tmp_path / "agent-metrics.json"))
    assert importer.name == "claude-flow-agents" and len(df) == 6 and df["agent_id"].is_unique


def test_it_refuses_a_format_that_does_not_match_the_file(db, tmp_path):
    path = shutil.copy(formats.SHARED / "claude-flow-system-metrics.json", tmp_path / "x.json")
    with pytest.raises(CommandError, match=r"missing table|not a readable SQLite"):
        call_command("data", "import", "--name", "x", "--file", str(path), "--format", "ruv-swarm")
    assert Dataset.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "claude-flow-tasks", "photondrift-report"])
def test_a_detected_json_file_is_parsed_once(tmp_path, fmt, monkeypatch):
    path = BUILDERS[fmt](tmp_path)
    parsed = []
    real = json.loads
    monkeypatch.setattr(json, "loads", lambda *a, **k: parsed.append(1) or real(*a, **k))
    df, importer = read_file(path)
    assert importer.name == fmt and len(df) and len(parsed) == 1
