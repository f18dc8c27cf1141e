"""The model registry: one copy per checkpoint whatever alias names it, one load at a time, a load that is
cancelled keeps nothing, and with a capacity the least recently used model goes before a new one loads."""

from __future__ import annotations

import threading

import pytest

from explorer.errors import Cancelled
from explorer.models.names import canonical
from explorer.models.registry import ModelRegistry


class Fake:
    """A loader that records its calls and can be held inside a load."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.running = 0
        self.most = 0
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def __call__(self, name: str, *, cancel=None) -> object:
        with self.lock:
            self.calls.append(name)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            assert self.gate.wait(30)
            return object()
        finally:
            with self.lock:
                self.running -= 1


def test_every_alias_of_a_checkpoint_is_one_copy(tmp_path):
    fake = Fake()
    reg = ModelRegistry(fake)
    copies = {id(reg.load(name)) for name in ("smollm2", "smollm2-135m", "SmolLM2-135M-Instruct", None, " smollm2 ")}
    assert len(copies) == 1 and fake.calls == ["smollm2-135m"] and reg.keys() == ["smollm2-135m"]
    folder = tmp_path / "m"
    folder.mkdir()
    assert canonical(str(folder)) == canonical(str(folder) + "/") == canonical(str(tmp_path / "." / "m"))
    assert reg.load(str(folder)) is reg.load(str(folder) + "/") and len(fake.calls) == 2
    assert canonical("org/Name") == "org/Name"  # hub ids as written


def test_one_load_at_a_time_and_the_same_checkpoint_waits_for_its_load():
    fake = Fake()
    fake.gate.clear()
    reg = ModelRegistry(fake)
    got: list[object] = []
    threads = [threading.Thread(target=lambda n=n: got.append(reg.load(n))) for n in ("smollm2", "smollm2-135m",
                                                                                      "org/other", "org/other")]
    for t in threads:
        t.start()
    while not fake.calls:
        threading.Event().wait(0.01)
    assert reg.loading in ("smollm2-135m", "org/other")
    fake.gate.set()
    for t in threads:
        t.join(30)
    assert fake.most == 1 and sorted(fake.calls) == ["org/other", "smollm2-135m"] and len({id(g) for g in got}) == 2


def test_a_cancelled_load_keeps_nothing_and_capacity_drops_the_oldest():
    fake = Fake()
    reg = ModelRegistry(fake, capacity=2)
    with pytest.raises(Cancelled):
        reg.load("a/one", cancel=lambda: True)
    assert len(reg) == 0
    reg.load("a/one"), reg.load("a/two")
    reg.load("a/one")  # used again: "a/two" is now the oldest
    reg.load("a/three")
    assert reg.keys() == ["a/one", "a/three"] and "a/two" not in reg
    assert reg.unload("a/one") and not reg.unload("a/one") and reg.keys() == ["a/three"]
