"""Per-head direct logit attribution: exact decomposition, batching, and agreement with ablation."""

from __future__ import annotations

import doctest

import pytest
import torch

from explorer import columns as C
from explorer.interventions import scale_heads
from explorer.probes import heads as heads_module
from explorer.probes.counterfactual import answer_tokens, records_from_dicts
from explorer.probes.heads import attribute, capture, head_attribution, logit_diff_components
from tests.tiny import tiny_model

RECORDS = records_from_dicts([
    {"id": "long", "prompt": "The capital of France is Rome . Q : What is the capital of France ? A :",
     "target": "Rome", "foil": "Paris"},
    {"id": "short", "prompt": "What is the capital of Italy ?", "target": "Berlin", "foil": "Rome"},
    {"id": "mid", "prompt": "Question : the capital of Spain is", "target": "Madrid", "foil": "Paris"},
])


@torch.no_grad()
def _plain_logit_diff(model, record) -> float:
    """logit(target) - logit(foil) from one unpadded plain forward pass, before any soft-capping."""
    ids = model.tokenizer(record.prompt, return_tensors="pt")["input_ids"]
    logits = model.model(input_ids=ids).logits[0, -1].double()
    cap = model.parts.logit_softcap
    if cap:
        logits = cap * torch.atanh(logits / cap)
    t, f = answer_tokens(model.tokenizer, [record])
    return float(logits[int(t[0])] - logits[int(f[0])])


def test_terms_add_up_to_the_logit_difference(tiny_any):
    frame = head_attribution(tiny_any, RECORDS)
    parts = tiny_any.parts
    assert list(frame.columns) == C.HEAD_ATTRIBUTION_COLUMNS
    assert len(frame) == len(RECORDS) * parts.n_layers * parts.n_heads
    comps = logit_diff_components(tiny_any, RECORDS)
    totals = comps.groupby(C.PROMPT_ID)[C.ATTRIBUTION].sum()
    for r in RECORDS:
        plain = _plain_logit_diff(tiny_any, r)
        mine = frame[frame[C.PROMPT_ID] == r.id]
        assert mine[C.LOGIT_DIFF].iloc[0] == pytest.approx(plain, abs=1e-4)
        assert totals[r.id] == pytest.approx(plain, abs=1e-4)
        head_sum = comps[(comps[C.PROMPT_ID] == r.id) & (comps[C.COMPONENT] == "heads")][C.ATTRIBUTION].sum()
        assert mine[C.ATTRIBUTION].sum() == pytest.approx(head_sum, abs=1e-5)
    assert set(comps[C.COMPONENT]) == {"embeddings", "heads", "attn_bias", "mlp", "norm_bias"}


@torch.no_grad()
def _reference_head_terms(model, record) -> torch.Tensor:
    """[layers, heads] by hand, one unpadded prompt, none of the probe's code: each head's write is
    what the output projection module itself makes of that head's slice alone (minus its bias),
    put through the final norm with the clean run's scale, dotted with W_U[target] - W_U[foil]."""
    ids = model.tokenizer(record.prompt, return_tensors="pt")["input_ids"]
    parts, seen = model.parts, {}
    hooks = [parts.out_proj(l).register_forward_pre_hook(lambda m, a, l=l: seen.__setitem__(l, a[0][0, -1].clone()))
             for l in range(parts.n_layers)]
    hooks.append(parts.final_norm().register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0][0, -1].clone())))
    try:
        model.model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()
    norm = parts.final_norm()
    layer_norm = isinstance(norm, torch.nn.LayerNorm)
    x = seen["x"].double()
    x = x - x.mean() if layer_norm else x
    eps = getattr(norm, "eps", None) or getattr(norm, "variance_epsilon")
    scale = torch.sqrt(x.pow(2).mean() + eps)
    w_u = model.model.get_output_embeddings().weight.double()
    t, f = answer_tokens(model.tokenizer, [record])
    direction = w_u[int(t[0])] - w_u[int(f[0])]
    out = torch.zeros(parts.n_layers, parts.n_heads, dtype=torch.float64)
    for l in range(parts.n_layers):
        proj, z = parts.out_proj(l), seen[l]
        for h in range(parts.n_heads):
            only = torch.zeros_like(z)
            only[h * parts.head_dim : (h + 1) * parts.head_dim] = z[h * parts.head_dim : (h + 1) * parts.head_dim]
            write = (proj(only[None]) - proj(torch.zeros_like(z)[None]))[0].double()
            write = write - write.mean() if layer_norm else write
            out[l, h] = (write / scale * norm.weight.double()) @ direction
    return out


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gpt_neox"])  # GQA (Linear), MHA (Conv1D), MHA (Linear)
def test_each_head_equals_a_hand_computed_reference(arch):
    model = tiny_model(arch)
    frame = head_attribution(model, RECORDS, batch_size=2)
    for r in RECORDS:
        ref = _reference_head_terms(model, r)
        mine = frame[frame[C.PROMPT_ID] == r.id].sort_values([C.LAYER, C.HEAD])[C.ATTRIBUTION].to_numpy()
        assert ref.abs().max() > 0.05  # heads that matter, so agreement means something
        assert mine == pytest.approx(ref.numpy().ravel(), abs=1e-4)


