"""A page's side of the model host (:mod:`explorer.serve.host`): the model a served dashboard's views hold, and
the loader its model registry uses, when the kernel runs beside a host (``$LM_EXPLORER_MODEL_HOST``).

Nothing here imports torch: a page's kernel sends items and options, and receives frames."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import AuthenticationError, Client
from typing import Any

from explorer.errors import Cancelled, ModelLoadError
from explorer.serve.host import ADDRESS_ENV, KEY_ENV

POLL_S = 0.05  # how often a waiting caller checks its cancel flag


def ask(address: str, authkey: bytes, request: tuple, *, progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None) -> Any:
    """Send ``request`` to the host and wait for its answer (reporting its progress); raise what it raised.
    Cancelling closes the connection, which stops the host's run at its next batch."""
    try:
        conn = Client(address, family="AF_UNIX", authkey=authkey)
    except (OSError, AuthenticationError) as e:
        raise ModelLoadError(f"the model host at {address} does not answer ({type(e).__name__}: {e}); it runs beside "
                             "the server (lm-explorer demo, python -m explorer.serve.host): restart the server") from None
    with conn:
        conn.send(request)
        while True:
            if cancel is not None and cancel():
                raise Cancelled("cancelled")
            if not conn.poll(POLL_S):
                continue
            try:
                message = conn.recv()
            except (EOFError, OSError):
                raise ModelLoadError(f"the model host at {address} stopped before answering; restart the "
                                     "server") from None
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif message[0] == "result":
                return message[1]
            else:
                raise message[1]


@dataclass(frozen=True)
class RemoteModel:
    """A model loaded in the host, as a view holds it: ``name``, ``fingerprint`` and ``info()`` as the model's
    own; engine work goes through :func:`explorer.serve.calls.run`, which sends it to the host."""

    key: str
    name: str
    source: str
    fingerprint: str
    details: Mapping[str, Any]
    address: str
    authkey: bytes = field(repr=False)

    def info(self) -> dict[str, Any]:
        return dict(self.details)

    def remote_call(self, function: str, args: tuple, kwargs: dict[str, Any],
                    heads: dict[tuple[int, int], float]) -> Any:
        """``function(model, *args, **kwargs)`` run by the host under ``heads``."""
        kwargs = dict(kwargs)
        progress, cancel = kwargs.pop("progress", None), kwargs.pop("cancel", None)
        sent = {**kwargs, **({"progress": True} if progress is not None else {}),
                **({"cancel": True} if cancel is not None else {})}
        return ask(self.address, self.authkey, ("call", self.key, function, args, sent, heads), progress=progress,
                   cancel=cancel)


@dataclass(frozen=True)
class HostLoader:
    """A :class:`~explorer.models.registry.ModelRegistry` loader that has the host load the model."""

    address: str
    authkey: bytes = field(repr=False)

    def __call__(self, name: str, *, cancel: Callable[[], bool] | None = None) -> RemoteModel:
        d = ask(self.address, self.authkey, ("load", name), cancel=cancel)
        return RemoteModel(key=d["key"], name=d["name"], source=d["source"], fingerprint=d["fingerprint"],
                           details=d["info"], address=self.address, authkey=self.authkey)


def host_loader(env: Mapping[str, str] | None = None) -> HostLoader | None:
    """The loader of the host this kernel runs beside, or None (a notebook: models load in the kernel)."""
    env = os.environ if env is None else env
    if not env.get(ADDRESS_ENV):
        return None
    try:
        key = bytes.fromhex(env.get(KEY_ENV, ""))
    except ValueError:
        key = b""
    if not key:
        raise ModelLoadError(f"{ADDRESS_ENV} is set but {KEY_ENV} holds no key (hex); start the server with "
                             "python -m explorer.serve.host")
    return HostLoader(env[ADDRESS_ENV], key)
