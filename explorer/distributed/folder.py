"""A run folder: a manifest and a parquet dataset of rows, one part per block of units.

::

    RUN/manifest.json              probe, model (spec and fingerprint), options, units, expected rows
    RUN/parts/part-<run>-<n>.parquet   rows of whole units, written atomically (temp file, fsync, rename)
    RUN/.lock                      held (flock) by the one process writing the folder
    RUN/set-aside/                 parts that could not be read, or repeated units, set aside by the next writer

Nothing here needs Ray or a model: a finished run is read on any machine with pandas and pyarrow.
A part is only ever complete (it is renamed into place once written and fsynced), so after an
interruption the folder holds whole units, and a resumed run computes exactly the units that no
readable part holds. One process writes a folder at a time (:class:`~explorer.distributed.storage.
WriterLock`: a second is refused, a dead one's lock goes with its process). Reading never repeats a
row: a unit that two parts hold (two runs that wrote one folder at once, before the lock) is read
from the first, with a warning; a part that cannot be read is skipped with a warning, and set aside
by the next writer, which computes its units again.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq

from explorer.distributed.storage import WriterLock, describe_holder, stale_temporaries, write_atomic
from explorer.distributed.validate import field_problem
from explorer.errors import ExplorerError

FORMAT = "lm-explorer-run/1"
MANIFEST = "manifest.json"
PARTS = "parts"
SET_ASIDE = "set-aside"
LOCK = ".lock"


class RunFolderError(ExplorerError, ValueError):
    """A run folder that belongs to another run, is being written by another process, or whose rows
    are incomplete or duplicated, or whose manifest does not validate."""


class RunFolderWarning(UserWarning):
    """A run folder's part could not be read, or a unit was written twice; what is read stays right."""


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
    def from_json(cls, data: Any) -> Manifest:
        """The manifest ``data`` describes; a :class:`RunFolderError` naming the first field that does not validate."""
        if not isinstance(data, dict):
            raise RunFolderError(f"holds a {type(data).__name__}, not a JSON object")
        if data.get("format") != FORMAT:
            raise RunFolderError(f"field 'format': {data.get('format')!r} is not {FORMAT!r}; this folder was written "
                                 "by another version of lm-explorer")
        problem = field_problem(cls, data, extra=("n_units", "expected_rows"))
        if problem:
            raise RunFolderError(problem)
        if len(data["rows_per_unit"]) != len(data["unit_ids"]):
            raise RunFolderError(f"field 'rows_per_unit' holds {len(data['rows_per_unit'])} counts for "
                                 f"{len(data['unit_ids'])} units (unit_ids); give one per unit")
        if any(n is not None and n < 0 for n in data["rows_per_unit"]):
            raise RunFolderError("field 'rows_per_unit' holds a negative count")
        return cls(**{k: v for k, v in data.items() if k not in ("n_units", "expected_rows")})


