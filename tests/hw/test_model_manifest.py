"""models/manifest.toml and the check every model file passes before it is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from paths import MODEL_PATH
from posehelpers import needs_model
from station.cli import main
from station.config import load_config
from station.errors import ModelError
from station.hw.pose import load_pose_model
from station.models import load_manifest, sha256_of, verify_model
from videotools import write_video

LIGHTNING = "movenet_singlepose_lightning_int8.tflite"


def test_manifest_lists_every_single_pose_variant() -> None:
    manifest = load_manifest()
    files = {e.file for e in manifest.entries}
    assert files == {
        LIGHTNING,
        "movenet_singlepose_thunder_int8.tflite",
        "movenet_singlepose_lightning_float16.tflite",
        "movenet_singlepose_thunder_float16.tflite",
    }
    for entry in manifest.entries:
        assert entry.url.startswith("https://") and entry.licence == "Apache-2.0"
        assert entry.input_size_px == (256 if "thunder" in entry.file else 192)
        assert entry.input_dtype == "uint8"
    default = manifest.default_entry()
    assert default.file == LIGHTNING and default.has_checksum
    assert default.size_bytes == 2_894_840 and len(default.sha256) == 64


@needs_model
def test_real_lightning_file_matches_its_entry() -> None:
    entry = verify_model(MODEL_PATH)
    assert entry is not None and entry.file == LIGHTNING
    assert sha256_of(MODEL_PATH) == entry.sha256


def test_missing_model_says_which_file_what_and_how(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        verify_model(tmp_path / LIGHTNING)
    message = str(err.value)
    assert str(tmp_path / LIGHTNING) in message and "missing" in message
    assert "2,894,840 bytes" in message and "sudo ./setup.sh --model PATH" in message
    assert "tfhub.dev" in message


@needs_model
def test_truncated_model_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / LIGHTNING
    copy.write_bytes(MODEL_PATH.read_bytes()[:1_000_000])
    with pytest.raises(ModelError, match=r"truncated: 1,000,000 bytes, expected 2,894,840"):
        verify_model(copy)


@needs_model
def test_corrupt_model_is_refused_by_checksum(tmp_path: Path) -> None:
    data = bytearray(MODEL_PATH.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy = tmp_path / LIGHTNING
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"corrupt: sha256 [0-9a-f]{64}, expected cd7cc22f"):
        verify_model(copy)


@needs_model
def test_renamed_copy_is_recognised_by_checksum(tmp_path: Path) -> None:
    copy = tmp_path / "pose.tflite"
    shutil.copyfile(MODEL_PATH, copy)
    entry = verify_model(copy)
    assert entry is not None and entry.file == LIGHTNING


def test_unlisted_model_is_refused_unless_verification_is_off(tmp_path: Path) -> None:
    odd = tmp_path / "someone_elses_model.tflite"
    odd.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match=r"not in the manifest .* verify = false"):
        verify_model(odd)


def test_listed_variant_without_checksum_still_fails_cleanly_when_bad(tmp_path: Path) -> None:
    """Thunder's checksum is not recorded: it loads unverified, and junk bytes are a ModelError."""
    junk = tmp_path / "movenet_singlepose_thunder_int8.tflite"
    junk.write_bytes(b"\0" * 4096)
    assert verify_model(junk) is None
    settings = load_config(flags={"pose.model": str(junk)}).pose
    with pytest.raises(ModelError, match=str(junk)):
        load_pose_model(settings)


@needs_model
def test_cli_reports_a_truncated_model_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / LIGHTNING
    copy.write_bytes(MODEL_PATH.read_bytes()[:500])
    video = tmp_path / "clip.mp4"
    write_video(video, [np.zeros((64, 64, 3), dtype=np.uint8)] * 2)
    status = main(["replay", str(video), "--model", str(copy)])
    err = capsys.readouterr().err
    assert status == 78
    assert "truncated" in err and str(copy) in err and len(err.strip().splitlines()) == 1
