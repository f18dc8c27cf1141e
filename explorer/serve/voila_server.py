"""Voila with a spare kernel that no page waits for.

Voila refills its pool of pre-heated kernels by putting a task in it at once that sleeps ``fill_delay`` seconds
and then starts the kernel. A page that arrives in between takes that task and waits out the sleep: with the
demo's delay (30 s, so the spare does not start while the first page's work runs) the second visitor's page
answered after 30 s, and five visitors opening one after another waited about 30 s each (121 s for the last).

Here a refill with a delay is scheduled on the server's loop instead, and the pool stays empty until the spare
starts: a page that arrives meanwhile gets a kernel of its own at once (Voila's path when no spare is ready), and
the spare still starts only after the delay. ``python -m explorer.serve.voila_server ARGS`` is ``python -m voila
ARGS`` with that change (made where ARGS hold ``--preheat_kernel=True``, as the demo's do with a spare).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def deferred_refill(manager: type) -> type:
    """``manager`` (Voila's pre-heating kernel manager class) refilling its pool ``fill_delay`` seconds after a
    page takes a kernel, with nothing in the pool meanwhile."""

    class DeferredRefill(manager):  # type: ignore[misc, valid-type]
        def fill_if_needed(self, delay: float | None = None, notebook_name: str | None = None,
                           **kwargs: Any) -> None:
            delay = self.fill_delay if delay is None else delay
            refill = super().fill_if_needed
            if delay <= 0:
                refill(delay=0, notebook_name=notebook_name, **kwargs)
                return
            handles = self.__dict__.setdefault("_refills", set())

            def now() -> None:
                handles.discard(handle)
                refill(delay=0, notebook_name=notebook_name, **kwargs)

            handle = asyncio.get_event_loop().call_later(delay, now)
            handles.add(handle)

        async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
            for handle in self.__dict__.pop("_refills", ()):
                handle.cancel()  # no spare starts while the server stops
            await super().shutdown_all(*args, **kwargs)

    return DeferredRefill


def patch_voila() -> None:
    """Make Voila's app build its pre-heating kernel manager with :func:`deferred_refill`."""
    import voila  # noqa: PLC0415 - only the server needs Voila
    import voila.app  # noqa: PLC0415

    made = getattr(voila.app, "voila_kernel_manager_factory", None)
    if made is None:
        raise RuntimeError(f"Voila {voila.__version__} builds its kernel manager otherwise than 0.5 did: "
                           "explorer/serve/voila_server.py needs updating for it (or serve with --no-spare)")
    if getattr(made, "deferred_refill", False):
        return

    def factory(base_class: type, preheat_kernel: bool, default_pool_size: int, **kwargs: Any) -> type:
        manager = made(base_class, preheat_kernel, default_pool_size, **kwargs)
        return deferred_refill(manager) if preheat_kernel else manager

    factory.deferred_refill = True  # type: ignore[attr-defined]
    voila.app.voila_kernel_manager_factory = factory


def main() -> None:
    """Voila's command line, with :func:`patch_voila` where it pre-heats kernels (``--preheat_kernel=True``)."""
    if "--preheat_kernel=True" in sys.argv[1:]:
        patch_voila()
    from voila.app import main as voila_main  # noqa: PLC0415

    sys.exit(voila_main())


if __name__ == "__main__":
    main()
