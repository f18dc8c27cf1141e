"""What a dashboard lets the person typing into it do: which models and data load, how large an upload or a
sample may be, and how much a forward pass may hold.

In a notebook the dashboard runs in the researcher's own kernel: :data:`OPEN`, anything loads. Served to
others (``lm-explorer demo``, the Binder URL, any Voila), it runs under :func:`served` unless the operator
says otherwise: the bundled models and those the operator lists, the built-in data sets, the hub ids the
operator lists and uploads within :class:`UploadLimits`; nothing a visitor types is read as a path of the
server's disk, and nothing unlisted is downloaded. Every refusal is a :class:`~explorer.errors.Refused`
whose message is one line saying what is allowed; it is the same whether or not a typed path exists.

The operator opens it up with ``lm-explorer demo --allow-any-model/--allow-any-data`` or a TOML file
(``--policy FILE``, keys as the fields below); the demo hands the result to its kernels as JSON in
``LM_EXPLORER_POLICY`` (:func:`current_policy` reads it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.errors import Refused
from explorer.items.item import Item
from explorer.models.names import ALIASES, BUNDLED, bundled_models, canonical

ENV = "LM_EXPLORER_POLICY"
SHOWN = 60  # characters of a visitor's text repeated in a refusal


def shown(text: str) -> str:
    """A visitor's text as a refusal repeats it: one line, at most ``SHOWN`` characters, quoted."""
    flat = " ".join(str(text).split())
    return repr(flat if len(flat) <= SHOWN else flat[: SHOWN - 1] + "…")


