#!/usr/bin/env bash
# Sets up the notebooks on a Debian or Ubuntu machine, as an ordinary user or as root, and
# prints the one command that starts JupyterLab. Run it again at any time: it redoes only what
# is missing.
#
#   1. JupyterLab in a virtual environment of its own, notebooks/.venv (pinned versions);
#   2. the Rust kernel, evcxr_jupyter 0.22.0, built by cargo into ~/.cargo/bin (about 8 minutes
#      on two cores, once);
#   3. the kernel "Rust (fmnist)", known to that JupyterLab only: its kernels keep their builds
#      in target/evcxr/<slot>, one slot per running kernel, so a new kernel starts warm;
#   4. the library built once into that folder, in each of the three variants the notebooks
#      ask for (the feature pins in Cargo.toml let them share one build of everything below);
#   5. working copies of the notebooks in lab/ (git ignores it), which JupyterLab opens:
#      running, editing and saving them never changes the committed notebooks, figures or
#      results. An existing copy is never overwritten.
#
# Needs: a Rust toolchain (rustup), python3 with its venv module (Debian: python3-venv).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
venv="$here/.venv"
evcxr_version=0.22.0
started=$(date +%s)
say() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - started))"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

say "1/5 JupyterLab in notebooks/.venv"
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "python3 cannot make virtual environments here: install Debian's python3-venv" \
             "(as root: apt-get install python3-venv), then run this again" >&2
        exit 1
    fi
    echo "python3 cannot make virtual environments here; installing Debian's python3-venv"
    as_root apt-get install -y -qq python3-venv
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    jupyterlab==4.6.6 nbclient==0.11.0 nbformat==5.11.1

say "2/5 the Rust kernel, evcxr_jupyter $evcxr_version"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust first (https://rustup.rs), then run this again" >&2
    exit 1
fi
# evcxr_jupyter has no --version: ask the cargo installation that put it on the PATH.
installed() {
    local bin
    bin=$(command -v evcxr_jupyter) || return 1
    grep -qs "\"evcxr_jupyter $evcxr_version " "$(dirname "$(dirname "$bin")")/.crates.toml"
}
if installed; then
    echo "evcxr_jupyter $evcxr_version is installed ($(command -v evcxr_jupyter))"
else
    echo "building evcxr_jupyter $evcxr_version: about 8 minutes on two cores, once"
    cargo install evcxr_jupyter --version "$evcxr_version" --locked --quiet
fi

say "3/5 the kernel \"Rust (fmnist)\""
spec="$venv/share/jupyter/kernels/fmnist"
mkdir -p "$spec"
cat > "$spec/kernel.json" <<EOF
{
  "argv": ["$here/kernel.sh", "{connection_file}"],
  "display_name": "Rust (fmnist)",
  "interrupt_mode": "message",
  "language": "rust"
}
EOF
echo "$spec/kernel.json"

say "4/5 the library, built once into the kernels' build folder"
# The first notebook's setup cell would otherwise build every dependency (minutes); this runs
# each variant's setup cell once, headless, in the build folder the first kernel will use.
"$venv/bin/python" "$here/run.py" --warm-up

say "5/5 working copies in lab/"
mkdir -p "$root/lab"
for nb in "$here"/[0-9][0-9]_*.ipynb; do
    copy="$root/lab/$(basename "$nb")"
    if [ -e "$copy" ]; then
        echo "kept $copy (yours; delete it to get a fresh copy)"
    else
        cp "$nb" "$copy"
        echo "copied $copy"
    fi
done

say "done"
echo "Start JupyterLab (it opens lab/, your copies) with:"
echo
echo "    notebooks/lab.sh"
