//! Records the locked versions of the crates that decide the results, so reports can name them
//! (`fmnist::outputs::crate_versions`).

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    for name in [
        "ndarray",
        "faer",
        "rafor",
        "rayon",
        "rand_chacha",
        "plotters",
    ] {
        let version = locked_version(&lock, name).unwrap_or_else(|| "unknown".into());
        println!(
            "cargo:rustc-env=FMNIST_DEP_{}={version}",
            name.to_uppercase()
        );
    }
}

/// The version of the first `[[package]]` named `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            let next = lines.next()?.trim();
            return next
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}
