"""Where each architecture keeps the modules the probes need: resolved here, and only here.

Probes never hard-code module paths; they ask a :class:`ModelParts` for the decoder blocks, the
attention output projection (whose *input* is the concatenation of the query heads' outputs),
the final normalisation and the unembedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from explorer.errors import UnsupportedArchitectureError

NormKind = Literal["rms", "rms_offset", "layer"]


@dataclass(frozen=True)
class Architecture:
    """Dotted attribute paths, relative to the ``*ForCausalLM`` module or to one block."""

    layers: str  # from the causal LM to the list of decoder blocks
    attention: str  # from a block to its self-attention module
    out_proj: str  # from the attention module to its output projection
    final_norm: str  # from the causal LM to the final normalisation
    norm_kind: NormKind  # rms: x/rms*w; rms_offset (Gemma): x/rms*(1+w); layer: LayerNorm
    out_proj_is_conv1d: bool = False  # GPT-2's Conv1D stores its weight as (in, out)
    post_attention_norm: str | None = None  # from a block: a norm on the attention output before the residual add


_LLAMA_LIKE = Architecture("model.layers", "self_attn", "o_proj", "model.norm", "rms")

ARCHITECTURES: dict[str, Architecture] = {
    "llama": _LLAMA_LIKE,
    "mistral": _LLAMA_LIKE,
    "qwen2": _LLAMA_LIKE,
    "qwen3": _LLAMA_LIKE,
    "gemma3_text": Architecture("model.layers", "self_attn", "o_proj", "model.norm", "rms_offset",
                                post_attention_norm="post_attention_layernorm"),
    "gemma2": Architecture("model.layers", "self_attn", "o_proj", "model.norm", "rms_offset",
                           post_attention_norm="post_attention_layernorm"),
    "gpt2": Architecture("transformer.h", "attn", "c_proj", "transformer.ln_f", "layer", out_proj_is_conv1d=True),
    "gpt_neox": Architecture("gpt_neox.layers", "attention", "dense", "gpt_neox.final_layer_norm", "layer"),
}


def _get(root: nn.Module, path: str) -> nn.Module:
    for name in path.split("."):
        root = getattr(root, name)
    return root


def execution_device(module: nn.Module) -> torch.device:
    """Where ``module`` computes: accelerate's execution device when a ``device_map`` dispatched it,
    else the device of its first parameter (CPU for a module without any)."""
    hook = getattr(module, "_hf_hook", None)
    device = getattr(hook, "execution_device", None)
    if device is not None:
        return torch.device(device) if not isinstance(device, int) else torch.device("cuda", device)
    first = next(module.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def materialized(module: nn.Module, name: str = "weight") -> torch.Tensor | None:
    """``module.<name>`` as a real tensor. A module offloaded by accelerate (``device_map`` with
    "cpu" or "disk" entries) keeps its weights on the meta device outside its own forward pass;
    they are read from the offload store onto its execution device for the caller."""
    tensor = getattr(module, name, None)
    if tensor is None or tensor.device.type != "meta":
        return tensor
    from accelerate.utils import align_module_device  # noqa: PLC0415 - only dispatched models get here

    with align_module_device(module, execution_device(module)):
        return getattr(module, name).detach().clone()


class ModelParts:
    """The modules and sizes of one loaded causal LM, by role."""

    def __init__(self, model: nn.Module) -> None:
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        model_type = config.model_type
        if model_type not in ARCHITECTURES:
            raise UnsupportedArchitectureError(
                f"no adapter for architecture {model_type!r}; supported: {sorted(ARCHITECTURES)}. "
                "Add an Architecture entry in explorer/models/architecture.py naming its modules."
            )
        self.model = model
        self.model_type: str = model_type
        self.arch = ARCHITECTURES[model_type]
        self.n_layers: int = config.num_hidden_layers
        self.n_heads: int = config.num_attention_heads
        self.n_kv_heads: int = getattr(config, "num_key_value_heads", None) or self.n_heads
        self.d_model: int = config.hidden_size
        self.head_dim: int = getattr(config, "head_dim", None) or self.d_model // self.n_heads
        self.logit_softcap: float | None = getattr(config, "final_logit_softcapping", None)

    def layers(self) -> nn.ModuleList:
        """The decoder blocks, in order."""
        return _get(self.model, self.arch.layers)

    def attention(self, layer: int) -> nn.Module:
        """Self-attention module of block ``layer``."""
        return _get(self.layers()[layer], self.arch.attention)

    def out_proj(self, layer: int) -> nn.Module:
        """Attention output projection of block ``layer``; its input is [..., n_heads * head_dim]."""
        return _get(self.attention(layer), self.arch.out_proj)

    def out_proj_weight_by_head(self, layer: int) -> torch.Tensor:
        """W_O split by query head: [n_heads, head_dim, d_model], so head h writes z_h @ W[h]."""
        w = materialized(self.out_proj(layer))
        w_in_out = w if self.arch.out_proj_is_conv1d else w.T  # [n_heads * head_dim, d_model]
        return w_in_out.reshape(self.n_heads, self.head_dim, self.d_model)

    def out_proj_bias(self, layer: int) -> torch.Tensor | None:
        """Bias of the output projection (added once, not per head), or None."""
        return materialized(self.out_proj(layer), "bias")

    def post_attention_norm(self, layer: int) -> nn.Module | None:
        """The norm block ``layer`` applies to its attention output before the residual add (Gemma),
        or None where the attention output is added as it is."""
        name = self.arch.post_attention_norm
        return _get(self.layers()[layer], name) if name else None

    def final_norm(self) -> nn.Module:
        """The normalisation applied to the residual stream before the unembedding."""
        return _get(self.model, self.arch.final_norm)

    def norm_scale(self, resid: torch.Tensor) -> torch.Tensor:
        """The final norm's per-position divisor for residual ``resid`` [..., d_model] -> [..., 1].

        Freezing it (computing it once on the clean run) makes the norm linear, which is what
        direct logit attribution needs.
        """
        norm = self.final_norm()
        eps = getattr(norm, "variance_epsilon", None) or getattr(norm, "eps", None) or 1e-5
        x = resid.float()
        if self.arch.norm_kind == "layer":
            x = x - x.mean(-1, keepdim=True)
        return torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)

    def apply_frozen_norm(self, resid: torch.Tensor, scale: torch.Tensor, *, center: bool = True) -> torch.Tensor:
        """The final norm as a linear map with a given ``scale``: (x [- mean]) / scale * gamma (+ beta).

        With ``center=False`` the LayerNorm bias is left out (a component's share carries no bias).
        """
        norm = self.final_norm()
        x = resid.float()
        if self.arch.norm_kind == "layer":
            x = x - x.mean(-1, keepdim=True)
        gamma = materialized(norm).float().to(x.device)
        if self.arch.norm_kind == "rms_offset":
            gamma = 1.0 + gamma
        out = x / scale.to(x.device) * gamma
        bias = materialized(norm, "bias")
        if center and bias is not None:
            out = out + bias.float().to(x.device)
        return out

    def unembedding(self) -> torch.Tensor:
        """W_U as [vocab, d_model] (the output embedding's weight)."""
        return materialized(self.model.get_output_embeddings())

    def logits(self, normed: torch.Tensor) -> torch.Tensor:
        """Logits from final-normalised hidden states, applying Gemma's soft-capping when set."""
        head = self.model.get_output_embeddings()
        logits = head(normed.to(head.weight.dtype)).float()
        if self.logit_softcap:
            logits = torch.tanh(logits / self.logit_softcap) * self.logit_softcap
        return logits

    def input_device(self) -> torch.device:
        """Where input ids go: the input embedding's execution device (the first module of a
        ``device_map``); accelerate moves activations between the devices after it."""
        return execution_device(self.model.get_input_embeddings())

    def base_model(self) -> nn.Module:
        """The decoder without its LM head; its last hidden state is already final-normalised."""
        return self.model.base_model
