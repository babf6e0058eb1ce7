"""Files in the exact shapes real tools write, built small inside the tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "formats"
if not SHARED.exists():
    SHARED = Path("/work/shared/data/formats")


def task_metrics(path: Path, n: int = 40) -> Path:
    rows = [
        {
            "id": f"cmd-hooks-{1754499740208 + i}",
            "type": ["hooks", "swarm", "sparc"][i % 3],
            "success": i % 4 != 0,
            "duration": 50.0 + 7.5 * i,
            "timestamp": 1754499740279 + 1000 * i,
            "metadata": {"agent": f"agent-{i % 5}"} if i % 2 else {},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(rows, indent=2))
    return path


def routing_outcomes(path: Path, n: int = 30) -> Path:
    rows = [
        {
            "task": f"implement feature {i}",
            "agent": ["coder", "tester", "reviewer"][i % 3],
            "success": i % 3 != 1,
            "quality": round(0.5 + (i % 5) / 10, 2),
            "keywords": [["api", "auth"], ["test"], ["review", "docs"]][i % 3],
            "timestamp": 1754499740279 + 60000 * i,
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(rows))
    return path


def agent_metrics(path: Path) -> Path:
    agents = {
        f"agent-{i}": {"agentType": ["coder", "tester"][i % 2], "tasksCompleted": 3 * i, "successRate": 0.5 + i / 20}
        for i in range(6)
    }
    path.write_text(json.dumps(agents))
    return path


def memory_db(path: Path, n: int = 30) -> Path:
    """claude-flow's .swarm/memory.db: table memory_entries with hook namespaces."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE memory_entries (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL,"
        " namespace TEXT NOT NULL DEFAULT 'default', metadata TEXT, created_at INTEGER DEFAULT (strftime('%s','now')),"
        " updated_at INTEGER, accessed_at INTEGER, access_count INTEGER DEFAULT 0, ttl INTEGER, expires_at INTEGER,"
        " UNIQUE(key, namespace))"
    )
    start = 1754499740
    for i in range(n):
        task_id = f"task-{i:03d}"
        pre = {
            "taskId": task_id,
            "description": f"build part {i}",
            "agentType": ["coder", "tester"][i % 2],
            "status": "started",
            "startedAt": f"2025-08-06T17:{i:02d}:00.000Z",
        }
        conn.execute(
            "INSERT INTO memory_entries (key, value, namespace, created_at) VALUES (?, ?, ?, ?)",
            (f"task:{task_id}", json.dumps(pre), "hooks:pre-task", start + 60 * i),
        )
        if i % 5 == 4:
            continue  # never finished
        post = {
            "taskId": task_id,
            "status": "failed" if i % 3 == 0 else "completed",
            "completedAt": f"2025-08-06T17:{i:02d}:{10 + i % 40:02d}.000Z",
        }
        conn.execute(
            "INSERT INTO memory_entries (key, value, namespace, created_at) VALUES (?, ?, ?, ?)",
            (f"task:{task_id}:completed", json.dumps(post), "hooks:post-task", start + 60 * i + 10),
        )
    conn.execute(
        "INSERT INTO memory_entries (key, value, namespace) VALUES ('cmd-1', '{\"command\": \"ls\"}', "
        "'command-history')"
    )
    conn.commit()
    conn.close()
    return path


def ruv_swarm_db(path: Path, n: int = 30) -> Path:
    """ruv-swarm's SQLite: tasks, task_results, agents, metrics (and events)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE agents (id TEXT PRIMARY KEY, swarm_id TEXT, name TEXT, type TEXT, status TEXT,
            capabilities TEXT, neural_config TEXT, metrics TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE tasks (id TEXT PRIMARY KEY, swarm_id TEXT, description TEXT, status TEXT, priority TEXT,
            dependencies TEXT, assigned_agents TEXT, result TEXT, error TEXT,
            created_at DATETIME DEFAULT CURRENT_TIMESTAMP, completed_at DATETIME, execution_time_ms INTEGER);
        CREATE TABLE task_results (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT, agent_id TEXT, output TEXT,
            metrics TEXT, execution_time_ms INTEGER, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, entity_type TEXT, entity_id TEXT,
            metric_name TEXT, metric_value REAL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, swarm_id TEXT, event_type TEXT, event_data TEXT,
            timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
        """
    )
    for a in range(4):
        conn.execute(
            "INSERT INTO agents (id, swarm_id, name, type, status) VALUES (?, 's1', ?, ?, 'idle')",
            (f"agent-{a}", f"a{a}", ["coder", "tester", "analyst", "optimizer"][a]),
        )
        conn.execute(
            "INSERT INTO metrics (entity_type, entity_id, metric_name, metric_value) VALUES "
            "('agent', ?, 'cpu_usage', ?)",
            (f"agent-{a}", 10.0 * a),
        )
    for i in range(n):
        failed = i % 4 == 0
        conn.execute(
            "INSERT INTO tasks (id, swarm_id, description, status, priority, assigned_agents, error, execution_time_ms)"
            " VALUES (?, 's1', ?, ?, ?, ?, ?, ?)",
            (
                f"t{i}",
                f"task {i}",
                "failed" if failed else "completed",
                ["low", "medium", "high"][i % 3],
                json.dumps([f"agent-{i % 4}"]),
                "timeout" if failed else None,
                100 + 10 * i,
            ),
        )
        conn.execute(
            "INSERT INTO task_results (task_id, agent_id, output, execution_time_ms) VALUES (?, ?, ?, ?)",
            (f"t{i}", f"agent-{i % 4}", "ok", 100 + 10 * i),
        )
    conn.commit()
    conn.close()
    return path


def photondrift_report(path: Path, n: int = 24) -> Path:
    """The sample drift report (shared/data/formats) with items[] filled in the tool's item shape."""
    report = json.loads((SHARED / "drift-analysis-post-docker.json").read_text())
    report["items"] = [
        {
            "id": f"drift-{i}",
            "severity": ["High", "Medium", "Low"][i % 3],
            "category": ["NewTechnology", "ConfigurationDrift", "DeprecatedPattern"][i % 3],
            "title": f"finding {i}",
            "description": "Docker usage not covered by an ADR",
            "location": {"file_path": f"src/mod{i % 4}.rs", "line_number": 10 + i, "column": 1},
            "detected_at": "2025-07-21T00:15:04Z",
        }
        for i in range(n)
    ]
    report["total_items"] = n
    path.write_text(json.dumps(report))
    return path


def fann(path: Path, n: int = 24) -> Path:
    lines = [f"{n} 3 1"]
    for i in range(n):
        lines.append(f"{i % 2} {(i // 2) % 2} {i / n:.3f}")
        lines.append(f"{(i % 2) ^ ((i // 2) % 2)}")
    path.write_text("\n".join(lines) + "\n")
    return path
