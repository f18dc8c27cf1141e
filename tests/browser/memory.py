"""A real memory limit around a server, and what its process tree uses.

:func:`memory_limit` finds, at run time, a way to hold a command under a hard limit: a child of this
process's own cgroup, v2 (``memory.max``) or v1 (``memory.limit_in_bytes``), whichever this machine lets us
write; None where neither can be made (then a test needing a limit says so and skips). The command is started
inside it (a shell puts itself in the cgroup, then execs), so every child the server starts is held too.
:class:`TreeSampler` samples the tree's RSS and PSS while a test runs.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


@dataclass
class MemoryLimit:
    """A cgroup holding a command under ``limit`` bytes; ``kind`` says which mechanism."""

    kind: str
    path: Path
    limit: int

    def command(self, cmd: list[str]) -> list[str]:
        """``cmd`` run inside the cgroup (with all the processes it starts)."""
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *cmd]

    def _read(self, name: str) -> str:
        return (self.path / name).read_text()

    def peak(self) -> int:
        """The highest usage the cgroup reached (resident memory and the page cache it brought in)."""
        return int(self._read("memory.peak" if self.kind.startswith("cgroup v2") else "memory.max_usage_in_bytes"))

    def usage(self) -> int:
        return int(self._read("memory.current" if self.kind.startswith("cgroup v2") else "memory.usage_in_bytes"))

    def oom_kills(self) -> int:
        text = self._read("memory.events" if self.kind.startswith("cgroup v2") else "memory.oom_control")
        values = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(values.get("oom_kill", 0))

    def stat(self) -> dict[str, int]:
        return {k: int(v) for k, v in (line.split() for line in self._read("memory.stat").splitlines())}


def _own_cgroup(controller: str | None) -> str | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller is not None and controller in names.split(",")):
            return path
    return None


def _make(kind: str, parent: Path, files: list[tuple[str, int]], limit: int) -> MemoryLimit | None:
    child = parent / f"lmx-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        child.mkdir()
        for name, value in files:
            (child / name).write_text(str(value))
    except OSError:
        with contextlib.suppress(OSError):
            child.rmdir()
        return None
    return MemoryLimit(kind, child, limit)


@contextlib.contextmanager
def memory_limit(limit: int) -> Iterator[MemoryLimit | None]:
    """A cgroup of ``limit`` bytes, nested in this process's own (so whatever accounts for this process's
    memory still sees it), removed afterwards; None where this machine lets us make none."""
    made = None
    v2, controllers = _own_cgroup(None), CGROUP / "cgroup.controllers"
    if v2 is not None and controllers.exists() and "memory" in controllers.read_text().split():
        made = _make("cgroup v2 memory.max", CGROUP / v2.lstrip("/"), [("memory.max", limit), ("memory.swap.max", 0)],
                     limit)
    if made is None and (CGROUP / "memory").is_dir():
        own = _own_cgroup("memory")
        if own is not None:
            files = [("memory.limit_in_bytes", limit)]
            parent = CGROUP / "memory" / own.lstrip("/")
            if (parent / "memory.memsw.limit_in_bytes").exists():
                files.append(("memory.memsw.limit_in_bytes", limit))  # no swapping past the limit either
            made = _make("cgroup v1 memory.limit_in_bytes", parent, files, limit)
    try:
        yield made
    finally:
        if made is not None:
            for _ in range(50):  # the server's processes are gone once the test stopped it
                with contextlib.suppress(OSError):
                    made.path.rmdir()
                    break
                time.sleep(0.2)


def evict_from_page_cache(folder: Path) -> None:
    """Drop the files of ``folder`` from the page cache (theirs only), so a server under a limit reads them
    itself and their pages count against its cgroup, as on a fresh machine."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                with contextlib.suppress(OSError):
                    os.fsync(fd)  # dirty pages are not dropped
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


@dataclass
class TreeSampler:
    """Samples, every ``every`` seconds, the RSS and PSS summed over ``pid`` and its descendants and the RSS
    of the largest process; ``peaks`` keeps the highest of each."""

    pid: int
    every: float = 0.25
    peaks: dict[str, int] = field(default_factory=lambda: {"tree_rss": 0, "tree_pss": 0, "largest_rss": 0,
                                                           "processes": 0})
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        import psutil  # noqa: PLC0415 - jupyter_server depends on it

        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = largest = 0
        for p in procs:
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            rss, pss, largest = rss + info.rss, pss + info.pss, max(largest, info.rss)
        for key, value in (("tree_rss", rss), ("tree_pss", pss), ("largest_rss", largest), ("processes", len(procs))):
            self.peaks[key] = max(self.peaks[key], value)

    def __enter__(self) -> TreeSampler:
        def loop() -> None:
            while not self._stop.wait(self.every):
                self._sample()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def process_memory(pid: int, *, reset: bool = False) -> dict[str, int]:
    """One process's peak RSS since it started or since the last ``reset`` (``VmHWM``), and its RSS now split into
    anonymous and file-backed pages (memory-mapped weights are file-backed), in bytes. ``reset`` starts a new peak
    (``clear_refs``)."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    if reset:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    kb = lambda key: int(status[key].split()[0]) * 1024  # noqa: E731
    return {"peak_rss": kb("VmHWM"), "rss": kb("VmRSS"), "anon": kb("RssAnon"), "file": kb("RssFile")}


def kernel_memory(server_pid: int, *, reset: bool = False) -> list[dict[str, int]]:
    """:func:`process_memory` of each ipykernel the server runs now, largest peak first."""
    import psutil  # noqa: PLC0415

    out = []
    for p in psutil.Process(server_pid).children(recursive=True):
        try:
            if "ipykernel" not in " ".join(p.cmdline()):
                continue
            out.append(process_memory(p.pid, reset=reset))
        except (psutil.Error, OSError):
            continue
    return sorted(out, key=lambda k: -k["peak_rss"])


def kernel_peaks(server_pid: int) -> list[int]:
    """The peak RSS (bytes) of each ipykernel the server runs now, largest first."""
    return [k["peak_rss"] for k in kernel_memory(server_pid)]
