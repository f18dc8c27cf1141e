"""A signal from the page that the dashboard's frame is on screen, so heavy work can wait for it.

A served page asks its kernel for the state of every widget before it draws any; a thread importing torch
and loading a model at that moment holds the interpreter for seconds at a time (module initialisers run
under the GIL), and the page waits with it. :class:`Shown` is an empty widget placed in the frame whose
front end, once drawn, sends one message: the dashboard starts loading the model then (or after a
timeout, for a front end that draws nothing, such as a notebook saved without widget state).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import anywidget


class Shown(anywidget.AnyWidget):
    """Empty; :meth:`wait` returns once a front end has drawn it (True) or after ``timeout`` (False); the
    functions given to :meth:`then` run on the kernel's main thread when the message comes."""

    # once its element is on screen (in the page and laid out: its tab is drawn), after that frame is painted
    _esm = """export default { render({ model, el }) {
  const check = () => el.isConnected && el.getClientRects().length > 0
    ? setTimeout(() => model.send({ shown: true }), 0) : requestAnimationFrame(check);
  requestAnimationFrame(check);
} };"""

    def __init__(self) -> None:
        super().__init__()
        self._event = threading.Event()
        self._then: list[Callable[[], None]] = []
        self.on_msg(self._received)

    def then(self, fn: Callable[[], None]) -> None:
        self._then.append(fn)

    def _received(self, _widget: object, content: object, _buffers: object) -> None:
        if isinstance(content, dict) and content.get("shown") is True and not self._event.is_set():
            self._event.set()
            for fn in self._then:
                fn()

    @property
    def shown(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
