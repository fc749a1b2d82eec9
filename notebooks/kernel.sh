#!/usr/bin/env bash
# The "Rust (fmnist)" kernel: evcxr_jupyter with a build folder that outlives the kernel.
#
# evcxr compiles every cell against the notebook's dependencies in a build folder; by default a
# fresh temporary one per kernel, so each new kernel rebuilds them (tens of seconds even from
# evcxr's cache). Here each kernel takes the first free slot of target/evcxr/<n> (a lock held
# for the kernel's life, so two kernels never share one), and a new kernel in a used slot finds
# everything built. Usage (from kernel.json): kernel.sh CONNECTION_FILE
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
for slot in 0 1 2 3 4 5 6 7; do
    dir="$root/target/evcxr/$slot"
    mkdir -p "$dir"
    exec {lock}>"$dir.lock"
    if flock --nonblock "$lock"; then
        # The lock stays held by the inherited descriptor until the kernel exits.
        export EVCXR_TMPDIR="$dir"
        exec evcxr_jupyter --control_file "$1"
    fi
    exec {lock}>&-
done
# Eight kernels at once: the ninth builds in a temporary folder, as evcxr does by default.
exec evcxr_jupyter --control_file "$1"
