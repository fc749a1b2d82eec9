//! Faults during a run, each through the binary: the output folder is read-only; the disk
//! fills up (a small tmpfs) or a file outgrows `ulimit -f`; the run is killed (SIGTERM,
//! SIGKILL) while it writes; two runs write into one folder at once. Each ends in one clear
//! message and a non-zero exit (SIGKILL excepted: nothing can answer it), leaves nothing
//! half-written, and damages no earlier result; `fmnist check` agrees.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::write_tiny_dataset;

const BIN: &str = env!("CARGO_BIN_EXE_fmnist");

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("FMNIST_DATA")
        .env_remove("FMNIST_QUICK");
    c
}

/// Every file under `dir` (dot-files and staging folders included) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The snapshot without the lock file (its content names the last run that held it).
fn results_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = snapshot(dir);
    files.retain(|p, _| p.file_name().is_some_and(|n| n != ".fmnist.lock"));
    files
}

fn staging_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".fmnist-run-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A tiny dataset (20 training, 10 test images) in `dir`.
fn tiny_dataset(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write_tiny_dataset(dir);
}

/// A first run of Figures 1-3 on it into `out`: the earlier results a
/// faulty run must not damage.
fn earlier_run(data: &Path, out: &Path) {
    let o = command(&figures_args(data, out)).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn figures_args<'a>(data: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "figures",
        "--only",
        "1,2,3",
        "--exemplars",
        "1",
        "--sample-per-class",
        "2",
        "--data-dir",
        data.to_str().unwrap(),
        "--no-verify",
        "--no-download",
        "--out",
        out.to_str().unwrap(),
    ]
}

/// The one error line a failed run printed last (progress lines may come before it).
fn one_error_line(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "should fail");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    errors[0].to_string()
}

