"""Hugging Face datasets as item sources: a hub id, or a local folder holding a copy of a hub repo.

Both go through ``datasets.load_dataset(path, config, split=...)``, so a folder laid out as the
hub lays it out (a README whose YAML front matter lists ``configs`` and their ``data_files``, and
the parquet or JSON files; what ``git clone`` of the repo gives) loads exactly as the id would.
Offline is explicit: with no network and no local copy, the error names the id and how to get a
copy; nothing waits on retries (the hub is probed with a short timeout first).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from explorer.errors import DataError

PROBE_TIMEOUT = 5.0  # seconds to wait for the hub's TCP handshake before calling it unreachable
SHOWN = 12  # configs or splits named in an error before "... (N in all)"


def describe(name: str, config: str | None = None, split: str | None = None) -> str:
    """How a data set is named in messages: ``'allenai/ai2_arc' (config 'ARC-Challenge', split 'test')``.

    >>> describe("cais/mmlu", "all", "test")
    "'cais/mmlu' (config 'all', split 'test')"
    """
    parts = [f"{key} {value!r}" for key, value in (("config", config), ("split", split)) if value is not None]
    return f"{name!r}" + (f" ({', '.join(parts)})" if parts else "")


def _names(values: Sequence[str]) -> str:
    shown = ", ".join(values[:SHOWN])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > SHOWN else shown


def pick_split(splits: Sequence[str], split: str | None, label: str) -> str:
    """``split`` if the data set has it; with None: ``test``, else the only split, else a clear error.

    >>> pick_split(["train", "test"], None, "'x'"), pick_split(["validation"], None, "'x'")
    ('test', 'validation')
    """
    splits = list(splits)
    fix = f"choose one of {_names(splits)}: split='NAME' (CLI --split NAME)"
    if split is not None:
        if split not in splits:
            raise DataError(label, "split", f"it has no split {split!r}; its splits are {_names(splits)}", fix)
        return split
    if "test" in splits:
        return "test"
    if len(splits) == 1:
        return splits[0]
    raise DataError(label, "split", f"no split was chosen, it has no 'test' split and several others "
                    f"({_names(splits)})", fix)


def pick_config(configs: Sequence[str], config: str | None, label: str) -> str | None:
    """``config`` if the data set has it; with None: its only config (None for ``default``), else an error."""
    configs = list(configs)
    fix = f"choose one: config='NAME' (CLI --config NAME); its configs are {_names(configs)}"
    if config is not None:
        if config not in configs:
            raise DataError(label, "config", f"it has no config {config!r}", fix)
        return config
    if len(configs) == 1:
        return None if configs[0] == "default" else configs[0]
    raise DataError(label, "config", f"it has {len(configs)} configs and none was chosen", fix)


def hub_reachable(timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a TCP connection to the hub's endpoint (``HF_ENDPOINT``) opens within ``timeout``."""
    from huggingface_hub import constants  # noqa: PLC0415 - a dependency of datasets

    url = urlsplit(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def offline_error(name: str, reason: str) -> DataError:
    """The error for a hub id with no network and no local copy: which id, and how to get a copy."""
    short = name.rsplit("/", 1)[-1]
    return DataError(describe(name), "source", "there is no file, folder or built-in set of that name here, and "
                     "the Hugging Face Hub cannot be reached "
                     f"({reason})", f"where there is network, download a copy (`hf download {name} --repo-type dataset "
                     f"--local-dir {short}`, or `git clone https://huggingface.co/datasets/{name}`) and pass that "
                     f"folder (load_items('{short}', ...), CLI --data {short}); a copy already in the Hugging Face "
                     "cache is used with HF_HUB_OFFLINE=1")


def _datasets(label: str) -> Any:
    try:
        import datasets  # noqa: PLC0415 - optional: only hub ids and dataset folders need it
    except ImportError:
        raise DataError(label, "source", "reading a hub dataset or a dataset folder needs the 'datasets' package, "
                        "which is not installed", "pip install 'lm-explorer[data]' (datasets and pyarrow)") from None
    return datasets


def load_split(path: str, *, name: str, config: str | None = None, split: str | None = None,
               local: bool = False, revision: str | None = None) -> tuple[Any, str | None, str]:
    """(the ``datasets.Dataset`` of one split, its config, its split) of a hub id or a local folder
    ``path``; ``name`` is how messages call it. Config: as given, else the only one. Split: as
    given, else ``test``, else the only one. ``revision``: a hub dataset's commit, tag or branch
    (the same data on every machine and every day), None for the newest."""
    datasets = _datasets(describe(name))
    from huggingface_hub import constants  # noqa: PLC0415

    if not local and not constants.HF_HUB_OFFLINE and not hub_reachable():
        raise offline_error(name, f"no connection to {constants.ENDPOINT} within {PROBE_TIMEOUT:g} s")
    try:
        pin = {"revision": revision} if revision else {}
        config = pick_config(datasets.get_dataset_config_names(path, **pin), config, describe(name))
        split = pick_split(datasets.get_dataset_split_names(path, config, **pin), split, describe(name, config))
        return datasets.load_dataset(path, config, split=split, **pin), config, split
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds; each becomes one clear line
        raise explain(e, name, config, split, local=local) from None


def explain(error: Exception, name: str, config: str | None, split: str | None, *, local: bool) -> DataError:
    """A ``datasets`` failure as a :class:`DataError` that says what to do."""
    label, text = describe(name, config, split), " ".join(str(error).split())
    kind = type(error).__name__
    if isinstance(error, ConnectionError) or "Offline" in text or "LocalEntryNotFound" in text:
        return offline_error(name, text)
    if kind == "DatasetNotFoundError":
        return DataError(label, "source", "there is no file, folder or built-in set of that name here, and no such "
                         f"dataset on the Hub, or it is gated or private ({text})",
                         "check the id (owner/name, as in the Hub's URL); for a gated dataset accept its terms and "
                         "run `hf auth login`")
    if "scripts are no longer supported" in text:
        return DataError(label, "source", "the repository holds only a loading script, which datasets no longer "
                         "runs", "use a parquet copy of it (for PIQA: baber/piqa), or a local copy of its "
                         "refs/convert/parquet branch")
    if local:
        return DataError(label, "source", f"the folder is not a dataset datasets can read ({kind}: {text})",
                         "give a copy of a hub dataset repo: a README.md with `configs` and its parquet or JSON "
                         "data files (after `git lfs pull`)")
    return DataError(label, "source", f"datasets could not load it ({kind}: {text})",
                     "check the id, config and split")
