"""The model host: one process that holds the models of a served dashboard and runs every page's engine work.

Served, each page gets a kernel of its own. Were the model in each, every page would hold torch,
transformers and a copy of the weights (about 1 GB for SmolLM2-135M): a 2 GB server holds one page. The
host holds them once; a page's kernel holds the widgets, its frames and a :class:`~explorer.serve.remote.
RemoteModel`, and asks the host for each run (:func:`explorer.serve.calls.run`).

It listens on a Unix socket in a folder only its user can enter, and a connection must prove it knows the
host's key (``multiprocessing.connection``'s challenge, before anything is read): the kernels Voila starts
inherit both through the environment (:data:`ADDRESS_ENV`, :data:`KEY_ENV`). It loads only what its policy
offers (:mod:`explorer.serve.policy`, the same as the pages'), runs only :data:`~explorer.serve.calls.CALLS`
on models it loaded, and sends an error back as an exception of the engine's own types, never its traceback.

A request is one connection: ``("load", name)`` answers the model's description; ``("call", key, function,
args, kwargs, heads)`` answers the function's result, with ``("progress", done, total)`` messages meanwhile
when asked. The caller closing the connection (or sending anything) cancels the run at its next batch.

``python -m explorer.serve.host [--preload NAME] -- COMMAND...`` runs ``COMMAND`` (Voila, Binder's server)
beside a host, with the environment its kernels need, and stops the host when the command ends.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import AuthenticationError, Connection, Listener
from pathlib import Path
from typing import Any

from explorer.errors import ExplorerError, Refused, RemoteError
from explorer.models.registry import ModelRegistry
from explorer.serve.calls import run
from explorer.serve.memory import release_memory
from explorer.serve.policy import ENV as POLICY_ENV
from explorer.serve.policy import Policy, current_policy, served

ADDRESS_ENV = "LM_EXPLORER_MODEL_HOST"  # the host's socket
KEY_ENV = "LM_EXPLORER_MODEL_HOST_KEY"  # its key, hex


def describe(key: str, model: Any) -> dict[str, Any]:
    """What a page needs of a loaded model: its names, fingerprint (memo keys) and ``info()`` (the status line)."""
    return {"key": key, "name": model.name, "source": model.source, "fingerprint": model.fingerprint,
            "info": model.info()}


def portable(error: BaseException) -> Exception:
    """``error`` as the page can receive it: itself when it is one of the engine's or Python's own types and
    survives pickling, else a :class:`RemoteError` with its type and message (a page imports no torch)."""
    module = type(error).__module__
    if isinstance(error, Exception) and (module == "builtins" or module.startswith("explorer.")):
        try:
            pickle.loads(pickle.dumps(error))
            return error
        except Exception:  # noqa: BLE001 - a type that does not round-trip is sent as text
            pass
    return RemoteError(f"{type(error).__name__}: {error}")


class _Caller:
    """The connection of one request, as the run sees it: progress sent back, cancel when the caller is gone."""

    def __init__(self, conn: Connection) -> None:
        self.conn, self.gone = conn, False

    def cancelled(self) -> bool:
        if not self.gone:
            try:
                if self.conn.poll():
                    self.conn.recv()  # the caller cancelled (or closed: EOFError)
                    self.gone = True
            except (EOFError, OSError):
                self.gone = True
        return self.gone

    def send(self, message: tuple) -> None:
        if not self.gone:
            try:
                self.conn.send(message)
            except OSError:
                self.gone = True

    def progress(self, done: int, total: int) -> None:
        self.send(("progress", int(done), int(total)))


class ModelHost:
    """Serves ``load`` and ``call`` requests on ``address`` (a Unix socket path) to callers that know ``authkey``,
    under ``policy``, each request in a thread of its own (runs on one model take turns: ``calls.model_lock``)."""

    def __init__(self, address: str, authkey: bytes, policy: Policy | None = None,
                 registry: ModelRegistry | None = None) -> None:
        self.address, self._authkey = address, authkey
        self.policy = policy if policy is not None else served()
        self.registry = registry if registry is not None else ModelRegistry(capacity=self.policy.max_models)
        self._admitted: set[str] = set()  # keys loaded through the policy: the only ones a call may name
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self.requests = 0  # requests answered (tests, the log)
        self._running = 0  # requests being answered now
        self._count = threading.Lock()

    def env(self) -> dict[str, str]:
        """The environment a kernel needs to reach this host (:func:`explorer.serve.remote.host_loader` reads it)."""
        return {ADDRESS_ENV: self.address, KEY_ENV: self._authkey.hex()}

    def admit(self, name: str, model: Any) -> None:
        """Hold ``model`` (loaded by the operator, e.g. the demo's own) under ``name`` as if a page had loaded it."""
        key = self.registry.add(name, model)
        self._admitted.add(key)

    def start(self) -> ModelHost:
        self._listener = Listener(self.address, family="AF_UNIX", authkey=self._authkey, backlog=64)
        self._thread = threading.Thread(target=self._accept, daemon=True, name="lm-explorer-host")
        self._thread.start()
        return self

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> ModelHost:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def _accept(self) -> None:
        while self._listener is not None:
            try:
                conn = self._listener.accept()
            except (AuthenticationError, EOFError):  # no key, or gone before answering the challenge
                print("lm-explorer host: refused a connection without the key", file=sys.stderr, flush=True)
                continue
            except OSError:
                if self._listener is None:
                    return  # closed
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="lm-explorer-host-call").start()

    def _serve(self, conn: Connection) -> None:
        caller = _Caller(conn)
        with self._count:
            self._running += 1
        try:
            request = conn.recv()
            caller.send(("result", self._answer(request, caller)))
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the page as one line
            if not isinstance(e, ExplorerError):
                traceback.print_exc(file=sys.stderr)  # the server's log, never the page
            caller.send(("error", portable(e)))
        finally:
            conn.close()
            with self._count:
                self.requests, self._running = self.requests + 1, self._running - 1
                idle = self._running == 0
            if idle:  # not after every chunk of a view's work (a collection takes ~0.15 s with torch loaded)
                release_memory()

    def _answer(self, request: Any, caller: _Caller) -> Any:
        kind = request[0] if isinstance(request, tuple) and request else None
        if kind == "load":
            name = self.policy.check_model(str(request[1]))
            model = self.registry.load(name, cancel=caller.cancelled)
            key = self.registry.key(name)
            self._admitted.add(key)
            return describe(key, model)
        if kind == "call":
            _, key, function, args, kwargs, heads = request
            if key not in self._admitted:
                raise Refused(f"model {key!r} was not loaded through this host; load it first")
            model = self.registry.load(key, cancel=caller.cancelled)  # loaded again if another page's load evicted it
            kwargs = dict(kwargs)
            if kwargs.pop("progress", None):
                kwargs["progress"] = caller.progress
            if kwargs.pop("cancel", None):
                kwargs["cancel"] = caller.cancelled
            return run(model, function, *args, heads=heads, **kwargs)
        raise Refused(f"the model host answers load and call requests, not {kind!r}")


