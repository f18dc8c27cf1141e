"""Turn a list of items into prompts under a format, with demonstrations drawn per item."""

from __future__ import annotations

from collections.abc import Sequence

from explorer.items.item import Item
from explorer.prompts.demos import draw_demonstrations
from explorer.prompts.format import PromptFormat


def build_prompts(items: Sequence[Item], fmt: PromptFormat, *, shots: int = 0, pool: Sequence[Item] = (),
                  seed: int = 0, tokenizer=None) -> list[str]:
    """One prompt per item. Demonstrations come from ``pool``, never from ``items``; each item gets
    its own draw, fixed by (seed, item id)."""
    scored_ids = {i.id for i in items}
    prompts = []
    for item in items:
        demos = draw_demonstrations(pool, shots, seed=seed, exclude=scored_ids, for_item=item.id) if shots else []
        prompts.append(fmt.build(item, demos, tokenizer=tokenizer))
    return prompts
