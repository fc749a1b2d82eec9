#!/usr/bin/env bash
# Starts JupyterLab on the working copies of the notebooks (lab/), with the "Rust (fmnist)"
# kernel that notebooks/setup.sh installed. Extra arguments go to `jupyter lab` (--port 8890).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [ ! -x "$here/.venv/bin/jupyter" ] || [ ! -d "$root/lab" ]; then
    echo "run notebooks/setup.sh first" >&2
    exit 1
fi
args=(lab --notebook-dir "$root/lab")
# JupyterLab refuses to run as root unless told it may (a container, a lab machine).
[ "$(id -u)" -eq 0 ] && args+=(--allow-root)
exec "$here/.venv/bin/jupyter" "${args[@]}" "$@"