@contextmanager
def hosting(policy: Policy | None = None, registry: ModelRegistry | None = None) -> Iterator[ModelHost]:
    """A host on a fresh socket in a private folder (mode 0700) with a fresh key, for the block; ``host.env()`` is
    what the kernels of a command run beside it need. The folder goes with the block."""
    folder = Path(tempfile.mkdtemp(prefix="lmx-host-"))
    try:
        with ModelHost(str(folder / "models.sock"), os.urandom(32), policy, registry) as host:
            yield host
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_beside(command: list[str], host: ModelHost, **popen: Any) -> int:
    """Run ``command`` with the host's environment until it ends (signals to this process go to it)."""
    env = {**popen.pop("env", os.environ), **host.env()}
    child = subprocess.Popen(command, env=env, **popen)
    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    before = {sig: signal.signal(sig, lambda s, _f: child.send_signal(s)) for sig in signals}
    try:
        return child.wait()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def hosted_command(command: list[str], *, preload: str | None = None) -> list[str]:
    """``command`` run beside a model host of its own (this module's ``main``), loading ``preload`` at once."""
    return [sys.executable, "-m", "explorer.serve.host", *(["--preload", preload] if preload else []), "--", *command]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.serve.host",
                                     description="run COMMAND (Voila, a Jupyter server) beside a model host that its "
                                     "kernels share")
    parser.add_argument("--preload", default=None, metavar="MODEL", help="load this model at once (default: on the "
                        "first page's request)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    policy = current_policy() if os.environ.get(POLICY_ENV) else served()
    with hosting(policy) as host:
        if args.preload:
            name = policy.check_model(args.preload)
            threading.Thread(target=host.registry.load, args=(name,), daemon=True, name="lm-explorer-preload").start()
        return run_beside(command, host)


if __name__ == "__main__":
    sys.exit(main())
