#!/usr/bin/env bash
# The "Rust (fmnist)" kernel: evcxr_jupyter with a build folder that outlives the kernel, started
# again if it dies while starting.
#
# evcxr compiles every cell against the notebook's dependencies in a build folder; by default a
# fresh temporary one per kernel, so each new kernel rebuilds them (tens of seconds even from
# evcxr's cache). Here each kernel takes the first free slot of target/evcxr/<n> (a lock held
# for the kernel's life, so two kernels never share one), and a new kernel in a used slot finds
# everything built.
#
# evcxr 0.22 binds the connection file's ports before its first evaluation; when that fails
# ("Broken pipe" from its worker process) the kernel exits, JupyterLab starts another, and the
# cells it had already sent (Run All) are lost. So an evcxr_jupyter that fails within
# FMNIST_KERNEL_RETRY_SECONDS (default 60) of starting is started again on the same ports, up to
# three times in all; the JupyterLab side reconnects to it by itself. Failures later on, and a
# clean exit (shutdown), end the kernel as before.
#
# Usage (from kernel.json): kernel.sh CONNECTION_FILE
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
window=${FMNIST_KERNEL_RETRY_SECONDS:-60}

# Runs evcxr_jupyter on connection file $1 until it exits cleanly, fails after running for more
# than $window seconds, or has failed three times; exits with its last status.
kernel() {
    local attempt start status
    for attempt in 1 2 3; do
        start=$SECONDS
        status=0
        evcxr_jupyter --control_file "$1" || status=$?
        if ((status == 0 || SECONDS - start > window)); then
            exit "$status"
        fi
        echo "kernel.sh: evcxr_jupyter failed (status $status) $((SECONDS - start)) s after" \
            "starting (attempt $attempt of 3)" >&2
    done
    exit "$status"
}

for slot in 0 1 2 3 4 5 6 7; do
    dir="$root/target/evcxr/$slot"
    mkdir -p "$dir"
    exec {lock}>"$dir.lock"
    if flock --nonblock "$lock"; then
        # The lock stays held by this script (and the processes it starts) until the kernel exits.
        export EVCXR_TMPDIR="$dir"
        kernel "$1"
    fi
    exec {lock}>&-
done
# Eight kernels at once: the ninth builds in a temporary folder, as evcxr does by default.
kernel "$1"
