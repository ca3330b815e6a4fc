//! Writing a secret to a file readable by its owner only, whole or not at all: the text goes
//! to a file of its own first, synced, then takes the final name.

use std::{io::Write, path::Path};

/// How the written file takes its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placing {
    /// Only if nothing is there yet (`AlreadyExists` otherwise): two nodes starting at the
    /// same moment on one data folder keep the first node's key.
    New,
    /// Over whatever is there.
    Replace,
}

/// Write `text` to `path` (mode 0600), creating its folder. The folder is synced after, so the
/// new name survives a crash too.
pub fn write(path: &Path, text: &str, placing: Placing) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".omw-key-{}.tmp", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        match placing {
            Placing::New => std::fs::hard_link(&tmp, path),
            Placing::Replace => std::fs::rename(&tmp, path),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    std::fs::File::open(dir)?.sync_all()
}

/// The text at `path`, or, when there is none, `make()` written there first. When another
/// process wrote it meanwhile, theirs is read. `created` tells which.
pub fn read_or_create(
    path: &Path,
    make: impl FnOnce() -> Result<String, String>,
) -> Result<(String, bool), String> {
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok((text, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = make()?;
    match write(path, &text, Placing::New) {
        Ok(()) => Ok((text, true)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map(|t| (t, false))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_private_and_never_replaced_by_a_second_creator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/key");
        let (text, created) = read_or_create(&path, || Ok("first".into())).unwrap();
        assert_eq!((text.as_str(), created), ("first", true));
        let (text, created) = read_or_create(&path, || Ok("second".into())).unwrap();
        assert_eq!((text.as_str(), created), ("first", false));
        assert_eq!(
            write(&path, "third", Placing::New).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        write(&path, "fourth", Placing::Replace).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fourth");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
