"""The demo's Voila refills its spare kernel after a delay without a page waiting out that delay
(explorer/serve/voila_server.py): the mechanism on a stand-in manager, and the patch on Voila's own factory."""

from __future__ import annotations

import asyncio

import pytest

from explorer.serve.voila_server import deferred_refill, patch_voila


class Manager:
    """Stands in for Voila's pre-heating kernel manager: records the refills it is asked for."""

    fill_delay = 0.2

    def __init__(self) -> None:
        self.refills: list[tuple] = []
        self.shut = False

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs) -> None:
        self.refills.append((delay, notebook_name, kwargs))

    async def shutdown_all(self, *args, **kwargs) -> None:
        self.shut = True


def test_a_delayed_refill_leaves_the_pool_empty_until_it_starts():
    async def scenario() -> Manager:
        m = deferred_refill(Manager)()
        m.fill_if_needed(notebook_name="nb.ipynb", extra_kernel_env_variables={"X": "1"})  # a page took the spare
        await asyncio.sleep(0.05)
        assert m.refills == []  # nothing in the pool: a page arriving now gets a kernel of its own at once
        await asyncio.sleep(0.3)
        assert m.refills == [(0, "nb.ipynb", {"extra_kernel_env_variables": {"X": "1"}})]  # then the spare starts
        m.fill_if_needed(delay=0, notebook_name="other.ipynb")  # the server's first fill: at once
        assert m.refills[-1] == (0, "other.ipynb", {})
        return m

    asyncio.run(scenario())


def test_a_stopping_server_starts_no_spare():
    async def scenario() -> Manager:
        m = deferred_refill(Manager)()
        m.fill_if_needed(delay=0.1, notebook_name="nb.ipynb")
        await m.shutdown_all()
        await asyncio.sleep(0.2)
        return m

    m = asyncio.run(scenario())
    assert m.shut and m.refills == []


def test_voila_builds_its_pre_heating_manager_with_the_deferred_refill(monkeypatch):
    voila_app = pytest.importorskip("voila.app")
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    monkeypatch.setattr(voila_app, "voila_kernel_manager_factory", voila_app.voila_kernel_manager_factory)
    original = voila_app.voila_kernel_manager_factory
    patch_voila()
    patch_voila()  # twice is once
    factory = voila_app.voila_kernel_manager_factory
    assert factory is not original and factory.deferred_refill
    heating = factory(AsyncMappingKernelManager, True, 1)
    voilas = heating.__mro__[1]
    assert heating.__name__ == "DeferredRefill" and voilas.__name__ == "VoilaKernelManager"
    assert "fill_if_needed" in vars(voilas) and "fill_delay" in voilas.class_traits()  # what the patch relies on
    plain = factory(AsyncMappingKernelManager, False, 0)
    assert "fill_if_needed" not in dir(plain)  # no pool, nothing changed


def test_a_voila_without_the_factory_is_a_clear_error(monkeypatch):
    voila_app = pytest.importorskip("voila.app")
    monkeypatch.delattr(voila_app, "voila_kernel_manager_factory")
    with pytest.raises(RuntimeError, match="needs updating"):
        patch_voila()
