"""A run folder: a manifest and a parquet dataset of rows, one part per block of units.

::

    RUN/manifest.json              probe, model (spec and fingerprint), options, units, expected rows
    RUN/parts/part-<run>-<n>.parquet   rows of whole units, written atomically (temp file, rename)

Nothing here needs Ray or a model: a finished run is read on any machine with pandas and pyarrow.
A part is only ever complete (it is renamed into place once written), so after an interruption the
folder holds whole units, and a resumed run computes exactly the units that no part holds.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.errors import ExplorerError

FORMAT = "lm-explorer-run/1"
MANIFEST = "manifest.json"
PARTS = "parts"


class RunFolderError(ExplorerError, ValueError):
    """A run folder that belongs to another run, or whose rows are incomplete or duplicated."""


@dataclass
class Manifest:
    """What a run computes; a resumed run must ask for exactly the same thing."""

    probe: str
    model: dict[str, Any]  # the model spec: name, dtype (and how it was placed)
    options: dict[str, Any]  # the probe's options as JSON
    unit_key: str  # the column naming a row's unit
    row_key: list[str]  # the columns naming a row
    unit_ids: list[str]  # every unit, in data order
    units_digest: str  # the units' content
    rows_per_unit: list[int | None]  # expected rows of each unit (None: learned from the first unit scored)
    fingerprint: str | None = None  # the model's weights fingerprint, set by the first block written
    command: dict[str, Any] | None = None  # the CLI command and its arguments (for `lm-explorer summarize`)
    complete: bool = False
    format: str = FORMAT
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    # what must match when a run resumes into an existing folder, and why
    IDENTITY = {"probe": "probe", "model_identity": "model (name and dtype)", "options": "set of probe options",
                "units_digest": "data (items, their order or content)"}

    @property
    def model_identity(self) -> dict[str, Any]:
        return {"name": self.model.get("name"), "dtype": self.model.get("dtype")}

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def expected_rows(self) -> int | None:
        """Rows of the finished run (None while a unit's row count is still unknown)."""
        known = self.rows_per_unit
        return None if any(n is None for n in known) else sum(known)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        """The manifest as written, with the item count and expected rows spelled out for readers."""
        return {"n_units": self.n_units, "expected_rows": self.expected_rows, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise RunFolderError(f"manifest format {data.get('format')!r} is not {FORMAT!r}; this folder was written "
                                 "by another version of lm-explorer")
        return cls(**{k: v for k, v in data.items() if k not in ("n_units", "expected_rows")})


class RunFolder:
    """Read and write one run's folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        self._session = uuid.uuid4().hex[:8]  # names this process's parts apart from earlier runs'
        self._written = 0

    # --- manifest ----------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> Manifest:
        if not self.exists():
            raise RunFolderError(f"{self.path} is not a run folder (no {MANIFEST}). Fix: give the folder a "
                                 "distributed run wrote (its --out)")
        return Manifest.from_json(json.loads(self.manifest_path.read_text(encoding="utf-8")))

    def save(self, manifest: Manifest) -> None:
        """Write the manifest atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{MANIFEST}.{self._session}.tmp"
        tmp.write_text(json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.manifest_path)

    def start(self, manifest: Manifest) -> Manifest:
        """Create the folder for ``manifest``, or resume it if it holds the same run; else a clear error."""
        if not self.exists():
            if self.path.exists() and any(p.is_file() for p in self.path.iterdir()):
                raise RunFolderError(f"{self.path} holds files but is not a run folder. Fix: give a new or empty "
                                     "folder as the output")
            self.save(manifest)
            return manifest
        old = self.manifest()
        for attr, what in Manifest.IDENTITY.items():
            if getattr(old, attr) != getattr(manifest, attr):
                raise RunFolderError(
                    f"{self.path} holds a run with another {what}: {_short(getattr(old, attr))} there, "
                    f"{_short(getattr(manifest, attr))} now. Fix: give a new output folder, or delete {self.path} "
                    "to start again")
        old.command = manifest.command or old.command
        old.model = {**old.model, **manifest.model}  # placement (device_map, GPUs) may change between tries
        old.complete = False
        self.save(old)
        return old

    def record_fingerprint(self, manifest: Manifest, fingerprint: str) -> None:
        """Keep the model's fingerprint; rows from different weights never share a run."""
        if manifest.fingerprint is None:
            manifest.fingerprint = fingerprint
            self.save(manifest)
        elif manifest.fingerprint != fingerprint:
            raise RunFolderError(f"{self.path} holds rows of a model with fingerprint {manifest.fingerprint[:16]}, "
                                 f"but this run's model has fingerprint {fingerprint[:16]} (other weights at the same "
                                 "name?). Fix: give a new output folder")

    # --- parts -------------------------------------------------------------------------------------
    def parts(self) -> list[Path]:
        folder = self.path / PARTS
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def write_part(self, rows: pa.Table | pd.DataFrame) -> Path:
        """Write one block's rows as a new part, atomically."""
        folder = self.path / PARTS
        folder.mkdir(parents=True, exist_ok=True)
        self._written += 1
        name = f"part-{self._session}-{self._written:05d}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False), tmp)
        os.replace(tmp, folder / name)
        return folder / name

    def done_units(self, key: str) -> set[str]:
        """Units that some part holds rows of (each part holds whole units)."""
        done: set[str] = set()
        for part in self.parts():
            done.update(pq.read_table(part, columns=[key]).column(key).to_pylist())
        return done

    def rows(self, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every row, units in data order (rows of a unit in the order its probe gave them)."""
        manifest = self.manifest()
        parts = self.parts()
        if not parts:
            return pd.DataFrame(columns=list(columns) if columns else [manifest.unit_key])
        frame = pd.concat([pd.read_parquet(p, columns=list(columns) if columns else None) for p in parts],
                          ignore_index=True)
        for col in frame.columns:  # parquet lists come back as arrays; the probes give lists
            if frame[col].dtype == object and len(frame) and isinstance(frame[col].iloc[0], np.ndarray):
                frame[col] = [v.tolist() for v in frame[col]]
        order = {u: n for n, u in enumerate(manifest.unit_ids)}
        rank = frame[manifest.unit_key].map(order)
        return frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)

    def problems(self, rows: pd.DataFrame | None = None) -> list[str]:
        """What keeps the dataset from being the finished run: missing units, missing or duplicate rows."""
        manifest = self.manifest()
        rows = self.rows(columns=manifest.row_key) if rows is None else rows
        found: list[str] = []
        counts = rows.groupby(manifest.unit_key, sort=False).size()
        missing = [u for u in manifest.unit_ids if u not in counts.index]
        if missing:
            found.append(f"{len(missing)} of {manifest.n_units} units have no rows yet (first: {missing[0]!r})")
        extra = sorted(set(counts.index) - set(manifest.unit_ids))
        if extra:
            found.append(f"rows of {len(extra)} units the manifest does not list (first: {extra[0]!r})")
        duplicated = rows.duplicated(list(manifest.row_key))
        if duplicated.any():
            first = rows[duplicated].iloc[0]
            where = ", ".join(f"{c}={first[c]}" for c in manifest.row_key)
            found.append(f"{int(duplicated.sum())} duplicate rows (first: {where})")
        expected = dict(zip(manifest.unit_ids, manifest.rows_per_unit))
        wrong = [(u, n, expected[u]) for u, n in counts.items() if expected.get(u) is not None and n != expected[u]]
        if wrong:
            u, n, want = wrong[0]
            found.append(f"{len(wrong)} units with the wrong number of rows (first: {u!r} has {n}, expected {want})")
        return found

    def finish(self, manifest: Manifest) -> list[str]:
        """Check the dataset; mark the manifest complete when nothing is missing or duplicated."""
        rows = self.rows(columns=manifest.row_key)
        if any(n is None for n in manifest.rows_per_unit) and len(rows):
            learned = int(rows.groupby(manifest.unit_key, sort=False).size().iloc[0])
            manifest.rows_per_unit = [learned if n is None else n for n in manifest.rows_per_unit]
        self.save(manifest)
        found = self.problems(rows)
        manifest.complete = not found
        self.save(manifest)
        return found


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
