"""The dashboard served to strangers (``explorer.serve``): what a visitor types into the model, data and
run-folder boxes is never read from the server's disk, unlisted hub ids download nothing, samples and
uploads are bounded (checked before parsing), each refusal is one line saying what is allowed and the same
whether a typed path exists or not; in a notebook everything stays open."""

from __future__ import annotations

import html
import io
import json
import socket
import sys
import threading

import pandas as pd
import pytest

from explorer.errors import Cancelled, Refused
from explorer.serve import OPEN, Policy, UploadLimits, current_policy, read_upload, served
from tests.unit.test_dashboard import saved_tiny, settle
from widgets.dashboard import Dashboard
from widgets.data_panel import HUB

_WATCH: list[str] = []  # folders whose reads are recorded, and what touched them
_SEEN: list[tuple[str, str]] = []


def _audit(event: str, args: tuple) -> None:
    if _WATCH and event in ("open", "os.listdir", "os.scandir", "os.walk", "glob.glob"):
        text = str(args[0]) if args else ""
        if any(text.startswith(w) for w in _WATCH):
            _SEEN.append((event, text))


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one only records, and only while _WATCH is set


@pytest.fixture
def watched(tmp_path):
    """A folder of the server's that holds a secret, watched for any read; yields (folder, reads)."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "items.jsonl").write_text(json.dumps({"question": "db_password=hunter2?", "choices": ["a", "b"]}))
    _WATCH.append(str(secret))
    _SEEN.clear()
    yield secret, _SEEN
    _WATCH.remove(str(secret))


@pytest.fixture
def served_dash(tmp_path):
    tiny = saved_tiny(tmp_path / "tiny")
    d = Dashboard(start=False, n_items=4, model=str(tiny), policy=served(models=(str(tiny),)))
    d.load()
    d.runner.wait(60)
    assert d.model is not None, d.message.value
    yield d
    for w in d.views.values():
        w.runner.cancel()


def one_line(html_text: str) -> str:
    """The text an HTML status line shows, checked to be one line with no traceback."""
    text = html.unescape(html_text)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def test_nothing_a_visitor_types_is_read_from_the_servers_disk(served_dash, watched, tmp_path, monkeypatch):
    d, (secret, reads) = served_dash, watched
    monkeypatch.setattr("explorer.items.io.load_split", lambda *a, **k: pytest.fail("a hub call was made"))
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connects.append(addr))
    missing = tmp_path / "no-such-folder"
    said = {}
    for label, path in (("secret", secret), ("missing", missing)):
        d.model_name.value = str(path)
        assert d.load() is None
        said[label, "model"] = one_line(d.message.value)
        d.data.source.value = str(path)  # the benchmark box (hidden: no hub id is listed; a page can still send it)
        assert d.data.load_benchmark() is None
        said[label, "data"] = one_line(d.data.status.value)
        assert d.runs.open(str(path)) is None
        said[label, "run"] = one_line(d.runs.info.value)
    for box in ("model", "data", "run"):  # the same refusal whether the path exists or not
        assert said["secret", box].replace(str(secret), "P") == said["missing", box].replace(str(missing), "P"), box
    assert "this dashboard loads smollm2-135m" in said["secret", "model"] and "is not offered here" in said[
        "secret", "model"]
    assert "loads the built-in sets, uploads and these hub data sets: none" in said["secret", "data"]
    assert "opens these runs: none" in said["secret", "run"]
    assert HUB not in [value for _, value in d.data.dataset.options]
    d.data.source.value = "someone/some-dataset"  # an unlisted hub id: refused before any download
    assert d.data.load_benchmark() is None and "is not offered here" in one_line(d.data.status.value)
    d.data.n_items.value = 10**9  # a huge sample
    d.data.dataset.value = "mmlu"
    assert "a sample of 1,000,000,000 items is more than this dashboard scores; choose at most 200" in one_line(
        d.message.value)
    assert not reads and not connects, (reads, connects)
    assert d.model is not None and "db_password" not in str([w.value for w in [d.message, d.data.status]])


def test_a_notebook_stays_open_and_voila_kernels_are_served(monkeypatch, tmp_path):
    for var in ("LM_EXPLORER_POLICY", "VOILA_BASE_URL", "VOILA_PREHEAT", "VOILA_KERNEL_ID"):
        monkeypatch.delenv(var, raising=False)
    assert current_policy() == OPEN and OPEN.check_model(str(tmp_path)) == str(tmp_path)
    monkeypatch.setenv("VOILA_BASE_URL", "/")  # what Voila sets in every kernel it starts (Binder's URL too)
    assert current_policy() == served()
    opened = served().opened(any_data=True)
    monkeypatch.setenv("LM_EXPLORER_POLICY", opened.to_json())  # what `lm-explorer demo` hands its kernels
    assert current_policy() == opened and opened.check_dataset(str(tmp_path)) == str(tmp_path)
    with pytest.raises(Refused, match="model .* is not offered here"):
        opened.check_model(str(tmp_path))


def test_policy_files_and_their_errors(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text('models = ["HuggingFaceTB/SmolLM2-360M"]\ndatasets = ["cais/mmlu"]\nmax_items = 50\n'
                    'token_budget = 4096\n[uploads]\nmax_bytes = 4096\n')
    p = Policy.from_file(path)
    assert p.served and not p.any_model and p.models == ("HuggingFaceTB/SmolLM2-360M",) and p.max_items == 50
    assert p.uploads == UploadLimits(max_bytes=4096) and p.check_dataset("cais/mmlu") == "cais/mmlu"
    assert p.check_model("HuggingFaceTB/SmolLM2-360M") == "HuggingFaceTB/SmolLM2-360M"
    for text, said in (("max_itmes = 3", "unknown key(s) max_itmes"), ("max_items = -1", "positive whole number"),
                       ('models = "a"', "list of text"), ("[uploads]\nsize = 1", "unknown [uploads] key(s) size"),
                       ("= broken", "cannot be read")):
        path.write_text(text)
        with pytest.raises(Refused, match=said.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
            Policy.from_file(path)


# --- uploads --------------------------------------------------------------------------------------
def parquet_bomb() -> bytes:
    """About 100 KiB of parquet that decodes into millions of rows (what took 6.5 GiB in the review)."""
    frame = pd.DataFrame({"question": ["What is it?"] * 3_000_000, "choices": ["a|b"] * 3_000_000})
    buf = io.BytesIO()
    frame.to_parquet(buf, compression="zstd")
    return buf.getvalue()


def test_uploads_are_checked_on_the_server_before_they_are_parsed(served_dash, monkeypatch):
    d, limits = served_dash, served().uploads
    bomb = parquet_bomb()
    assert len(bomb) < 200 * 1024
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("the parquet upload was parsed"))
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: pytest.fail("a CSV over the limits was parsed"))
    item = {"question": "Q?", "choices": ["a", "b"], "answer": 0}
    cases = {
        "bomb.parquet": (bomb, "'bomb.parquet' is not one of the file types taken"),
        "big.jsonl": (b" " * (limits.max_bytes + 1), "holds 1,048,577 bytes"),
        "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nests JSON more than 6 deep"),
        "wide.csv": (",".join(f"c{i}" for i in range(100_000)).encode(), "has 100,000 columns"),
        "many.jsonl": ("\n".join(json.dumps(item) for _ in range(501)).encode(), "holds 501 items"),
        "k27.jsonl": (json.dumps({**item, "choices": [f"c{i}" for i in range(27)]}).encode(), "has 27 choices"),
        "long.jsonl": (json.dumps({**item, "question": "Q" * 5000}).encode(), "a text of 5,000 characters"),
    }
    before = list(d.data.items)
    for name, (content, said) in cases.items():
        d.data.load_upload([{"name": name, "content": content}])
        message = one_line(d.data.status.value)
        assert "upload refused" in message and said in message and "uploads are .jsonl, .json, .csv files" in message
        assert d.data.items == before  # nothing lost
    good = "\n".join(json.dumps({**item, "question": f"Q{n}?"}) for n in range(3)).encode()
    d.data.load_upload([{"name": "ok.jsonl", "content": good}])
    assert [i.question for i in d.data.items] == ["Q0?", "Q1?", "Q2?"]
    with pytest.raises(Refused, match="has 3 choices"):
        read_upload("x.jsonl", json.dumps({**item, "choices": ["a", "b", "c"]}).encode(), UploadLimits(max_choices=2))


def test_deeply_nested_json_is_a_one_line_error_in_a_notebook_too(tmp_path):
    d = Dashboard(start=False, n_items=4)
    for name, content in (("deep.json", b"[" * 100_000 + b"]" * 100_000),
                          ("deep.jsonl", b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")):
        d.data.load_upload([{"name": name, "content": content}])  # no RecursionError escapes
        assert "nested deeper than Python's JSON reader allows" in one_line(d.data.status.value), name
    from explorer import load_items
    from explorer.errors import DataError

    (tmp_path / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(DataError, match="nested deeper"):
        load_items(tmp_path / "deep.json")


# --- models ---------------------------------------------------------------------------------------
def test_one_copy_per_checkpoint_and_one_model_at_a_time_when_served(tmp_path):
    tiny = saved_tiny(tmp_path / "tiny")
    d = Dashboard(start=False, n_items=4)
    for spelling in (str(tiny), str(tiny) + "/", str(tmp_path / "." / "tiny")):
        d.model_name.value = spelling
        d.load()
        d.runner.wait(60)
    assert d.models.loads == 1 and len(d.models) == 1 and d.model is d.models.get(str(tiny))
    other = saved_tiny(tmp_path / "other")
    s = Dashboard(start=False, n_items=4, model=str(tiny), policy=served(models=(str(tiny), str(other))))
    s.load()
    s.runner.wait(60)
    first = s.model
    view = settle(s, "attentiveness")
    assert view.model is first
    s.model_name.value = str(other)
    s.load()
    s.runner.wait(60)
    assert s.models.keys() == [s.models.key(str(other))] and view.model is not first  # the first copy is let go
    assert settle(s, "attentiveness").model is s.model


def test_load_clicks_never_pile_up_threads_and_cancel_stops_a_load(monkeypatch):
    started, release = [], threading.Event()

    def slow_source(source, **options):
        started.append(source)
        assert release.wait(30)
        return real(source, **options)

    import widgets.data_panel as panel

    real = panel.load_source
    monkeypatch.setattr(panel, "load_source", slow_source)
    d = Dashboard(start=False, n_items=4)
    d.data.dataset.value = HUB
    d.data.source.value, d.data.config.value, d.data.split.value = "mmlu", "", ""  # a built-in, by the hub path
    runner = d.data.runner
    for _ in range(4):  # four clicks while the first load cannot stop
        d.data.load_benchmark()
    assert runner.threads_started == 1 and len(started) == 1 and "waiting for the previous run" in runner.status.value
    release.set()
    runner.wait(60)
    assert runner.threads_started == 2 and len(started) == 2  # the first, then only the newest click
    assert len(d.data.items) == 4 and "mmlu" in d.data.status.value, (d.data.status.value, runner.status.value)

    loading = threading.Event()

    def slow_model(name, *, cancel=None):  # a load that stops at its next step once cancelled, as load_model does
        loading.set()
        while not cancel():
            threading.Event().wait(0.01)
        raise Cancelled("the model load was cancelled")

    d.models._loader = slow_model
    job = d.load()
    assert loading.wait(30)
    d.runner.cancel()  # the Cancel button
    d.runner.wait(30)
    assert job.cancelled() and d.runner.status.value == "cancelled" and d.model is None and len(d.models) == 0
    assert "cancelled loading" in d.message.value


def test_load_model_stops_between_its_steps_when_cancelled(tmp_path):
    from explorer.models.load import load_model

    tiny = saved_tiny(tmp_path / "tiny")
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 2  # after the tokenizer, before the weights
    with pytest.raises(Cancelled):
        load_model(str(tiny), cancel=cancel)
    assert len(asked) == 3


# --- serving --------------------------------------------------------------------------------------
def test_the_demo_serves_offline_without_tracebacks_and_is_opened_by_flags(tmp_path):
    from explorer.cli.commands.demo import DASHBOARD, demo_policy, voila_command, voila_env
    from explorer.cli.main import build_parser

    cmd = voila_command(DASHBOARD, 8866)
    assert "--show_tracebacks=False" in cmd and "--show_tracebacks=True" not in cmd
    assert "--VoilaExecutor.iopub_timeout=60" in cmd
    fresh = voila_command(DASHBOARD, 8866, spare=False)
    assert "--preheat_kernel=False" in fresh and "--VoilaConfiguration.progressive_rendering=True" in fresh
    allowed = {a.split("=", 1)[1] for a in cmd if a.startswith("--VoilaConfiguration.extension_allowlist=")}
    assert allowed == {"@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager", "anywidget"}
    assert "--VoilaConfiguration.extension_denylist=jupyterlab-plotly" in cmd  # Voila needs both lists set
    env = voila_env({}, 8866)
    assert env["HF_HUB_OFFLINE"] == "1" and env["MALLOC_ARENA_MAX"] == "2"
    assert Policy.from_json(env["LM_EXPLORER_POLICY"]) == served()
    parse = build_parser().parse_args
    assert demo_policy(parse(["demo"])) == served()
    opened = demo_policy(parse(["demo", "--allow-any-model", "--allow-any-data", "--model", "gemma-3-270m"]))
    assert opened.any_model and opened.any_data and opened.served
    assert demo_policy(parse(["demo", "--model", "org/name"])).models == ("org/name",)


def test_the_frame_is_built_before_torch_is_imported(tmp_path):
    import subprocess

    code = ("import sys\nfrom explorer.serve import served\nfrom widgets.dashboard import Dashboard\n"
            "d = Dashboard(start=False, policy=served())\n"
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
