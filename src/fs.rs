//! File-system helpers shared by the modules that write output.

use std::fs::File;
use std::io;

/// Temporary files are created private (mode 0600); a figure or a downloaded data file is
/// meant to be read by everyone, as a file created the ordinary way would be (0644).
pub(crate) fn make_readable(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
