"""Export any view: its data as CSV or parquet, its figure as standalone HTML, as download links, and the
code that reproduces it.

Links carry the file inline (a data URI), so they work in JupyterLab, Voila and Binder alike,
with no server-side files.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from widgets._text import esc


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The frame as CSV or parquet bytes (tuple and list cells become text in parquet)."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        safe = frame.copy()
        for col in safe.columns:
            if safe[col].map(lambda v: isinstance(v, (list, tuple, dict))).any():
                safe[col] = safe[col].map(str)
        safe.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"unknown data format {fmt!r}; use csv or parquet")


def figure_html(fig: go.Figure) -> bytes:
    """A standalone HTML page of the figure, plotly.js inlined (opens offline)."""
    return go.Figure(fig).to_html(include_plotlyjs=True, full_html=True).encode()


MIME = {"csv": "text/csv", "parquet": "application/octet-stream", "html": "text/html"}


def download_link(payload: bytes, filename: str, kind: str) -> str:
    """An HTML anchor that downloads ``payload`` as ``filename``."""
    b64 = base64.b64encode(payload).decode()
    return (f'<a download="{esc(filename)}" href="data:{MIME[kind]};base64,{b64}" '
            f'target="_blank">{esc(filename)}</a>')


def with_intervention(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """The frame with a ``view_intervention`` column: the head scaling the view ran under ("" for none)."""
    return frame.assign(view_intervention=label)


def figure_with_banner(fig: go.Figure, label: str) -> go.Figure:
    """A copy of the figure; with an intervention, its title says so."""
    out = go.Figure(fig)
    if label:
        title = out.layout.title.text or ""
        out.update_layout(title_text=f"{title}<br><sup>intervention: attention heads scaled {label}</sup>",
                          margin_t=max(out.layout.margin.t or 0, 90))
    return out


def export_bar(view, widget) -> W.Widget:
    """Buttons that save ``widget``'s data (CSV, parquet) and main figure (HTML), and show its code; every file
    and the code record the intervention the view ran under. ``view``: its registry entry."""
    from widgets._setup import heads_label  # noqa: PLC0415

    out = W.HTML()
    code = W.Textarea(layout=W.Layout(width="100%", height="260px", display="none"))
    code.add_class("lmx-code")

    def label() -> str:
        shown = widget.shown
        return heads_label(shown.heads) if shown is not None and shown.heads else ""

    def export(kind: str) -> None:
        if kind == "html":
            payload = figure_html(figure_with_banner(view.figure(widget), label()))
        else:
            payload = frame_bytes(with_intervention(view.data(widget), label()), kind)
        out.value = download_link(payload, f"{view.key}.{kind}", kind)

    def show_code(_) -> None:
        code.value = widget.code() or "# nothing on screen yet: the view has no results"
        code.layout.display = None if code.layout.display == "none" else "none"

    buttons = []
    for kind, text in (("csv", "Data as CSV"), ("parquet", "Data as parquet"), ("html", "Figure as HTML")):
        b = W.Button(description=text, layout=W.Layout(width="auto"))
        b.on_click(lambda _, k=kind: export(k))
        buttons.append(b)
    show = W.Button(description="Show code", layout=W.Layout(width="auto"),
                    tooltip="Python that reproduces what this tab shows (model, data, controls, intervention)")
    show.on_click(show_code)
    bar = W.VBox([W.HBox([*buttons, show, out], layout=W.Layout(flex_flow="row wrap")), code])
    widget.drawn_callbacks.append(lambda: setattr(code, "value", widget.code()) if code.layout.display != "none"
                                  else None)
    return bar
