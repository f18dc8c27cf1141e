"""Text from outside reaches the page as text and generated code as literals: markup in an upload's item id,
question, choices and metadata, in the model box, the data box, the run-folder box and an edit never becomes
an element (every HTML widget of the dashboard is read after each is fed), and a newline in an upload's
file name or an item's id never ends a comment or a string in "Show code"."""

from __future__ import annotations

import ast
import json

import ipywidgets as W
import pytest

from tests.unit.test_dashboard import saved_tiny, settle
from widgets._setup import Setup, under
from widgets._text import comment, esc, literal
from widgets.dashboard import Dashboard
from widgets.data_panel import HUB
from widgets.registry import VIEWS

XSS = "<img src=x onerror=alert('xss')>"
SHOWN = "&lt;img src=x onerror=alert(&#x27;xss&#x27;)&gt;"  # the payload as esc() writes it
NEWLINE = "x\nprint('INJECTED')\n#"


def html_values(root: W.Widget) -> list[str]:
    """The value of every HTML widget under ``root`` (what the front end sets as innerHTML)."""
    seen, out, stack = set(), [], [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        if isinstance(widget, (W.HTML, W.HTMLMath)):
            out.append(widget.value)
        stack.extend(getattr(widget, "children", ()))
    return out


def assert_no_markup(d: Dashboard) -> list[str]:
    values = html_values(d.widget)
    live = [v for v in values if "<img" in v or "onerror=" in v.replace(SHOWN, "")]
    assert not live, live
    return values


def jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


@pytest.fixture
def dash(tmp_path):
    d = Dashboard(start=False, n_items=4, model=str(saved_tiny(tmp_path / "tiny")))
    d.load()
    d.runner.wait(60)
    yield d
    for w in d.views.values():
        w.runner.cancel()


def test_markup_typed_or_uploaded_is_shown_as_text_on_every_text_path(dash):
    rows = [{"id": f"{XSS}{n}", "question": f"What is the capital of {XSS}?", "answer": n % 4,
             "choices": [f"Paris {XSS}", "Rome", "Berlin", "Madrid"], "topic": XSS} for n in range(4)]
    dash.data.load_upload([{"name": f"{XSS}.jsonl", "content": jsonl(rows)}])
    assert SHOWN in dash.data.status.value
    for v in VIEWS:  # every view draws the items: headlines, tables, prompts, group bars by "topic"
        w = settle(dash, v.key)
        assert w.condition == "fresh", (v.key, w.note.value)
        if hasattr(w, "group") and "topic" in [o[1] if isinstance(o, tuple) else o for o in w.group.options]:
            w.group.value = "topic"
        dash.state.selected_item = rows[1]["id"]
    cal = dash.views["calibration"]
    group = "all" if not cal.by else cal.items_frame[cal.by[0]].map(str).iloc[0]
    cal.show_bin(group, int(cal.items_frame["bin"].iloc[0]))
    assert any(SHOWN in v for v in assert_no_markup(dash))

    dash.model_name.value = XSS  # the model box: its error line
    dash.load()
    dash.runner.wait(60)
    dash.data.dataset.value = HUB  # the data box
    dash.data.source.value = XSS
    dash.data.load_benchmark()
    dash.data.runner.wait(60)
    assert SHOWN in dash.data.status.value
    dash.runs.open(XSS)  # the run-folder box
    dash.runs.runner.wait(60)
    assert "could not open the run" in dash.runs.info.value
    dash.data.question.value = XSS  # an edit
    dash.data.apply.click()
    assert_no_markup(dash)

    # the review's case: 27 choices, more than the letters; the Order-bias status line says so, as text
    many = [{"id": XSS, "question": "Which?", "choices": [f"c{i}" for i in range(27)], "answer": 0}]
    dash.data.load_upload([{"name": "many.jsonl", "content": jsonl(many)}])
    perm = settle(dash, "permutation")
    assert perm.condition == "error" and SHOWN in perm.runner.status.value
    assert_no_markup(dash)


def test_a_newline_in_an_upload_name_or_an_item_id_never_becomes_a_statement(dash):
    many = [{"question": f"Q{n}?", "choices": ["a", "b"], "answer": 0} for n in range(401)]  # named, not written out
    dash.data.load_upload([{"name": f"{NEWLINE}.jsonl", "content": jsonl(many)}])
    few = [{"id": NEWLINE, "question": f"Q {NEWLINE}", "choices": [NEWLINE, "b"], "answer": 0, "m": NEWLINE}]
    codes = [settle(dash, "calibration").code()]  # the note above the data line is every view's Setup
    assert "# 401 items uploaded from x\\nprint('INJECTED')\\n#.jsonl" in codes[0]
    dash.data.load_upload([{"name": f"{NEWLINE}.jsonl", "content": jsonl(few)}])
    for v in VIEWS:
        codes.append(settle(dash, v.key).code())
    for code in codes:
        assert code, "every view shows results, so every view has code"
        tree = ast.parse(code)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
        assert all("INJECTED" not in ast.unparse(c) for c in calls), code
        assert not any(line.startswith("print('INJECTED')") for line in code.splitlines()), code


def test_the_helpers():
    assert esc(XSS) == SHOWN and esc('"') == "&quot;"
    assert comment(NEWLINE) == "# x\\nprint('INJECTED')\\n#" and "\n" not in comment("a\u2028b\x85c\rd")
    assert eval(literal({"a": (1, float("inf"), None, [NEWLINE])})) == {"a": (1, float("inf"), None, [NEWLINE])}
    with pytest.raises(TypeError):
        literal(object())
    code = Setup(model=NEWLINE, note=NEWLINE, data="[]").code() + under({(1, 0): 0.5}, "pass\n")
    assert [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"] \
        == []


def test_an_imported_run_with_markup_in_its_names_and_quotes_in_its_path_is_shown_as_text(tmp_path):
    """A run made elsewhere (an lm-eval folder) whose model and task names hold markup, in a folder whose name
    holds quotes and a backslash: every HTML widget of the run view shows them as text, and Show code loads that folder."""
    from pathlib import Path

    from widgets.run_view import RunView

    source = Path(__file__).resolve().parents[1] / "data" / "lmeval" / "v0.4.13" / "SmolLM2-135M-Instruct"
    model = XSS.replace("'", "")  # a JSON-safe payload: <img src=x onerror=alert(xss)>
    folder = tmp_path / "x'); print('INJECTED'); (\"\\" / "run"  # the run box splits lines: no newline
    target = folder / "m"
    target.mkdir(parents=True)
    for f in source.iterdir():
        text = f.read_text().replace("SmolLM2-135M-Instruct", model).replace("mmlu_philosophy", f"{model}_philosophy")
        (target / f.name.replace("mmlu_philosophy", f"{model}_philosophy")).write_text(text)
    view = RunView(folder)
    view.runner.wait(120)
    assert view.runner.last_error is None, view.runner.last_error
    values = html_values(view.widget)
    shown = esc(model)
    assert any(shown in v for v in values), values  # the names are on the page, as text
    live = [v for v in values if "<img" in v or "onerror=" in v.replace(shown, "")]
    assert not live, live
    for key in ("Calibration", "Chain"):
        code = view.views[key].code()
        tree = ast.parse(code)
        calls = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert not any(c.startswith("print") and "INJECTED" in c for c in calls), code
        assert str(folder) in [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)], code
