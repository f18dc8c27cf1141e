"""The plain batched transformers loop every engine benchmark is measured against (torch only, so a
whole-process run of it imports nothing of lm-explorer)."""

from __future__ import annotations

import numpy as np
import torch


@torch.inference_mode()
def plain_batched(model, tokenizer, prompts: list[str], token_ids: list[int], *, batch_size: int = 32,
                  sort: bool = False) -> np.ndarray:
    """Label log-probs [prompts, labels] at each prompt's last position: batches of ``batch_size`` (in the
    given order, or shortest first with ``sort``), left padding, full logits as a model call returns them."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    order = sorted(range(len(prompts)), key=lambda i: len(tokenizer(prompts[i]).input_ids)) if sort else \
        list(range(len(prompts)))
    device = next(model.parameters()).device
    out = np.zeros((len(prompts), len(token_ids)))
    for i in range(0, len(order), batch_size):
        rows = order[i : i + batch_size]
        enc = tokenizer([prompts[r] for r in rows], return_tensors="pt", padding=True).to(device)
        logits = model(**enc).logits  # [B, T, vocab]: every position
        # normalised in float64: float32 log_softmax on the CPU errs by ~1e-4 over a 262k vocabulary
        # (explorer/scoring/logprobs.py), which would count against the engine in the exactness check
        out[rows] = torch.log_softmax(logits[:, -1].double(), -1)[:, token_ids].cpu().numpy()
    return out


def padded_tokens(tokenizer, prompts: list[str], *, batch_size: int = 32, sort: bool = False) -> int:
    """Tokens the plain loop computes, padding included."""
    lengths = [len(tokenizer(p).input_ids) for p in prompts]
    if sort:
        lengths.sort()
    return sum(len(lengths[i : i + batch_size]) * max(lengths[i : i + batch_size])
               for i in range(0, len(lengths), batch_size))


def main() -> None:
    """A whole process of the plain loop: load the model folder with transformers, score, save."""
    import argparse  # noqa: PLC0415
    import json  # noqa: PLC0415

    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--prompts", required=True, help="JSONL with a 'prompt' per line")
    parser.add_argument("--out", required=True, help=".npy of label log-probs [prompts, labels]")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32).to(args.device).eval()
    prompts = [json.loads(line)["prompt"] for line in open(args.prompts, encoding="utf-8")]
    ids = [tokenizer(label, add_special_tokens=False).input_ids[0] for label in (" A", " B", " C", " D")]
    np.save(args.out, plain_batched(model, tokenizer, prompts, ids, batch_size=args.batch_size, sort=True))


if __name__ == "__main__":
    main()
