//! `notebooks/kernel.sh`, the notebooks' kernel: it runs evcxr_jupyter in a build slot of
//! `target/evcxr/` and starts it again, on the same connection file, when it dies while
//! starting. Checked with a stand-in evcxr_jupyter (a shell script in a temporary `$HOME`) that
//! records each start and fails or succeeds as told.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A stand-in evcxr_jupyter: appends its arguments and build folder to `$HOME/starts`, waits
/// `FAKE_SECONDS`, then succeeds on start number `FAKE_PASS_ON` and fails (status 3) otherwise.
const FAKE: &str = r#"#!/bin/sh
echo "$* in $EVCXR_TMPDIR" >> "$HOME/starts"
sleep "${FAKE_SECONDS:-0}"
[ "$(wc -l < "$HOME/starts")" -eq "${FAKE_PASS_ON:-0}" ] || exit 3
"#;

/// Runs kernel.sh on a connection file with the stand-in and the environment `env`; returns
/// its output and the starts the stand-in recorded.
fn kernel(env: &[(&str, &str)]) -> (Output, Vec<String>) {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join(".cargo/bin");
    fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("evcxr_jupyter");
    fs::write(&fake, FAKE).unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "notebooks", "kernel.sh"]
        .iter()
        .collect();
    let output = Command::new(script)
        .arg("connection.json")
        .env("HOME", home.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let starts = fs::read_to_string(home.path().join("starts")).unwrap_or_default();
    (output, starts.lines().map(str::to_owned).collect())
}

/// The build slot a start ran in: `target/evcxr/<n>` of this repository.
fn slot_of(start: &str) -> &Path {
    let (_, dir) = start.split_once(" in ").unwrap();
    let dir = Path::new(dir);
    let evcxr = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/evcxr");
    assert_eq!(dir.parent(), Some(evcxr.as_path()), "{start}");
    dir
}

#[test]
fn a_kernel_that_starts_runs_once_in_a_build_slot() {
    let (output, starts) = kernel(&[("FAKE_PASS_ON", "1")]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert!(starts[0].starts_with("--control_file connection.json in "));
    slot_of(&starts[0]);
}

#[test]
fn a_kernel_that_dies_while_starting_is_started_again_on_the_same_ports() {
    let (output, starts) = kernel(&[("FAKE_PASS_ON", "2")]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(
        starts[0], starts[1],
        "the same connection file, in the same slot"
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("failed (status 3)") && said.contains("attempt 1 of 3"),
        "{said}"
    );
}

#[test]
fn three_failed_starts_end_the_kernel_with_evcxrs_status() {
    let (output, starts) = kernel(&[]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(starts.len(), 3, "{starts:?}");
}

#[test]
fn a_kernel_that_fails_after_running_a_while_is_not_restarted() {
    // A failure after the retry window is a kernel that ran: JupyterLab's own restart handles it.
    let (output, starts) = kernel(&[
        ("FMNIST_KERNEL_RETRY_SECONDS", "0"),
        ("FAKE_SECONDS", "1.2"),
    ]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(starts.len(), 1, "{starts:?}");
}
