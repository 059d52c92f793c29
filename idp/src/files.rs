//! Files on disk: the data directory is created 0700, the SQLite database
//! and the master key 0600; at start the server warns, naming the file and
//! the `chmod`, about secrets other users could read (the master key, the
//! SQLite database, every `*_file` secret).

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use crate::config::Config;

/// Creates `dir` and its missing parents, readable by the owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates `path` empty, readable by the owner only, unless it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The mode of `path` when its group or others may read or write it.
#[cfg(unix)]
pub fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub fn loose_mode(_: &Path) -> Option<u32> {
    None
}

/// The SQLite file of a `sqlite:` URL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let file = rest.trim_start_matches("//").split('?').next()?;
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
}

/// Every secret on disk the configuration names, with what it is.
pub fn secrets(config: &Config, env: &[(String, String)]) -> Vec<(String, PathBuf)> {
    let mut out = vec![("master key".to_owned(), config.master_key_path())];
    if let Some(db) = sqlite_file(config.database_url.expose_secret()) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            out.push(("database".to_owned(), PathBuf::from(p)));
        }
    }
    if let Some(p) = config
        .directory
        .as_ref()
        .and_then(|d| d.bind_password_file.clone())
    {
        out.push(("directory.bind_password_file".to_owned(), p));
    }
    if let Some(p) = config.smtp.as_ref().and_then(|s| s.password_file.clone()) {
        out.push(("smtp.password_file".to_owned(), p));
    }
    for (name, value) in env {
        if name.starts_with("IDP_") && name.ends_with("_FILE") {
            out.push((name.clone(), PathBuf::from(value)));
        }
    }
    out
}

/// Warns in the log about each secret that other users may read.
pub fn check_secrets(config: &Config) {
    let env: Vec<(String, String)> = std::env::vars().collect();
    for (what, path) in secrets(config, &env) {
        if let Some(mode) = loose_mode(&path) {
            tracing::warn!(
                file = %path.display(),
                mode = %format!("{mode:o}"),
                "{what}: {} can be read by other users of this machine; run: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
    if let Some(mode) = loose_mode(&config.data_dir)
        && mode & 0o007 != 0
    {
        tracing::warn!(
            dir = %config.data_dir.display(),
            mode = %format!("{mode:o}"),
            "the data directory {} is open to other users; run: chmod 700 {}",
            config.data_dir.display(),
            config.data_dir.display()
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_private_and_loose_modes_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b");
        create_private_dir(&data).unwrap();
        assert_eq!(loose_mode(&data), None);
        let db = data.join("idp.db");
        create_private_file(&db).unwrap();
        assert_eq!(loose_mode(&db), None);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loose_mode(&db), Some(0o644));
        create_private_file(&db).unwrap(); // exists: left alone
        assert_eq!(
            sqlite_file("sqlite://data/idp.db?mode=rwc"),
            Some("data/idp.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
