"""The attentiveness probe on the bundled SmolLM2, against plain transformers; CLI and notebook end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from explorer import columns as C
from explorer.items import capitals, save_jsonl
from explorer.probes.attentiveness import attentiveness
from explorer.probes.layers import layer_pma
from explorer.prompts import DEFAULT_FORMAT, split_pool

pytestmark = pytest.mark.slow


def _plain_next(model, text: str) -> torch.Tensor:
    """log p(next token | text) from a plain forward of the whole text."""
    ids = model.tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return torch.log_softmax(model.model(ids).logits[0, -1].double(), -1)


def _plain_sequence(model, context: str, cont: str) -> tuple[float, float]:
    """(log p(cont | context), log p(first token of cont | context)), from one plain forward."""
    tok = model.tokenizer
    ctx, whole = tok(context)["input_ids"], tok(context + cont)["input_ids"]
    assert whole[: len(ctx)] == ctx
    with torch.no_grad():
        lp = torch.log_softmax(model.model(torch.tensor([whole])).logits[0].double(), -1)
    per = [float(lp[p - 1, whole[p]]) for p in range(len(ctx), len(whole))]
    return sum(per), per[0]


def test_pma_and_choice_probabilities_equal_plain_transformers(smollm2):
    items = capitals(1)
    rows = attentiveness(smollm2, items, ["letters", "cloze"], cache=None)
    labels = [smollm2.tokenizer(" " + x, add_special_tokens=False)["input_ids"][0] for x in "ABCD"]
    premise_labels = _plain_next(smollm2, "Answer:")[labels].numpy()
    for row in rows.itertuples():
        item = next(i for i in items if i.id == row.item_id)
        if row.format == "letters":
            assert row.prompt == DEFAULT_FORMAT.build(item)
            lp = _plain_next(smollm2, row.prompt)
            probs = lp[labels].exp().numpy()
            np.testing.assert_allclose(row.choice_probs, probs, atol=1e-4)
            assert row.greedy_token_id == int(lp.argmax())
            assert row.pred_pmi == int(np.argmax(lp[labels].numpy() - premise_labels))
        else:
            seq = [_plain_sequence(smollm2, row.prompt, " " + c) for c in item.choices]
            probs = np.exp([s for s, _ in seq])
            np.testing.assert_allclose(row.choice_probs, probs, atol=1e-4)
            np.testing.assert_allclose(row.choice_first_probs, np.exp([f for _, f in seq]), atol=1e-4)
            premise = [_plain_sequence(smollm2, "Answer:", " " + c)[0] for c in item.choices]
            assert row.pred_pmi == int(np.argmax(np.array([s for s, _ in seq]) - premise))
            lengths = np.array([len(c) for c in item.choices])
            assert row.pred_norm == int(np.argmax(np.array([s for s, _ in seq]) / lengths))
        assert row.pma == pytest.approx(probs.sum(), abs=1e-4)
        top = np.sort(probs)[::-1]
        assert row.resolved == bool(1 - probs.sum() < top[0] - top[1])
    # the story is real: at 0 shots only a few percent of the mass is on " A".." D"
    assert rows[rows[C.FORMAT] == "letters"][C.PMA].max() < 0.3


def test_layer_pma_equals_a_hooked_plain_forward(smollm2):
    item = capitals(1)[0]
    layers = layer_pma(smollm2, [item], "letters")
    hf = smollm2.model
    caught = {}
    hook = hf.model.layers[20].register_forward_hook(
        lambda m, i, o: caught.__setitem__("h", o[0] if isinstance(o, tuple) else o))
    try:
        ids = smollm2.tokenizer(DEFAULT_FORMAT.build(item), return_tensors="pt")["input_ids"]
        with torch.no_grad():
            final = torch.softmax(hf(ids).logits[0, -1].double(), -1)
            mid = torch.softmax(hf.lm_head(hf.model.norm(caught["h"][0, -1])).double(), -1)
    finally:
        hook.remove()
    labels = [smollm2.tokenizer(" " + x, add_special_tokens=False)["input_ids"][0] for x in "ABCD"]
    by_layer = layers.set_index(C.LAYER)
    np.testing.assert_allclose(by_layer.loc[21, C.CHOICE_PROBS], mid[labels].numpy(), atol=1e-4)
    np.testing.assert_allclose(by_layer.loc[30, C.CHOICE_PROBS], final[labels].numpy(), atol=1e-4)


def test_demonstrations_come_from_the_pool_and_seeds_fix_prompts(smollm2):
    pool, items = split_pool(capitals(7), 4, seed=1)
    a = attentiveness(smollm2, items, ["letters"], shots=[1], seeds=[0, 1], pool=pool)
    b = attentiveness(smollm2, items, ["letters"], shots=[1], seeds=[0, 1], pool=pool)
    assert a[C.PROMPT].tolist() == b[C.PROMPT].tolist()
    for row in a.itertuples():
        shown = [i for i in items if i.question in row.prompt]
        assert [i.id for i in shown] == [row.item_id]  # no other scored item appears as a demonstration
        assert sum(p.question in row.prompt for p in pool) == 1
    by_seed = a.pivot(index=C.ITEM_ID, columns=C.SEED, values=C.PROMPT)
    assert (by_seed[0] != by_seed[1]).any()


def test_cli_end_to_end(smollm2, tmp_path, capsys):
    from explorer.cli.main import main

    items = capitals(4, seed=3)
    data = save_jsonl(items, tmp_path / "items.jsonl")
    out, summary = tmp_path / "rows.jsonl", tmp_path / "summary.json"
    assert main(["attentiveness", "--data", str(data), "--formats", "letters", "--shots", "0", "--out", str(out),
                 "--summary", str(summary), "--bootstrap", "100"]) == 0
    rows = pd.read_json(out, lines=True)
    assert rows[C.ITEM_ID].tolist() == [i.id for i in items]  # every item scored
    assert rows[C.PROMPT].tolist() == [DEFAULT_FORMAT.build(i) for i in items]  # exactly the default format
    s = json.loads(summary.read_text())
    cell = s["letters"]["0"]
    for key in ("pma_mean", "accuracy", "resolved_share", "invalid_share", "n_items"):
        assert key in cell
    assert cell["n_items"] == 4 and cell["pma_mean"] == pytest.approx(rows[C.PMA].mean(), abs=1e-9)

    # shots > 0 with a single data file: a seeded split, announced, with the pool never scored
    assert main(["attentiveness", "--data", str(data), "--formats", "letters", "--shots", "0,1", "--seeds", "2",
                 "--pool-size", "1", "--bootstrap", "100", "--out", str(out), "--summary", str(summary)]) == 0
    assert "demonstration pool of 1 items" in capsys.readouterr().out
    rows, s = pd.read_json(out, lines=True), json.loads(summary.read_text())
    pool_ids = s["_meta"]["demonstrations"]["pool_ids"]
    assert len(pool_ids) == 1 and not set(pool_ids) & set(rows[C.ITEM_ID])
    assert s["letters"]["1"]["n_rows"] == 6 and s["letters"]["0"]["n_rows"] == 3


def test_notebook_runs():
    from tests.nbrun import run_notebook

    nb = run_notebook("notebooks/attentiveness.ipynb", timeout=600)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("letters, 1 shot" in o.get("text", "") for o in outputs)
    static = [o["data"]["text/html"] for o in outputs if "lmx-static" in o.get("data", {}).get("text/html", "")]
    assert static and static[0].count("data:image/png;base64,") == 4  # the view's four figures, saved as images