def _names(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(values) if values else "none"


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB"


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be, checked on the server before its content is parsed into anything large."""

    max_bytes: int = 2**20
    max_items: int = 500
    max_choices: int = 10
    max_depth: int = 6  # nesting of JSON values (an item with a metadata object is 3 deep)
    max_fields: int = 32  # columns of a CSV, keys of a JSON item
    max_chars: int = 4000  # characters of a question or a choice
    types: tuple[str, ...] = (".jsonl", ".json", ".csv")

    def describe(self) -> str:
        """The limits in one clause, for every refusal."""
        return (f"uploads are {', '.join(self.types)} files of at most {_size(self.max_bytes)} holding at most "
                f"{self.max_items:,} items of at most {self.max_choices} choices, {self.max_chars:,} characters per "
                f"text, {self.max_fields} fields per item and JSON nested at most {self.max_depth} deep")

    def refuse(self, problem: str) -> Refused:
        return Refused(f"upload refused: {problem}; {self.describe()}")

    def check_item(self, item: Item, where: str) -> None:
        """An item's choices, fields and text lengths within the limits (else :class:`Refused`)."""
        if item.k > self.max_choices:
            raise self.refuse(f"item {shown(item.id)} of {where} has {item.k} choices")
        if len(item.metadata) + 4 > self.max_fields:
            raise self.refuse(f"item {shown(item.id)} of {where} has {len(item.metadata) + 4} fields")
        longest = max((item.question, *item.choices), key=len)
        if len(longest) > self.max_chars:
            raise self.refuse(f"item {shown(item.id)} of {where} has a text of {len(longest):,} characters")


@dataclass(frozen=True)
class Policy:
    """``served``: a visitor is not the operator (errors reach the page without tracebacks, as one line).
    ``any_model``/``any_data``: anything loads, as in a notebook; else only the bundled models and
    ``models``, the built-in sets and ``datasets``, and the run folders in ``runs``. ``uploads``: their
    limits (None: none). ``max_items``: the largest sample of a data set. ``token_budget``: padded tokens per
    forward pass (None: the engine's default). ``max_models``: models kept loaded at once (None: no limit)."""

    served: bool = False
    any_model: bool = True
    models: tuple[str, ...] = ()
    any_data: bool = True
    datasets: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    uploads: UploadLimits | None = None
    max_items: int = 100_000
    token_budget: int | None = None
    max_models: int | None = None

    # --- models -----------------------------------------------------------------------------------
    def model_choices(self) -> list[str]:
        """What the model box offers: the bundled models installed here, then the operator's."""
        return list(dict.fromkeys([*bundled_models(), *self.models]))

    def check_model(self, text: str) -> str:
        """The model to load for what was typed (a bundled alias as its key), or :class:`Refused`."""
        name = text.strip()
        if self.any_model:
            return name
        if name in ALIASES and BUNDLED[ALIASES[name]] in bundled_models():
            return canonical(name)  # an alias is a name, never a path
        if name in self.models:
            return name
        raise Refused(f"model {shown(name)} is not offered here; this dashboard loads {_names(self.model_choices())}")

    # --- data -------------------------------------------------------------------------------------
    def dataset_choices(self, recognised: list[str]) -> list[str]:
        """What the dataset box offers: the recognised benchmarks when any data loads, else the operator's."""
        return list(recognised) if self.any_data else list(self.datasets)

    def check_dataset(self, text: str) -> str:
        name = text.strip()
        if self.any_data or name in self.datasets:
            return name
        raise Refused(f"data set {shown(name)} is not offered here; this dashboard loads the built-in sets, "
                      f"uploads and these hub data sets: {_names(self.datasets)}")

    def check_run(self, text: str) -> str:
        name = text.strip()
        if self.any_data or name in self.runs:
            return name
        raise Refused(f"run folder {shown(name)} is not offered here; this dashboard opens these runs: "
                      f"{_names(self.runs)}")

    def check_sample(self, n: int) -> int:
        if n < 1:
            raise Refused(f"a sample of {n:,} items holds nothing; choose 1 to {self.max_items:,}")
        if n > self.max_items:
            raise Refused(f"a sample of {n:,} items is more than this dashboard scores; choose at most "
                          f"{self.max_items:,}")
        return n

    # --- sources ----------------------------------------------------------------------------------
    def opened(self, *, any_model: bool = False, any_data: bool = False) -> Policy:
        """This policy with models and/or data opened up (``--allow-any-model``, ``--allow-any-data``)."""
        return dataclasses.replace(self, any_model=self.any_model or any_model, any_data=self.any_data or any_data)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Policy:
        return cls.from_mapping(json.loads(text), "LM_EXPLORER_POLICY")

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Policy:
        """A served policy with the TOML file's keys (the fields of Policy; ``[uploads]`` those of UploadLimits)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise Refused(f"policy file {str(path)!r} cannot be read ({e}); write TOML with keys "
                          f"{', '.join(_fields(cls))}") from None
        return cls.from_mapping({"served": True, **data}, str(path), base=served())

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str, *, base: Policy | None = None) -> Policy:
        base = base or cls()
        unknown = sorted(set(data) - set(_fields(cls)))
        if unknown:
            raise Refused(f"{where}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(_fields(cls))}")
        values = {key: _checked(where, key, value, getattr(base, key)) for key, value in data.items()
                  if key != "uploads"}
        if isinstance(data.get("uploads"), dict):
            limits, start = data["uploads"], base.uploads or UploadLimits()
            bad = sorted(set(limits) - set(_fields(UploadLimits)))
            if bad:
                raise Refused(f"{where}: unknown [uploads] key(s) {', '.join(bad)}; the keys are "
                              f"{', '.join(_fields(UploadLimits))}")
            values["uploads"] = dataclasses.replace(start, **{k: _checked(where, f"uploads.{k}", v, getattr(start, k))
                                                              for k, v in limits.items()})
        elif "uploads" in data:
            if data["uploads"] is not None:
                raise Refused(f"{where}: uploads must be a table of limits ([uploads]), not {data['uploads']!r}")
            values["uploads"] = None
        return dataclasses.replace(base, **values)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _checked(where: str, key: str, value: Any, default: Any) -> Any:
    """``value`` for ``key`` when it has the kind of ``default`` (lists of text as tuples; numbers positive;
    the optional numbers may be absent), else :class:`Refused` naming the key."""
    optional = key in ("token_budget", "max_models")
    if optional and value is None:
        return None
    if isinstance(default, tuple):
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise Refused(f"{where}: {key} must be a list of text, not {value!r}")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise Refused(f"{where}: {key} must be true or false, not {value!r}")
    if isinstance(default, int) or optional:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise Refused(f"{where}: {key} must be a positive whole number, not {value!r}")
    raise Refused(f"{where}: {key} cannot be set")


OPEN = Policy()


def served(**changes: Any) -> Policy:
    """The policy of a dashboard served to strangers: bundled models, built-in sets and uploads within limits,
    samples of at most 200 items, forward passes of at most 1024 padded tokens, one model loaded at a time."""
    return dataclasses.replace(Policy(served=True, any_model=False, any_data=False, uploads=UploadLimits(),
                                      max_items=200, token_budget=1024, max_models=1), **changes)


def under_voila() -> bool:
    """Whether this kernel was started by Voila (it sets VOILA_* variables in every kernel it starts)."""
    return any(name in os.environ for name in ("VOILA_BASE_URL", "VOILA_PREHEAT", "VOILA_KERNEL_ID"))


def current_policy() -> Policy:
    """``$LM_EXPLORER_POLICY`` (JSON, as ``lm-explorer demo`` sets it); else :func:`served` in a kernel Voila
    started (a Binder URL, a plain ``voila``); else :data:`OPEN` (a notebook: the researcher's own kernel)."""
    text = os.environ.get(ENV)
    if text:
        return Policy.from_json(text)
    return served() if under_voila() else OPEN



