"""Artifacts: zstd compression, backup copies, and the portable archive of `neural save` / `load`."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.engine.archive import compression_from_config
from neural.errors import ArtifactIntegrityError
from neural.registry.models import ActivationEvent, ModelVersion
from neural.serving.services import predict
from tests.factories import train_here


def run(*args) -> dict:
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def _train(dataset, user, name: str, storage: dict):
    train_here(dataset=dataset, model_name=name, epochs=2, user=user, model_storage=storage)
    return ModelVersion.objects.get(model__name=name)


def _rows(dataset, n=3):
    from neural.datasets.services import dataset_load_frame

    frame = dataset_load_frame(dataset)
    features = [c["name"] for c in dataset.schema if not c["excluded"] and c["name"] != dataset.target]
    return json.loads(frame[features].head(n).to_json(orient="records", date_format="iso"))


def test_it_compresses_and_backs_up_and_predicts_the_same(dataset, user, settings, tmp_path):
    backup = tmp_path / "backups"
    plain = _train(dataset, user, "plain", {})
    packed = _train(dataset, user, "packed", {"compression": "zstd", "backup": str(backup)})
    folder = Path(settings.MODEL_STORAGE_PATH) / packed.artifact_path
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "model.json", "weights.safetensors.zst"]
    assert packed.compression == "zstd"
    assert sorted(p.name for p in (backup / "packed" / "v1").iterdir()) == sorted(p.name for p in folder.iterdir())
    assert (backup / "packed" / "v1" / "SHA256SUMS").read_bytes() == (folder / "SHA256SUMS").read_bytes()
    rows = _rows(dataset)
    # Same data, same seed: the compressed model answers exactly like the plain one.
    assert [r["probabilities"] for r in predict(model_ref="plain", records=rows)[1]] == [
        r["probabilities"] for r in predict(model_ref="packed", records=rows)[1]
    ]
    assert plain.size_bytes > 0 and packed.size_bytes > 0


def test_it_reads_compression_settings_defensively():
    assert compression_from_config(None) == "none" and compression_from_config(False) == "none"
    assert compression_from_config(True) == "zstd" and compression_from_config("ZSTD") == "zstd"
    with pytest.raises(ArtifactIntegrityError):
        compression_from_config("gzip")


def test_save_and_load_round_trip(trained, tmp_path):
    archive = tmp_path / "coord.tar"
    saved = run("neural", "save", "--model", "coord-model", "--path", str(archive))
    assert saved["version"] == "v1" and archive.is_file()
    loaded = run("neural", "load", "--path", str(archive), "--name", "copy")
    assert loaded == {"model": "copy", "version": "v1", "active": True}
    rows = _rows(trained.dataset)
    original = predict(model_ref="coord-model", records=rows)[1]
    copy = predict(model_ref="copy", records=rows)[1]
    assert [r["probabilities"] for r in original] == [r["probabilities"] for r in copy]
    assert ActivationEvent.objects.filter(model_name="copy", action="import").exists()
    again = run("neural", "load", "--path", str(archive), "--name", "copy")
    assert again == {"model": "copy", "version": "v2", "active": False}


def _rewrite(src: Path, dest: Path, change) -> None:
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for info in tin:
            data = tin.extractfile(info).read()
            data = change(info.name, data)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


def _refused(path: Path, words: str) -> None:
    with pytest.raises(CommandError) as err:
        call_command("neural", "load", "--path", str(path), "--name", "bad")
    assert err.value.returncode == 2 and words in str(err.value), str(err.value)
    assert not ModelVersion.objects.filter(model__name="bad").exists()


def test_load_refuses_tampered_truncated_and_foreign_archives(trained, tmp_path, settings):
    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))

    def flip_weight_byte(name, data):
        if name == "files/weights.safetensors":
            return data[:-1] + bytes([data[-1] ^ 1])
        return data

    _rewrite(good, tampered := tmp_path / "tampered.tar", flip_weight_byte)
    _refused(tampered, "checksum mismatch for files/weights.safetensors")

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _refused(truncated, "truncated")

    def future_format(name, data):
        if name == "manifest.json":
            return json.dumps({**json.loads(data), "format_version": 99}).encode()
        return data

    _rewrite(good, future := tmp_path / "future.tar", future_format)
    _refused(future, "checksum mismatch for manifest.json")  # the sums cover the manifest too

    not_tar = tmp_path / "model.pt"
    not_tar.write_bytes(b"\x80\x04\x95not a tar but a pickle")
    _refused(not_tar, "not a readable model archive")
    leftovers = [p for p in Path(settings.MODEL_STORAGE_PATH).iterdir() if p.name.startswith(".import-")]
    assert leftovers == []


def test_load_refuses_an_unsupported_format_version_with_valid_sums(trained, tmp_path):
    from hashlib import sha256

    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    with tarfile.open(good) as tar:
        members = {i.name: tar.extractfile(i).read() for i in tar}
    members["manifest.json"] = json.dumps({**json.loads(members["manifest.json"]), "format_version": 99}).encode()
    members["SHA256SUMS"] = "".join(
        f"{sha256(d).hexdigest()}  {n}\n" for n, d in sorted(members.items()) if n != "SHA256SUMS"
    ).encode()
    future = tmp_path / "future.tar"
    with tarfile.open(future, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _refused(future, "archive format version 99 is not supported")


def test_save_refuses_a_version_whose_files_were_altered(trained, tmp_path, settings):
    version = ModelVersion.objects.get(model__name="coord-model")
    weights = Path(settings.MODEL_STORAGE_PATH) / version.artifact_path / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CommandError) as err:
        call_command("neural", "save", "--model", "coord-model", "--path", str(tmp_path / "x.tar"))
    assert "altered or truncated" in str(err.value) and not (tmp_path / "x.tar").exists()
