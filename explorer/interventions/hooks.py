"""Forward hooks that lm-explorer registers: bound to one thread, removed in ``finally``, known to the model.

Every hook the project puts on a model goes through :func:`add_hook`. It acts only on forward passes
run by the thread that registered it, so a widget capturing or scaling in its worker thread never
sees or changes another view's passes. Its id is recorded on the :class:`LoadedModel`, so the result
cache can tell the project's own hooks (whose effect is in the cache key) from anyone else's (whose
effect it cannot know: while one is attached the cache is bypassed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack

from torch import nn

from explorer.models.handle import LoadedModel


def add_hook(stack: ExitStack, model: LoadedModel, module: nn.Module, fn: Callable, *, pre: bool = False,
             with_kwargs: bool = False) -> None:
    """Register ``fn`` as a forward (pre-)hook of ``module`` until ``stack`` closes.

    ``fn`` has the signature torch gives the chosen kind of hook; it is called for this thread's
    forward passes only (others see no hook: it returns None for them).
    """
    owner = threading.get_ident()

    def guarded(*args, **kwargs):
        return fn(*args, **kwargs) if threading.get_ident() == owner else None

    register = module.register_forward_pre_hook if pre else module.register_forward_hook
    handle = register(guarded, with_kwargs=with_kwargs)
    model.own_hook_ids.add(handle.id)

    def remove() -> None:
        handle.remove()
        model.own_hook_ids.discard(handle.id)

    stack.callback(remove)
