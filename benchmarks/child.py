"""Run a module as ``__main__`` (as its console script would) and record peak GPU memory on exit.

    python benchmarks/child.py PEAK_FILE MODULE [ARGS...]

Whole-process wall time and peak RSS are taken by the parent (``os.wait4``); GPU memory is only
visible from inside, so this writes ``torch.cuda.max_memory_allocated()`` (0 without CUDA) to
PEAK_FILE. Needs nothing but the standard library and torch, so it runs in any venv.
"""

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    peak_file, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        torch = sys.modules.get("torch")
        used = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
        Path(peak_file).write_text(str(torch.cuda.max_memory_allocated() if used else 0))
