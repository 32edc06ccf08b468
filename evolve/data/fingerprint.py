"""What a run trained on, as a fingerprint of file contents: a resume on changed data is
refused, naming what changed, rather than mixing two datasets in one history.

A file (CSV, Parquet, ``.npz``, the ``data.npz`` of ``search_keras``'s arrays) is hashed whole;
a folder of images file by file (the images ``list_images`` finds: what the run reads). Hashes
are BLAKE2b (``hashlib``), 1 to 2 GB/s on one core. A resume hashes again only the files whose
size or modification time changed (as ``git`` and ``rsync`` tell changed files), so resuming
a large folder costs a listing. Datasets known by name (``digits``, ``mnist``...) come with
the installed packages and have no fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from evolve.data.spec import KERAS_DATASETS, SKLEARN_DATASETS, DatasetError, DataSpec

CHUNK = 1 << 20
SHOWN = 3
"""Files named per kind of change in a message."""

Listing = dict[str, list[Any]]
"""relative path -> [bytes, modification time (ns), BLAKE2b hex digest]."""


def fingerprint(dataset: str, earlier: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The fingerprint of ``dataset`` (a path): ``{"dataset", "kind": "file" | "folder",
    "bytes", "digest", "files": Listing}``; ``None`` for a dataset known by name or a path that
    does not exist (loading it says what is wrong). ``earlier``, a fingerprint of the same
    dataset, lends its digests to files whose size and modification time are unchanged."""
    if dataset in ("digits", *KERAS_DATASETS, *SKLEARN_DATASETS):
        return None
    path = Path(dataset).expanduser()
    if path.is_file():
        files, kind = {path.name: path}, "file"
    elif path.is_dir():
        from evolve.data.folders import list_images

        try:
            found, _ = list_images(path)
        except DatasetError:
            return None  # loading the folder says what is wrong with it
        files, kind = {os.path.relpath(f, path): Path(f) for f in found}, "folder"
    else:
        return None
    known: Listing = (earlier or {}).get("files", {})
    listing: Listing = {}
    for name, file in files.items():
        stat = file.stat()
        entry = known.get(name)
        if entry is not None and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            listing[name] = list(entry)
        else:
            listing[name] = [stat.st_size, stat.st_mtime_ns, _digest(file)]
    whole = hashlib.blake2b(digest_size=16)
    for name in sorted(listing):
        whole.update(f"{name}\0{listing[name][2]}\0".encode())
    return {
        "dataset": str(path),
        "kind": kind,
        "bytes": sum(entry[0] for entry in listing.values()),
        "digest": whole.hexdigest(),
        "files": listing,
    }


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def changes(saved: dict[str, Any], current: dict[str, Any] | None) -> str:
    """One phrase for what differs between the fingerprint a run recorded and the data now
    (``""`` when nothing does): the file's size then and now, or the folder's files added,
    removed and changed, a few named."""
    if current is None:
        return f"{saved['dataset']} is gone"
    if current["digest"] == saved["digest"]:
        return ""
    if saved["kind"] == "file":
        then, now = saved["bytes"], current["bytes"]
        size = f"{then:,} bytes then, {now:,} now" if then != now else "same size, other bytes"
        return f"the contents of {saved['dataset']} changed ({size})"
    old, new = saved["files"], current["files"]
    kinds = {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(n for n in old.keys() & new.keys() if old[n][2] != new[n][2]),
    }
    said = [
        f"{len(names)} {kind} ({', '.join(names[:SHOWN])}{', ...' if len(names) > SHOWN else ''})"
        for kind, names in kinds.items() if names
    ]  # fmt: skip
    return f"the images of {saved['dataset']} changed: {'; '.join(said)}"


class DataChanged(DatasetError):
    """The data changed since the run recorded its fingerprint; the message is one line."""


def verify(spec: DataSpec) -> None:
    """In a worker, before it loads the data: ``DataChanged`` when the files differ from the
    run's recorded fingerprint (``spec.fingerprint``, a path; nothing to check when empty or
    missing). A worker started mid-run (a replacement) would otherwise train on edited data.
    Costs a listing; only files whose size or modification time changed are read."""
    if not spec.fingerprint:
        return
    try:
        saved = json.loads(Path(spec.fingerprint).read_text())
    except (OSError, ValueError):
        return
    changed = changes(saved, fingerprint(spec.name, saved))
    if changed:
        raise DataChanged(f"{changed} since the run started")
