"""The model manifest (models/manifest.toml) and the check every model file passes before loading.

A missing, truncated or corrupt file is a `ModelError` that names the file, says what was
expected, and how to get a good copy. Weights are never committed nor downloaded by the code.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from station.errors import ModelError

# Source checkout first (editable installs, CI); then where a packaged install would put it.
MANIFEST_CANDIDATES: tuple[Path, ...] = (
    Path(__file__).resolve().parent.parent / "models" / "manifest.toml",
    Path(sys.prefix) / "share" / "station" / "models" / "manifest.toml",
    Path("/usr/share/station/models/manifest.toml"),
)
INSTALL_HINT = "sudo ./setup.sh --model PATH"


@dataclass(frozen=True)
class ModelEntry:
    """One supported model: where it comes from and how to recognise its bytes."""

    name: str
    file: str
    url: str
    mirror: str
    sha256: str  # "" = not recorded yet
    size_bytes: int  # 0 = not recorded yet
    input_size_px: int
    input_dtype: str
    licence: str

    @property
    def has_checksum(self) -> bool:
        return bool(self.sha256) and self.size_bytes > 0

    def how_to_get(self) -> str:
        return f"download {self.url} (or {self.mirror}) and install it with `{INSTALL_HINT}`"


@dataclass(frozen=True)
class Manifest:
    """All supported models, and the default one."""

    default: str
    entries: tuple[ModelEntry, ...]

    def by_file(self, file_name: str) -> ModelEntry | None:
        return next((e for e in self.entries if e.file == file_name), None)

    def by_sha256(self, digest: str) -> ModelEntry | None:
        return next((e for e in self.entries if e.sha256 == digest), None)

    def default_entry(self) -> ModelEntry:
        return next(e for e in self.entries if e.name == self.default)


def manifest_path() -> Path:
    """The first manifest that exists; a ModelError if the installation lost it."""
    for path in MANIFEST_CANDIDATES:
        if path.is_file():
            return path
    raise ModelError(
        f"model manifest not found (looked in {', '.join(map(str, MANIFEST_CANDIDATES))}): reinstall the station"
    )


def load_manifest(path: Path | None = None) -> Manifest:
    """Read models/manifest.toml into a Manifest."""
    path = path or manifest_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = tuple(
            ModelEntry(
                name=name,
                file=str(t["file"]),
                url=str(t["url"]),
                mirror=str(t.get("mirror", "")),
                sha256=str(t.get("sha256", "")).lower(),
                size_bytes=int(t.get("bytes", 0)),
                input_size_px=int(t["input_size"]),
                input_dtype=str(t["input_dtype"]),
                licence=str(t["licence"]),
            )
            for name, t in data["models"].items()
        )
        manifest = Manifest(default=str(data["default"]), entries=entries)
        manifest.default_entry()
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, StopIteration) as exc:
        raise ModelError(f"model manifest {path} is unreadable ({exc!r}): reinstall the station") from None
    return manifest


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_model(path: Path, manifest: Manifest | None = None) -> ModelEntry | None:
    """Check a model file against the manifest before loading it; ModelError says what to do.

    Returns the matching entry, or None for a listed variant whose checksum is not recorded yet
    (the file then loads unverified: the manifest cannot say what its bytes should be).
    """
    manifest = manifest or load_manifest()
    entry = manifest.by_file(path.name)
    if not path.is_file():
        wanted = entry or manifest.default_entry()
        raise ModelError(
            f"model file {path} is missing: expected {wanted.file}"
            + (f" ({wanted.size_bytes:,} bytes, sha256 {wanted.sha256})" if wanted.has_checksum else "")
            + f"; {wanted.how_to_get()}, or point `--model PATH` / STATION_MODEL at a copy"
        )
    size_bytes = path.stat().st_size
    if entry is None:
        match = manifest.by_sha256(sha256_of(path))
        if match is not None:
            return match  # a listed model under another name
        known = ", ".join(e.file for e in manifest.entries)
        raise ModelError(
            f"model file {path} is not in the manifest (known: {known}): use one of those; "
            f"{manifest.default_entry().how_to_get()}; or set [pose] verify = false to load an unlisted model"
        )
    if not entry.has_checksum:
        return None
    if size_bytes != entry.size_bytes:
        state = "truncated" if size_bytes < entry.size_bytes else "too large"
        raise ModelError(
            f"model file {path} is {state}: {size_bytes:,} bytes, expected {entry.size_bytes:,}; "
            f"{entry.how_to_get()}"
        )
    digest = sha256_of(path)
    if digest != entry.sha256:
        raise ModelError(
            f"model file {path} is corrupt: sha256 {digest}, expected {entry.sha256}; {entry.how_to_get()}"
        )
    return entry
