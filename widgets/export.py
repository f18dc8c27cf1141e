"""Export any view: its data as CSV or parquet, its figure as standalone HTML, as download links.

Links carry the file inline (a data URI), so they work in JupyterLab, Voila and Binder alike,
with no server-side files.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
import plotly.graph_objects as go


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
    return (f'<a download="{html.escape(filename)}" href="data:{MIME[kind]};base64,{b64}" '
            f'target="_blank">{html.escape(filename)}</a>')
