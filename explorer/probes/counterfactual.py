"""Counterfactual prompts for the head probe: a prompt, the answer of interest, and its rival.

A record asks a question whose answer the context contradicts, e.g. ``The capital of Poland is
London.\\nQ: What is the capital of Poland?\\nA:`` with ``target`` " London" (in-context) and
``foil`` " Warsaw" (memorised). Target and foil are compared by their FIRST token, read with a
leading space (`` London``), at the prompt's last position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from explorer.errors import ItemError, need_items
from explorer.items.builtin import counterfactual_capitals
from explorer.items.files import jsonl_records

if TYPE_CHECKING:
    from explorer.models.handle import LoadedModel

KnownRule = Literal["candidates", "beats_target", "argmax"]


@dataclass(frozen=True)
class Counterfactual:
    """One prompt with its ``target`` and ``foil`` answers (text, without the leading space)."""

    id: str
    prompt: str
    target: str
    foil: str
    fact_prompt: str = ""  # the same question without the counterfactual context, if known
    metadata: Mapping[str, Any] = field(default_factory=dict)


def records_from_dicts(rows: Iterable[Mapping[str, Any]], *, where: str = "record") -> list[Counterfactual]:
    """Records from dicts with ``prompt``, ``target``, ``foil`` (and optional ``id``, ``fact_prompt``)."""
    out = []
    for n, row in enumerate(rows):
        rid = str(row.get("id", n))
        for name in ("prompt", "target", "foil"):
            value = row.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ItemError(rid, name, f"missing or empty in {where} {n}",
                                f"give every record a non-empty string {name!r}")
        extra = {k: v for k, v in row.items() if k not in ("id", "prompt", "target", "foil", "fact_prompt")}
        out.append(Counterfactual(rid, row["prompt"], row["target"].strip(), row["foil"].strip(),
                                  str(row.get("fact_prompt") or ""), extra))
    ids = [r.id for r in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ItemError(dup[0], "id", "used by more than one record", "give every record a unique id")
    return out


def load_counterfactuals(path: str | Path) -> list[Counterfactual]:
    """Records from a JSONL file, one object per line with fields ``prompt``, ``target``, ``foil``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no counterfactual prompts file at {path}")
    rows = []
    for n, row in jsonl_records(path):
        if not isinstance(row, dict):
            raise ItemError(f"{path.name}:{n}", "line", "not a JSON object", 'write {"prompt": ..., ...}')
        rows.append({"id": f"{path.stem}-{n}", **row})
    return records_from_dicts(rows, where=f"{path.name} line")


def capital_counterfactuals(n: int | None = None, *, seed: int = 0) -> list[Counterfactual]:
    """The built-in capitals form: target = the in-context city, foil = the true capital."""
    return records_from_dicts(counterfactual_capitals(n, seed=seed))


def first_token(tokenizer, text: str) -> int:
    """Id of the first token of ``" " + text`` (no second space when ``text`` starts with one)."""
    ids = tokenizer(text if text.startswith(" ") else " " + text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError(f"{text!r} encodes to no tokens")
    return int(ids[0])


def answer_tokens(tokenizer, records: Sequence[Counterfactual]) -> tuple[np.ndarray, np.ndarray]:
    """(target ids, foil ids) [n]: each answer's first token; an error when the two coincide."""
    targets, foils = [], []
    for r in records:
        t, f = first_token(tokenizer, r.target), first_token(tokenizer, r.foil)
        if t == f:
            piece = tokenizer.convert_ids_to_tokens([t])[0]
            raise ItemError(r.id, "target", f"target {r.target!r} and foil {r.foil!r} share their first token "
                            f"{piece!r}, so the next token cannot tell them apart",
                            "choose a target whose first token differs from the foil's")
        targets.append(t)
        foils.append(f)
    return np.array(targets, dtype=np.int64), np.array(foils, dtype=np.int64)


def known_facts(model: LoadedModel, records: Sequence[Counterfactual], *, rule: KnownRule = "candidates",
                batch_size: int = 32, answers: Sequence[str] = ()) -> list[Counterfactual]:
    """The records whose ``fact_prompt`` (no context) the model answers with the foil (the true fact).

    ``rule`` decides what "answers" means, always on first tokens at the fact prompt's end:
    ``candidates`` (default): the foil beats every answer (target or foil) of any record, i.e. it
    is the argmax among the answer candidates; ``beats_target``: the foil beats this record's
    target; ``argmax``: the foil is the argmax over the whole vocabulary (strict: small chat models
    often start with " The"). ``answers``: more answer texts that join the candidates (a
    distributed run checks a share of the records against the answers of all of them).
    """
    if rule not in ("candidates", "beats_target", "argmax"):
        raise ValueError(f"unknown rule {rule!r}; choose candidates, beats_target or argmax")
    missing = [r.id for r in records if not r.fact_prompt]
    if missing:
        raise ItemError(missing[0], "fact_prompt", "empty, so the fact cannot be checked without context",
                        "give each record a fact_prompt (the question without the counterfactual sentence)")
    records = need_items(records, "known_facts", kind="prompts")
    targets, foils = answer_tokens(model.tokenizer, records)
    extra = {first_token(model.tokenizer, a) for a in answers}
    vocab = sorted(set(targets.tolist()) | set(foils.tolist()) | extra)
    col = {t: i for i, t in enumerate(vocab)}
    from explorer.scoring import score_next_token  # noqa: PLC0415 - torch: records are read without it

    scores = score_next_token(model, [r.fact_prompt for r in records], vocab, top_k=1 if rule == "argmax" else 0,
                              batch_size=batch_size)
    keep = []
    for i, r in enumerate(records):
        lp = scores.logprobs[i]
        if rule == "candidates":
            ok = int(np.argmax(lp)) == col[int(foils[i])]
        elif rule == "beats_target":
            ok = lp[col[int(foils[i])]] > lp[col[int(targets[i])]]
        else:
            ok = int(scores.top_ids[i, 0]) == int(foils[i])
        if ok:
            keep.append(r)
    return keep
