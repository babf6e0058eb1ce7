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
from neural.errors import ArtifactIntegrityError, DataError
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
    backup = Path(settings.MODEL_STORAGE_PATH) / "backups"
    plain = _train(dataset, user, "plain", {})
    packed = _train(dataset, user, "packed", {"compression": "zstd", "backup": "backups"})
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


def test_load_names_the_network_of_an_archive_written_before_tabm_became_the_default(trained, tmp_path):
    good, old = tmp_path / "good.tar", tmp_path / "old.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    network = ModelVersion.objects.get(model__name="coord-model").config["architecture"]

    def drop_architecture(members: dict) -> None:
        from hashlib import sha256

        meta = json.loads(members["files/model.json"])
        del meta["config"]["architecture"]
        members["files/model.json"] = json.dumps(meta).encode()
        sums = members["files/SHA256SUMS"].decode().splitlines()
        members["files/SHA256SUMS"] = "".join(
            f"{sha256(members['files/model.json']).hexdigest()}  model.json\n"
            if line.endswith(" model.json")
            else f"{line}\n"
            for line in sums
        ).encode()

    _forge(good, old, drop_architecture)
    run("neural", "load", "--path", str(old), "--name", "old-model")
    assert ModelVersion.objects.get(model__name="old-model").config["architecture"] == network


def test_save_refuses_a_version_whose_files_were_altered(trained, tmp_path, settings):
    version = ModelVersion.objects.get(model__name="coord-model")
    weights = Path(settings.MODEL_STORAGE_PATH) / version.artifact_path / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CommandError) as err:
        call_command("neural", "save", "--model", "coord-model", "--path", str(tmp_path / "x.tar"))
    assert "altered or truncated" in str(err.value) and not (tmp_path / "x.tar").exists()


def _forge(good: Path, dest: Path, change) -> None:
    """Rewrite an archive's members with ``change(members)`` and sign them again (valid sums), as
    an attacker who writes their own archive would."""
    from hashlib import sha256

    with tarfile.open(good) as tar:
        members = {i.name: tar.extractfile(i).read() for i in tar}
    change(members)
    members["SHA256SUMS"] = "".join(
        f"{sha256(d).hexdigest()}  {n}\n" for n, d in sorted(members.items()) if n != "SHA256SUMS"
    ).encode()
    with tarfile.open(dest, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _manifest_name(name: str):
    def change(members: dict) -> None:
        manifest = json.loads(members["manifest.json"])
        manifest["model"]["name"] = name
        members["manifest.json"] = json.dumps(manifest).encode()

    return change


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/pd-absolute-escape", "team/a", ".hidden"])
def test_load_refuses_a_manifest_name_that_is_not_a_plain_name(trained, tmp_path, settings, name):
    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    _forge(good, forged := tmp_path / "forged.tar", _manifest_name(name))
    with pytest.raises(CommandError) as err:
        call_command("neural", "load", "--path", str(forged))
    assert err.value.returncode == 2 and "model.name" in str(err.value)
    root = Path(settings.MODEL_STORAGE_PATH)
    assert not (root.parent / "escaped").exists() and not (root.parent.parent / "escaped").exists()
    assert not Path("/tmp/pd-absolute-escape").exists()
    assert sorted(p.name for p in root.iterdir()) == ["coord-model"]


@pytest.mark.parametrize(
    "member",
    [
        "files/README",
        "files/model.pkl",
        "../evil",
        "/tmp/pd-evil",
        "files/../x",
        # an ensemble's member folders (archive.py: members/<i>/<a version's file>) admit no more
        "members/0/../../evil",
        "members/0/model.pkl",
        "members/100/model.json",
        "members/-1/model.json",
    ],
)
def test_load_refuses_a_member_a_version_does_not_have(trained, tmp_path, member):
    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    _forge(good, forged := tmp_path / "forged.tar", lambda members: members.update({member: b"\x80\x04K\x01."}))
    _refused(forged, "unexpected; refused")


def test_load_refuses_a_symlink_member(trained, tmp_path):
    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    linked = tmp_path / "linked.tar"
    with tarfile.open(good) as tin, tarfile.open(linked, "w") as tout:
        for info in tin:
            tout.addfile(info, tin.extractfile(info))
        link = tarfile.TarInfo("files/weights.safetensors.zst")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tout.addfile(link)
    _refused(linked, "not a regular file")


def test_load_never_replaces_a_folder_it_did_not_write(trained, tmp_path, settings):
    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))
    foreign = Path(settings.MODEL_STORAGE_PATH) / "bad" / "v1"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    _refused(good, "did not write")
    assert (foreign / "notes.txt").read_text() == "mine"


def test_delete_leaves_a_folder_outside_the_store_alone(trained, tmp_path, settings):
    """A row stored before names were checked may point outside the store: delete keeps to it."""
    outside = tmp_path / "outside" / "v1"
    outside.mkdir(parents=True)
    (outside / "keep.txt").write_text("not the product's")
    version = ModelVersion.objects.get(model__name="coord-model")
    ModelVersion.objects.filter(pk=version.pk).update(artifact_path=str(outside))
    run("neural", "delete", "--model", "coord-model", "--force")
    assert (outside / "keep.txt").read_text() == "not the product's"
    assert not ModelVersion.objects.filter(model__name="coord-model").exists()


def test_backup_must_stay_inside_the_model_store(dataset, user, tmp_path):
    from neural.training.services import training_config_build

    with pytest.raises(DataError) as err:
        training_config_build(options={"model_storage": {"backup": str(tmp_path / "elsewhere")}})
    assert err.value.field == "model_storage.backup"
    with pytest.raises(DataError):
        training_config_build(options={"model_storage": {"backup": "../../up"}})
    with pytest.raises(DataError) as err:
        training_config_build(options={"model_storage": {"path": "/etc"}})
    assert err.value.field == "model_storage.path"
    inside = training_config_build(options={"model_storage": {"backup": "copies"}})
    assert inside.model_storage["backup"] == "copies"


def test_load_of_a_bad_safetensors_file_is_one_line_and_leaves_nothing(
    trained, tmp_path, settings, capsys, monkeypatch
):
    """Checksums that match a file that is not safetensors (an archive made by hand) still fail cleanly."""
    from hashlib import sha256

    from django.core.management import ManagementUtility

    good = tmp_path / "good.tar"
    run("neural", "save", "--model", "coord-model", "--path", str(good))

    def garbage_weights(members: dict) -> None:
        members["files/weights.safetensors"] = b"\xff" * 64
        files = {n.removeprefix("files/"): d for n, d in members.items() if n.startswith("files/")}
        members["files/SHA256SUMS"] = "".join(
            f"{sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()) if n != "SHA256SUMS"
        ).encode()

    _forge(good, bad := tmp_path / "bad.tar", garbage_weights)
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "neural", "load", "--path", str(bad), "--name", "bad"]).execute()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "not a readable safetensors file" in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert sorted(p.name for p in Path(settings.MODEL_STORAGE_PATH).iterdir()) == ["coord-model"]