def test_head_slices_rebuild_the_output_projection(tiny_any):
    """sum_h z_h @ W_O[h] + bias equals what the output projection wrote (W_O layout, GQA-safe)."""
    cap = capture(tiny_any, [r.prompt for r in RECORDS])
    p = tiny_any.parts
    for layer in range(p.n_layers):
        z = cap.z[:, layer].reshape(len(RECORDS), p.n_heads, p.head_dim)
        rebuilt = torch.einsum("bhk,hkD->bD", z, p.out_proj_weight_by_head(layer).detach().float())
        bias = p.out_proj_bias(layer)
        if bias is not None:
            rebuilt = rebuilt + bias.detach().float()
        torch.testing.assert_close(rebuilt, cap.attn_out[:, layer], atol=1e-5, rtol=1e-5)


def test_left_padded_batch_equals_one_prompt_at_a_time(tiny_any):
    batched = head_attribution(tiny_any, RECORDS, batch_size=3)
    alone = [head_attribution(tiny_any, [r]) for r in RECORDS]
    for r, single in zip(RECORDS, alone):
        mine = batched[batched[C.PROMPT_ID] == r.id]
        assert mine[C.ATTRIBUTION].to_numpy() == pytest.approx(single[C.ATTRIBUTION].to_numpy(), abs=1e-4)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma3_text", "gpt2", "gpt_neox", "mistral"])
def test_sign_agrees_with_ablation(arch):
    """Constructed case: with the last block's MLP zeroed, a last-layer head acts on the logits
    only directly, so zeroing the head with the largest |attribution| moves the logit
    difference opposite to that attribution."""
    model = tiny_model(arch)
    last = model.parts.n_layers - 1
    with torch.no_grad():
        zeroed = [p.zero_() for name, p in model.parts.layers()[last].named_parameters() if "mlp" in name]
    assert zeroed
    for r in RECORDS:
        base = head_attribution(model, [r])
        in_last = base[base[C.LAYER] == last]
        top = in_last.loc[in_last[C.ATTRIBUTION].abs().idxmax()]
        with scale_heads(model, {(last, int(top[C.HEAD])): 0.0}):
            ablated = head_attribution(model, [r])
        delta = ablated[C.LOGIT_DIFF].iloc[0] - base[C.LOGIT_DIFF].iloc[0]
        assert delta * -top[C.ATTRIBUTION] > 0, (r.id, top.to_dict(), delta)
        assert ablated[C.INTERVENTION].iloc[0].startswith("scale L")


def test_one_forward_pass_per_batch(tiny, monkeypatch):
    calls = []
    base = tiny.parts.base_model()
    handle = base.register_forward_hook(lambda m, a, o: calls.append(1))
    try:
        head_attribution(tiny, RECORDS, batch_size=2)
    finally:
        handle.remove()
    assert len(calls) == 2  # ceil(3 / 2), never one per head


def test_shapes(tiny):
    t, f = answer_tokens(tiny.tokenizer, RECORDS)
    att = attribute(tiny, [r.prompt for r in RECORDS], t, f)
    assert att.heads.shape == (3, tiny.parts.n_layers, tiny.parts.n_heads)
    assert att.direction.shape == (3, tiny.parts.d_model)


def test_doctests():
    from explorer.metrics import heads as summaries  # noqa: PLC0415 - mean_attribution, top_heads, sweep_summary

    assert doctest.testmod(heads_module).failed == 0
    result = doctest.testmod(summaries)
    assert result.attempted > 0 and result.failed == 0
