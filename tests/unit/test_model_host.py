"""The model host (``explorer.serve.host``) and a page's side of it (``explorer.serve.remote``), over a real Unix
socket: every engine function a view runs gives through the host exactly the frame it gives in process (head
scaling included), progress arrives, cancel stops the host's run, the host loads only what its policy offers and
runs only the engine's functions on models it loaded, a caller without the key is refused, errors come back as
the engine's own types. And a served dashboard beside a host, in a process of its own, walks every tab with the
same numbers as a dashboard holding the model, without ever importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from explorer.errors import Cancelled, ModelLoadError, Refused, RemoteError
from explorer.interventions import scale_heads
from explorer.models.registry import ModelRegistry
from explorer.probes import (chain_conditions, chain_probe, head_attribution,
                             item_contrasts, known_facts, layer_pma, permutation_probe, score_choices, sweep_heads)
from explorer.probes.attentiveness import attentiveness
from explorer.probes.counterfactual import Counterfactual
from explorer.serve import served
from explorer.serve.calls import CALLS, run
from explorer.serve.host import ADDRESS_ENV, KEY_ENV, hosted_command, hosting
from explorer.serve.remote import HostLoader, RemoteModel, host_loader
from tests.tiny import tiny_items, tiny_model
from tests.walk import walk

ROOT = Path(__file__).resolve().parents[2]
POLICY = served(models=("tiny",))


@pytest.fixture(scope="module")
def model():
    return tiny_model("llama")


@pytest.fixture
def host(model):
    registry = ModelRegistry(lambda key, cancel=None: model, capacity=1)
    with hosting(POLICY, registry) as h:
        yield h


@pytest.fixture
def remote(host) -> RemoteModel:
    return host_loader(host.env())("tiny")


def records() -> list[Counterfactual]:
    return [Counterfactual(id=f"r{i}", prompt=f"The capital of {c} is Rome.\nQ: What is the capital of {c}?\nA:",
                           target="Rome", foil=city, fact_prompt=f"Q: What is the capital of {c}?\nA:")
            for i, (c, city) in enumerate([("France", "Paris"), ("Germany", "Berlin"), ("Spain", "Madrid")])]


CASES = {
    "score_choices": lambda items: ((items, "letters"), {}),
    "attentiveness": lambda items: ((items, ["letters", "cloze"]), {"shots": [0]}),
    "layer_pma": lambda items: ((items[:3], "letters"), {"token_budget": 256}),
    "permutation_probe": lambda items: ((items,), {"orders": "cyclic"}),
    "item_contrasts": lambda items: ((items,), {}),
    "known_facts": lambda items: ((records(),), {"rule": "beats_target"}),
    "head_attribution": lambda items: ((records(),), {}),
    "sweep_heads": lambda items: ((records(), [(1, 0)], [0.0, 1.0]), {}),
    "chain_probe": lambda items: ((items, chain_conditions(formats=["letters", "cloze"])), {}),
}
LOCAL = {"score_choices": score_choices, "attentiveness": attentiveness, "layer_pma": layer_pma,
         "permutation_probe": permutation_probe, "item_contrasts": item_contrasts, "known_facts": known_facts,
         "head_attribution": head_attribution, "sweep_heads": sweep_heads, "chain_probe": chain_probe}


def same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


def test_every_function_a_view_runs_is_covered():
    assert set(CASES) == set(CALLS) == set(LOCAL)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_through_the_host_each_function_gives_what_it_gives_in_process(name, model, remote):
    args, kwargs = CASES[name](tiny_items(4))
    expected = LOCAL[name](model, *args, **kwargs)
    got = run(remote, name, *args, **kwargs)
    same(got, expected)
    assert len(got) > 0 or name == "known_facts"


def test_head_scaling_runs_on_the_host_and_leaves_its_model_as_it_was(model, remote):
    items = tiny_items(4)
    clean = permutation_probe(model, items)
    with scale_heads(model, {(1, 0): 0.0}):
        expected = permutation_probe(model, items)
    got = run(remote, "permutation_probe", items, heads={(1, 0): 0.0})
    pd.testing.assert_frame_equal(got, expected)
    assert not got["prob"].equals(clean["prob"])
    pd.testing.assert_frame_equal(run(remote, "permutation_probe", items), clean)  # nothing left scaled


def test_progress_arrives_from_the_host(remote):
    seen = []
    run(remote, "score_choices", tiny_items(8), "letters", batch_size=1, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] and len(seen) > 1


def test_cancel_stops_the_run_on_the_host_and_the_host_goes_on(remote, host):
    seen = []
    with pytest.raises(Cancelled):
        run(remote, "score_choices", tiny_items(8), "cloze", batch_size=1, cache=None,
            progress=lambda d, t: seen.append(d), cancel=lambda: bool(seen))
    before = host.requests
    frame = run(remote, "score_choices", tiny_items(2), "letters")  # the host answers the next request
    assert len(frame) == 8 and host.requests >= before + 1


def test_the_host_loads_only_what_its_policy_offers_and_runs_only_engine_functions(host, remote):
    loader = host_loader(host.env())
    with pytest.raises(Refused, match="not offered here; this dashboard loads .*tiny"):
        loader("/etc")
    with pytest.raises(Refused, match="was not loaded through this host"):
        RemoteModel(**{**remote.__dict__, "key": "gemma-3-270m"}).remote_call("score_choices", (tiny_items(1), "letters"),
                                                                              {}, {})
    with pytest.raises(Refused, match="not engine work a view runs"):
        remote.remote_call("__import__", ("os",), {}, {})


def test_errors_come_back_as_the_engines_own_types(remote):
    with pytest.raises(TypeError, match="unexpected keyword"):
        run(remote, "score_choices", tiny_items(1), "letters", no_such_option=1)
    with pytest.raises(Exception) as raised:
        run(remote, "score_choices", tiny_items(1), "no-such-format")
    assert type(raised.value).__module__.startswith("explorer.") and "no-such-format" in str(raised.value)


def test_a_caller_without_the_key_or_without_a_host_gets_one_clear_error(host, tmp_path):
    with pytest.raises(ModelLoadError, match="does not answer"):
        HostLoader(host.address, b"not the key")("tiny")
    with pytest.raises(ModelLoadError, match="does not answer"):
        HostLoader(str(tmp_path / "none.sock"), b"k")("tiny")
    assert host_loader({}) is None
    with pytest.raises(ModelLoadError, match="holds no key"):
        host_loader({ADDRESS_ENV: host.address, KEY_ENV: ""})
    assert oct(Path(host.address).parent.stat().st_mode)[-3:] == "700"


def test_non_engine_errors_reach_the_page_as_text():
    from explorer.serve.host import portable

    class Foreign(Exception):
        pass

    Foreign.__module__ = "torch.cuda"
    error = portable(Foreign("out of memory"))
    assert isinstance(error, RemoteError) and str(error) == "Foreign: out of memory"


PAGE = r"""
import json, sys
from tests.walk import walk
from widgets.dashboard import Dashboard
d = Dashboard(start=False, n_items=4, model="tiny", frame_first=False)
d.load(); d.runner.wait(120)
assert d.model is not None, d.message.value
print(json.dumps({"numbers": walk(d), "torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules,
                  "model": type(d.model).__name__}))
