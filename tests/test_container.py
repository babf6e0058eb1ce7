"""The container files, checked where docker is not installed: every path the Dockerfile copies
exists, the compose stack has its five services and runs the Procfile's commands, and the CI
example's commands parse with the real command parsers."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import load_command_class
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "github-actions" / "neural-ci.yml"


def dockerfile() -> list[str]:
    """Instructions, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def procfile() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def normalise(command: str) -> str:
    return re.sub(r"\$\{PORT(:-8000)?\}", "8000", command).strip()


def test_it_copies_only_paths_that_exist_and_the_dockerignore_keeps():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    copies = [line for line in dockerfile() if line.startswith("COPY") and "--from=" not in line]
    assert copies
    for line in copies:
        *sources, _dest = [part for part in shlex.split(line)[1:] if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
            assert source not in ignored, f".dockerignore drops {source}, which the Dockerfile copies"


def test_it_builds_in_two_stages_with_cpu_torch_as_a_non_root_user_and_a_healthcheck():
    lines = dockerfile()
    stages = [line for line in lines if line.startswith("FROM")]
    assert len(stages) >= 2 and any("--from=build" in line for line in lines)
    pinned = re.search(r"^torch==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert any(f"download.pytorch.org/whl/cpu torch=={pinned}" in line for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)


def test_it_runs_the_procfile_commands_in_the_compose_stack():
    stack, processes = compose(), procfile()
    services = stack["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert stack["x-app"]["build"] == "." and (ROOT / "Dockerfile").is_file()
    for name in ("worker", "beat"):
        assert normalise(services[name]["command"]) == normalise(processes[name])
    cmd = next(line for line in dockerfile() if line.startswith("CMD"))
    web = normalise(processes["web"])
    assert web in normalise(cmd.replace("${PORT}", "8000")), "the image's CMD is not the Procfile's web"
    release = processes["release"].split(" && ")
    assert all(step in cmd for step in release), "the image's CMD skips the Procfile's release steps"


def steps() -> list[str]:
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["train-validate-deploy"]
    assert job["services"]["postgres"]["image"].startswith("postgres")
    return [step["run"] for step in job["steps"] if "run" in step]


def manage_commands() -> list[list[str]]:
    found = []
    for script in steps():
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("python manage.py "):
                found.append(shlex.split(line)[2:])
    return found


def test_it_runs_the_seed_ci_sequence_in_order_in_the_example_workflow():
    names = [" ".join(argv[:2]) for argv in manage_commands()]
    order = ["neural setup", "neural train", "neural validate", "neural deploy"]
    positions = [names.index(n) for n in order]
    assert positions == sorted(positions)
    assert manage_commands()[positions[1]][2:] == ["--config", ".neural-training.yml", "--wait"]


@pytest.mark.parametrize("argv", manage_commands(), ids=lambda a: " ".join(a[:2]))
def test_it_uses_flags_the_commands_accept(argv):
    app = "django.core" if argv[0] == "migrate" else "neural"
    parser = load_command_class(app, argv[0]).create_parser("manage.py", argv[0])
    try:
        parser.parse_args(argv[1:])
    except CommandError as exc:  # argparse's error under call-from-code
        pytest.fail(f"{' '.join(argv)}: {exc}")


def test_it_installs_the_files_the_workflow_names():
    for script in steps():
        for match in re.findall(r"-r (\S+)", script):
            assert (ROOT / match).is_file()