class RunFolder:
    """Read and write one run's folder (see the module docstring).

    Writing (:meth:`start`, :meth:`save`, :meth:`write_part`) takes the folder's writer lock, held
    until :meth:`finish` or :meth:`release` (or the end of the process); reading takes none."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        self._session = uuid.uuid4().hex[:8]  # names this process's parts apart from earlier runs'
        self._written = 0
        self._lock = WriterLock(self.path / LOCK)
        self._told: set[str] = set()

    # --- one writer --------------------------------------------------------------------------------
    def hold(self) -> None:
        """Take the folder's writer lock (a clear error while another process writes it); set aside what a
        dead writer left: temporary files, and parts that cannot be read."""
        if self._lock.held:
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            holder = self._lock.acquire()
        except OSError as e:
            raise RunFolderError(f"{self.path} cannot be written ({e.strerror or e}). Fix: give a writable output "
                                 "folder") from e
        if holder is not None:
            raise RunFolderError(f"{self.path} is being written by {describe_holder(holder)}. Fix: wait for that run "
                                 "to finish (or stop it), or give another output folder")
        for stale in stale_temporaries(self.path) + stale_temporaries(self.path / PARTS):
            stale.unlink(missing_ok=True)
        for part, why in self._damaged_parts():
            self._set_aside(part)
            warnings.warn(f"{self.path}: part {part.name} cannot be read ({why}); moved it to {self.path / SET_ASIDE} "
                          "and its units are computed again", RunFolderWarning, stacklevel=3)
        try:
            key = self.manifest().unit_key if self.exists() else None
        except RunFolderError:
            key = None  # a manifest that does not validate is start()'s to report
        if key is not None:
            self._set_aside_repeats(key)

    def release(self) -> None:
        """Let another process write the folder."""
        self._lock.release()

    # --- manifest ----------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> Manifest:
        """The manifest; a one-line error naming the file and the field when it does not validate."""
        if not self.exists():
            raise RunFolderError(f"{self.path} is not a run folder (no {MANIFEST}). Fix: give the folder a "
                                 "distributed run wrote (its --out)")
        fix = f"Fix: restore {MANIFEST} as the run wrote it, or delete {self.path} to start the run again"
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise RunFolderError(f"{self.manifest_path} is not UTF-8 text (byte {e.start}). {fix}") from None
        except json.JSONDecodeError as e:
            raise RunFolderError(f"{self.manifest_path} is not valid JSON (line {e.lineno}, column {e.colno}: "
                                 f"{e.msg}). {fix}") from None
        try:
            return Manifest.from_json(data)
        except RunFolderError as e:
            raise RunFolderError(f"{self.manifest_path}, {e}. {fix}") from None

    def save(self, manifest: Manifest) -> None:
        """Write the manifest atomically (temporary file, fsync, rename)."""
        self.hold()
        text = json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n"
        try:
            write_atomic(self.manifest_path, lambda f: f.write(text.encode("utf-8")), tag=self._session)
        except OSError as e:
            raise RunFolderError(f"{self.path}: could not write {MANIFEST} ({e.strerror or e}); it holds what it held. "
                                 "Fix: free space (or make the folder writable) and run again") from e

    def start(self, manifest: Manifest) -> Manifest:
        """Create the folder for ``manifest``, or resume it if it holds the same run; else a clear error.
        Takes the folder's writer lock (see :meth:`hold`)."""
        if not self.exists():
            if self.path.exists() and any(p.is_file() and p.name != LOCK for p in self.path.iterdir()):
                raise RunFolderError(f"{self.path} holds files but is not a run folder. Fix: give a new or empty "
                                     "folder as the output")
            self.hold()
            if self.exists():  # another writer made it between the look and the lock
                return self.start(manifest)
            self.save(manifest)
            return manifest
        self.hold()
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
        """Every part file, in name order (readable or not)."""
        folder = self.path / PARTS
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def _damaged_parts(self) -> list[tuple[Path, str]]:
        """(part, why) for each part whose footer cannot be read (truncated, empty, not parquet)."""
        out = []
        for part in self.parts():
            try:
                pq.read_metadata(part)
            except (OSError, pa.ArrowException) as e:
                out.append((part, " ".join(f"{type(e).__name__}: {e}".split())[:200]))
        return out

    def _read_parts(self, columns: list[str] | None, key: str) -> list[pd.DataFrame]:
        """Each readable part as a frame; an unreadable one is skipped with one warning (a writer sets it aside)."""
        frames = []
        for part in self.parts():
            try:
                frames.append(pq.read_table(part, columns=columns).to_pandas())
            except (OSError, pa.ArrowException, KeyError) as e:
                if part.name not in self._told:
                    self._told.add(part.name)
                    warnings.warn(f"{self.path}: part {part.name} cannot be read ({' '.join(str(e).split())[:200]}); "
                                  "its units count as not computed (a run into this folder computes them again)",
                                  RunFolderWarning, stacklevel=3)
                continue
            if key not in frames[-1].columns:
                frames.pop()
        return frames

    def write_part(self, rows: pa.Table | pd.DataFrame) -> Path:
        """Write one block's rows as a new part, atomically (temporary file, fsync, rename)."""
        self.hold()
        folder = self.path / PARTS
        folder.mkdir(parents=True, exist_ok=True)
        self._written += 1
        name = f"part-{self._session}-{self._written:05d}.parquet"
        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
        try:
            return write_atomic(folder / name, lambda f: pq.write_table(table, f), tag=self._session)
        except OSError as e:
            raise RunFolderError(f"{self.path}: could not write a part ({e.strerror or e}); the parts already written "
                                 "stay. Fix: free space (or make the folder writable) and run again into this "
                                 "folder") from e

    def done_units(self, key: str) -> set[str]:
        """Units that some readable part holds rows of (each part holds whole units)."""
        done: set[str] = set()
        for frame in self._read_parts([key], key):
            done.update(frame[key].tolist())
        return done

    def rows(self, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every row once, units in data order (rows of a unit in the order its probe gave them).

        A unit that several parts hold is read from the first of them (with one warning; the next
        writer sets the later copies aside)."""
        return self._rows(columns, once=True)

    def _rows(self, columns: Sequence[str] | None, *, once: bool) -> pd.DataFrame:
        manifest = self.manifest()
        key = manifest.unit_key
        wanted = list(columns) if columns else None
        frames = self._read_parts(wanted if wanted is None or key in wanted else [*wanted, key], key)
        if not frames:
            return pd.DataFrame(columns=wanted or [key])
        frame = pd.concat([f.assign(_part=n) for n, f in enumerate(frames)], ignore_index=True)
        again = frame["_part"] != frame.groupby(key, sort=False)["_part"].transform("min")
        if once and again.any():
            if "repeats" not in self._told:
                self._told.add("repeats")
                units = pd.unique(frame.loc[again, key])
                warnings.warn(f"{self.path}: {len(units)} units are held by more than one part (first: {units[0]!r}; "
                              "two runs wrote this folder at once); each is read once, from its first part",
                              RunFolderWarning, stacklevel=3)
            frame = frame.loc[~again]
        frame = frame.drop(columns="_part").reset_index(drop=True)
        for col in frame.columns:  # parquet lists come back as arrays; the probes give lists
            if frame[col].dtype == object and len(frame) and isinstance(frame[col].iloc[0], np.ndarray):
                frame[col] = [v.tolist() for v in frame[col]]
        order = {u: n for n, u in enumerate(manifest.unit_ids)}
        rank = frame[key].map(order)
        frame = frame.iloc[rank.argsort(kind="stable")].reset_index(drop=True)
        return frame if wanted is None else frame[wanted]

    def _set_aside_repeats(self, key: str) -> None:
        """Keep each unit in the first part that holds it: a later part holding only repeated units is set
        aside, one holding some is rewritten without them (the original set aside)."""
        seen: set[str] = set()
        repeated: list[str] = []
        for part in self.parts():
            try:
                table = pq.read_table(part)
            except (OSError, pa.ArrowException):
                continue
            units = table.column(key).to_pylist() if key in table.column_names else []
            again = {u for u in units if u in seen}
            seen.update(units)
            if not again:
                continue
            repeated.extend(sorted(again))
            keep = pa.array([u not in again for u in units])
            if pa.compute.any(keep).as_py():
                self.write_part(table.filter(keep))
            self._set_aside(part)
        if repeated:
            warnings.warn(f"{self.path}: {len(repeated)} units were held by more than one part (first: "
                          f"{repeated[0]!r}; "
                          f"two runs wrote this folder at once); kept the first copy and moved the others to "
                          f"{self.path / SET_ASIDE}", RunFolderWarning, stacklevel=4)

    def _set_aside(self, part: Path) -> None:
        aside = self.path / SET_ASIDE
        aside.mkdir(exist_ok=True)
        os.replace(part, aside / part.name)

    def problems(self, rows: pd.DataFrame | None = None) -> list[str]:
        """What keeps the dataset from being the finished run: missing units, missing or duplicate rows."""
        manifest = self.manifest()
        found: list[str] = []
        if rows is None:
            rows = self._rows(manifest.row_key, once=False)
            held = rows.drop_duplicates(list(manifest.row_key)).groupby(manifest.unit_key).size()
            twice = rows.groupby(manifest.unit_key).size().gt(held)
            if twice.any():
                found.append(f"{int(twice.sum())} units are held by more than one part (first: "
                             f"{twice[twice].index[0]!r}); a run into this folder sets the later copies aside")
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
        found = self.problems(rows)
        manifest.complete = not found
        self.save(manifest)
        self.release()
        return found


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