"""


def walk_here(model) -> dict:
    """The same walk on a dashboard holding ``model`` in this process."""
    from widgets.dashboard import Dashboard  # noqa: PLC0415

    d = Dashboard(start=False, n_items=4, model="tiny", frame_first=False, policy=POLICY)
    d.models = ModelRegistry(lambda key, cancel=None: model, capacity=1)
    d.load()
    d.runner.wait(120)
    return walk(d)


def test_a_served_page_beside_the_host_shows_the_same_numbers_and_never_imports_torch(host, model):
    env = {**os.environ, **host.env(), "LM_EXPLORER_POLICY": POLICY.to_json(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PAGE], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    page = json.loads(done.stdout.strip().splitlines()[-1])
    assert page["model"] == "RemoteModel" and not page["torch"] and not page["transformers"], page
    here = walk_here(model)
    assert page["numbers"] == here
    assert page["numbers"]["permutation scaled"] != page["numbers"]["permutation"]


def test_one_copy_per_checkpoint_whatever_the_alias_and_however_many_pages_ask():
    loads = []

    def loader(key, cancel=None):
        loads.append(key)
        return tiny_model("llama")

    with hosting(served(), ModelRegistry(loader, capacity=1)) as h:
        ask = host_loader(h.env())
        threads = [threading.Thread(target=ask, args=(name,)) for name in ("smollm2", "smollm2-135m", "smollm2") * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert len(loads) == 1


def test_a_command_run_beside_a_host_reaches_it_and_the_host_goes_when_it_ends():
    script = ("import sys\nfrom explorer.serve.remote import host_loader\nloader = host_loader()\n"
              "try:\n    loader('/etc')\nexcept Exception as e:\n    print(type(e).__name__, loader.address)\n"
              "sys.exit(3)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LM_EXPLORER_POLICY", None)
    done = subprocess.run(hosted_command([sys.executable, "-c", script]), env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    refused, address = done.stdout.split()
    assert refused == "Refused"  # served by default: a path is no model
    assert not Path(address).parent.exists()  # the socket's folder goes with the host


def test_a_caller_that_leaves_mid_handshake_does_not_stop_the_host(host, remote):
    import socket  # noqa: PLC0415

    for _ in range(3):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(host.address)  # and gone without answering the challenge
    assert len(run(remote, "score_choices", tiny_items(1), "letters")) == 4
