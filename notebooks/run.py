"""Execute the notebooks headless in the evcxr Rust kernel and check what they produced.

    notebooks/.venv/bin/python notebooks/run.py [--inplace] [--quick] [NOTEBOOK ...]
    notebooks/.venv/bin/python notebooks/run.py --warm-up

Every notebook (all `notebooks/NN_*.ipynb` by default) runs top to bottom in the kernel
"Rust (fmnist)" that `notebooks/setup.sh` installs (`--kernel rust` for evcxr's own). A
notebook fails when a cell errors, when any output mentions "panicked at" (evcxr reports a
panic on stderr and the cell still counts as run), or when it shows fewer inline figures
(image/png) than its `metadata.fmnist.figures` says.

`--warm-up` runs only each distinct setup cell (its `:dep` lines) and one line that uses the
library, once per variant: what `setup.sh` does so that the first notebook a student opens
finds the library built.

`--quick` sets FMNIST_QUICK=1, which the library reads to shrink every study to a few hundred
images (CI). `--inplace` writes the executed notebooks back, outputs included (a full run, to
commit); otherwise they go to $OUT or a temporary directory. Set EVCXR_TMPDIR to share one
evcxr build directory across the notebooks: the library is compiled once, not per notebook.
For each notebook the script prints its wall time and the time from the kernel's start to the
end of its first figure cell.
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent


def texts(output):
    """Every piece of text an output carries."""
    if output.get("output_type") == "stream":
        yield output.get("text", "")
    elif output.get("output_type") == "error":
        yield output.get("ename", "") + ": " + output.get("evalue", "")
        yield "\n".join(output.get("traceback", []))
    else:
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield value if isinstance(value, str) else "".join(value)


def stamp(cell, key):
    value = cell.get("metadata", {}).get("execution", {}).get(key)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def check(path, nb, seconds):
    """Problems with an executed notebook (an empty list when it passed)."""
    problems, figures, first_figure = [], 0, None
    start = None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        start = start or stamp(cell, "iopub.status.busy")
        for output in cell.get("outputs", []):
            if any("panicked at" in t for t in texts(output)):
                problems.append(f"a panic in cell {cell.get('id')}")
            if "image/png" in output.get("data", {}):
                figures += 1
                end = stamp(cell, "shell.execute_reply")
                if first_figure is None and start and end:
                    first_figure = (end - start).total_seconds()
    expected = nb.metadata.get("fmnist", {}).get("figures", 0)
    if figures < expected:
        problems.append(f"{figures} inline figures, expected {expected}")
    first = f"{first_figure:.0f} s" if first_figure is not None else "n/a"
    print(f"{path.name}: {seconds:.0f} s, first figure after {first}, {figures} figures", flush=True)
    return problems


def warm_up(kernel, timeout):
    """Builds the library in each variant the notebooks' setup cells ask for."""
    setups = []
    for path in sorted(HERE.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        setup = next((c.source for c in nb.cells
                      if c.cell_type == "code" and ":dep fmnist" in c.source), None)
        if setup and setup not in setups:
            setups.append(setup)
    for setup in setups:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(setup),
                    nbformat.v4.new_code_cell("fmnist::data::class_names(10).len()")]
        started = time.monotonic()
        NotebookClient(nb, kernel_name=kernel, timeout=timeout,
                       resources={"metadata": {"path": str(HERE)}}).execute()
        deps = " ".join(l.split("=")[0].split()[-1] for l in setup.splitlines()
                        if l.startswith(":dep"))
        print(f"built {deps} in {time.monotonic() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--inplace", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--kernel", default="fmnist", help="kernel name (default: fmnist)")
    parser.add_argument("--warm-up", action="store_true")
    args = parser.parse_args()
    if args.warm_up:
        warm_up(args.kernel, args.timeout)
        return
    if args.quick:
        os.environ["FMNIST_QUICK"] = "1"
    paths = args.notebooks or sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    out = Path(os.environ.get("OUT") or tempfile.mkdtemp(prefix="notebooks-"))
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in paths:
        path = path.resolve()
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout,
                                resources={"metadata": {"path": str(path.parent)}})
        started = time.monotonic()
        try:
            client.execute()
            problems = check(path, nb, time.monotonic() - started)
        except CellExecutionError as e:
            problems = [str(e).strip().splitlines()[-1] if str(e).strip() else "a cell failed"]
            print(f"{path.name}: failed", flush=True)
        target = path if args.inplace and not problems else out / path.name
        nbformat.write(nb, target)
        for p in problems:
            print(f"  {path.name}: {p}", file=sys.stderr)
        if problems:
            failed.append(path.name)
    if failed:
        print(f"failed: {', '.join(failed)} (executed copies in {out})", file=sys.stderr)
        sys.exit(1)
    print("every notebook ran cleanly")


if __name__ == "__main__":
    main()