fn check(out: &Path) -> Output {
    command(&["check", "--out", out.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Whether the tests run as root (`id -u`), who writes into read-only folders.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn a_read_only_output_folder_is_refused_by_name_and_left_untouched() {
    let work = tempfile::tempdir().unwrap();
    let (data, out) = (work.path().join("data"), work.path().join("out"));
    tiny_dataset(&data);
    earlier_run(&data, &out);
    let before = results_of(&out);
    // Root writes anywhere: run the binary as `nobody` then (setpriv, util-linux), with the
    // folders it must read opened to everyone.
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(work.path(), 0o755);
    mode(&data, 0o755);
    for f in std::fs::read_dir(&data).unwrap() {
        mode(&f.unwrap().path(), 0o644);
    }
    mode(&out, 0o555);
    let o = c
        .args(&figures_args(&data, &out)[..])
        .env_remove("FMNIST_DATA")
        .output()
        .unwrap();
    mode(&out, 0o755);
    let stderr = one_error_line(&o);
    assert!(
        stderr.contains(&format!("cannot write {}", out.display()))
            && stderr.contains("Permission denied"),
        "{stderr}"
    );
    assert_eq!(
        results_of(&out),
        before,
        "the earlier run's files are untouched"
    );
}

#[test]
fn a_file_past_the_size_limit_stops_the_run_and_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (data, out) = (work.path().join("data"), work.path().join("out"));
    tiny_dataset(&data);
    earlier_run(&data, &out);
    let before = results_of(&out);
    // 4 KiB (bash counts in KiB): the lock fits, the first figure's PNG does not.
    let script = "ulimit -f 4; exec \"$@\"";
    let mut args = vec!["-c", script, "fmnist", BIN];
    args.extend(figures_args(&data, &out));
    let o = Command::new("bash")
        .args(&args)
        .env_remove("FMNIST_DATA")
        .output()
        .unwrap();
    let stderr = one_error_line(&o);
    assert!(
        stderr.contains(&format!("cannot write {}/fig01_exemplars", out.display()))
            && stderr.contains("File too large"),
        "{stderr}"
    );
    assert_eq!(
        results_of(&out),
        before,
        "the earlier run's files are untouched"
    );
    assert!(staging_left(&out).is_empty());
    assert!(check(&out).status.success());
}

/// A small tmpfs mounted for the test (root only; other users skip this test, and the file
/// size limit above still runs).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = is_root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_the_run_and_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    tiny_dataset(&data);
    let Some(disk) = Tmpfs::mount(&work.path().join("disk"), "160k") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let out = disk.0.join("out");
    // An earlier run of Figure 2 alone fits; Figures 1-3 do not.
    let mut first = figures_args(&data, &out);
    first[2] = "2";
    assert!(command(&first).output().unwrap().status.success());
    let before = results_of(&out);
    let o = command(&figures_args(&data, &out)).output().unwrap();
    let stderr = one_error_line(&o);
    assert!(
        stderr.contains(&format!("cannot write {}", out.display()))
            && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert_eq!(
        results_of(&out),
        before,
        "the earlier run's files are untouched"
    );
    assert!(staging_left(&out).is_empty());
    assert!(check(&out).status.success());
}

/// `fmnist reproduce --quick` on the real data into `out` (a run of several seconds), started.
fn start_reproduce(data: &Path, out: &Path) -> Child {
    command(&[
        "reproduce",
        "--quick",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.join("results").to_str().unwrap(),
        "--figures",
        out.join("figures").to_str().unwrap(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// Waits until the run has staged at least one figure, so that a signal lands while it is
/// writing; panics after a minute.
fn wait_for_staged_files(out: &Path) {
    let start = Instant::now();
    let figures = out.join("figures");
    loop {
        let staged = staging_left(&figures)
            .iter()
            .any(|s| std::fs::read_dir(figures.join(s)).is_ok_and(|mut d| d.next().is_some()));
        if staged {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "nothing staged");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reproduce_once(data: &Path, out: &Path) {
    let o = start_reproduce(data, out).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn sigterm_while_writing_discards_the_run_and_keeps_the_earlier_one() {
    let Some(data) = common::real_data_dir() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    reproduce_once(&data, out.path());
    let before = results_of(out.path());
    let child = start_reproduce(&data, out.path());
    wait_for_staged_files(out.path());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.code(), Some(143), "{:?}", o.status.signal());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("error: interrupted by SIGTERM: this run's files were discarded"),
        "{stderr}"
    );
    assert_eq!(
        results_of(out.path()),
        before,
        "the earlier run's files are untouched"
    );
    for dir in ["results", "figures"] {
        assert!(staging_left(&out.path().join(dir)).is_empty(), "{dir}");
    }
    assert!(check(&out.path().join("results")).status.success());
}

#[test]
fn sigkill_while_writing_damages_nothing_and_check_reports_the_leftover() {
    let Some(data) = common::real_data_dir() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    reproduce_once(&data, out.path());
    let before = results_of(out.path());
    let mut child = start_reproduce(&data, out.path());
    wait_for_staged_files(out.path());
    child.kill().unwrap();
    child.wait().unwrap();
    // Only the killed run's staging folder is new; every earlier file is as it was.
    let mut after = results_of(out.path());
    after.retain(|p, _| !p.to_string_lossy().contains(".fmnist-run-"));
    assert_eq!(after, before, "the earlier run's files are untouched");
    let report = check(&out.path().join("results"));
    assert!(!report.status.success());
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("left by an interrupted run"), "{text}");
    // The next run into the folder removes what the killed one left.
    reproduce_once(&data, out.path());
    assert!(check(&out.path().join("results")).status.success());
}

#[test]
fn a_second_run_into_the_same_folder_is_refused_at_once() {
    let Some(data) = common::real_data_dir() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let first = start_reproduce(&data, out.path());
    wait_for_staged_files(out.path());
    let started = Instant::now();
    let second = start_reproduce(&data, out.path())
        .wait_with_output()
        .unwrap();
    let stderr = one_error_line(&second);
    assert!(
        stderr.contains(&format!(
            "another fmnist run (pid {}, fmnist reproduce --quick",
            first.id()
        )) && stderr.contains("wait for it to finish"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused before any work"
    );
    let o = first.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(check(&out.path().join("results")).status.success());
}
