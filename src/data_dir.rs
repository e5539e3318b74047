//! The data folder: what lives in it, the lock that keeps it to one process, and the
//! file modes that keep it private.
//!
//! `<data dir>/journal/` is the record, `sled/` the store (rebuilt from the journal at
//! need), `admin.token` the first admin's token and `takedownd.lock` the lock. Every
//! `takedownd` command that touches the folder (serving, `rebuild`, `admin-token`)
//! first takes an exclusive `flock` on `takedownd.lock` and holds it for as long as it
//! runs, so two processes never write one journal. The kernel drops the lock when the
//! process ends, however it ends, so a lock file left behind never blocks a start. The
//! file holds the holder's pid, for the message that refuses a second process.
//!
//! The journal holds claimants' postal addresses in clear, so the folder is created
//! 0700 and every file in it is meant to be 0600 (folders 0700). Opening the folder
//! tightens anything looser, with a warning line for each path it changes.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long opening waits for a lock that is held before refusing.
const LOCK_PATIENCE: Duration = Duration::from_secs(1);

/// The mode of every folder in the data folder.
pub const FOLDER_MODE: u32 = 0o700;
/// The mode of every file in the data folder.
pub const FILE_MODE: u32 = 0o600;

/// The journal folder of `data_dir`.
pub fn journal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("journal")
}

/// The sled folder of `data_dir`.
pub fn sled_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sled")
}

/// Where the admin token is written.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.token")
}

/// The lock file of `data_dir`.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("takedownd.lock")
}

/// What can stop a process from opening the data folder.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Another process holds the folder's lock.
    #[error(
        "the data folder {path} is in use by another takedownd process ({holder}, which holds \
         the lock on {lock}): only one process may use a data folder at a time. Stop that \
         process first (SIGTERM lets a server finish its requests), then run this command again"
    )]
    Locked {
        /// The data folder.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// "pid N", or why the pid is not known.
        holder: String,
    },
    /// The operating system refused something while opening the folder.
    #[error(
        "could not {action} {path}: {source}; check that the data folder exists or can be \
         created, and that it and its files belong to the user takedownd runs as"
    )]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DataDirError {
    let path = path.to_path_buf();
    move |source| DataDirError::Io {
        action,
        path,
        source,
    }
}

/// The data folder, locked by this process until dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    /// Holds the `flock`; closing it releases the lock.
    _lock: File,
}

impl DataDir {
    /// Creates the folder if missing (0700), takes its lock (or says who holds it),
    /// writes this process's pid into the lock file, and tightens looser modes of
    /// anything already in it, logging each change as a warning.
    pub fn open(path: &Path) -> Result<DataDir, DataDirError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(FOLDER_MODE)
            .create(path)
            .map_err(io_err("create the data folder", path))?;
        let lock = lock(path)?;
        let data_dir = DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        };
        for (changed, old) in data_dir.make_private(path)? {
            tracing::warn!(
                path = %changed.display(),
                old_mode = format!("{old:04o}"),
                "the data folder must be private: tightened to owner-only (folders 0700, files 0600)"
            );
        }
        Ok(data_dir)
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal folder.
    pub fn journal(&self) -> PathBuf {
        journal_dir(&self.path)
    }

    /// The sled folder.
    pub fn sled(&self) -> PathBuf {
        sled_dir(&self.path)
    }

    /// The admin token file.
    pub fn admin_token(&self) -> PathBuf {
        admin_token_path(&self.path)
    }

    /// Writes `token` into `admin.token` with mode 0600, atomically (temp file, fsync,
    /// rename, fsync of the folder): a reader sees the old token or the new one.
    pub fn write_admin_token(&self, token: &str) -> io::Result<()> {
        let path = self.admin_token();
        let tmp = path.with_extension("token.tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        // A temp file left by an older build may have a looser mode.
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        file.write_all(format!("{token}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        File::open(&self.path)?.sync_all()
    }

    /// Tightens every folder under `under` (and `under` itself) to 0700 and every file
    /// to 0600 where group or others have any access; returns each path changed with
    /// its old mode. Symbolic links are left alone.
    pub fn make_private(&self, under: &Path) -> Result<Vec<(PathBuf, u32)>, DataDirError> {
        let mut changed = Vec::new();
        make_private(under, &mut changed)?;
        Ok(changed)
    }
}

fn make_private(path: &Path, changed: &mut Vec<(PathBuf, u32)>) -> Result<(), DataDirError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        // sled renames its files as it works: one can vanish while we walk.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("read the mode of", path)(e)),
    };
    let mode = meta.permissions().mode() & 0o7777;
    let want = if meta.is_dir() {
        FOLDER_MODE
    } else if meta.is_file() {
        FILE_MODE
    } else {
        return Ok(());
    };
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(want))
            .map_err(io_err("make private (chmod)", path))?;
        changed.push((path.to_path_buf(), mode));
    }
    if meta.is_dir() {
        let listing = match std::fs::read_dir(path) {
            Ok(listing) => listing,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err("list", path)(e)),
        };
        for dirent in listing {
            let dirent = dirent.map_err(io_err("list", path))?;
            make_private(&dirent.path(), changed)?;
        }
    }
    Ok(())
}

/// Takes the exclusive lock on `<data_dir>/takedownd.lock` and writes this process's
/// pid into it.
fn lock(data_dir: &Path) -> Result<File, DataDirError> {
    let path = lock_path(data_dir);
    // No truncation before the lock is ours: the file holds the holder's pid.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(io_err("open the lock file", &path))?;
    // A child that this process forks holds a copy of the lock's file description
    // until it execs, so a lock just released can look taken for a moment: ask again
    // for a short while before refusing.
    let deadline = Instant::now() + LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(DataDirError::Locked {
                    path: data_dir.to_path_buf(),
                    holder: holder(&mut file),
                    lock: path,
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(io_err("lock", &path)(source));
            }
        }
    }
    file.set_len(0)
        .map_err(io_err("write the pid into", &path))?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
        .map_err(io_err("write the pid into", &path))?;
    Ok(file)
}

/// Who holds the lock, from the pid in the lock file.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    match file.read_to_string(&mut text) {
        Ok(_) => match text.trim().parse::<u32>() {
            Ok(pid) => format!("pid {pid}"),
            Err(_) => "its pid is not written yet; try again in a moment".to_string(),
        },
        Err(e) => format!("its pid cannot be read: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn a_second_open_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let first = DataDir::open(&data).expect("first open");
        let err = DataDir::open(&data).expect_err("the second open is refused");
        let message = err.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("Stop that process first"), "{message}");
        assert!(!message.contains("rebuild"), "{message}");
        drop(first);
        DataDir::open(&data).expect("open after the first is dropped");
    }

    #[test]
    fn the_folder_and_its_files_are_made_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("sled")).expect("mkdir");
        std::fs::write(data.join("sled").join("db"), b"x").expect("write");
        for (path, m) in [
            (data.clone(), 0o755),
            (data.join("sled"), 0o775),
            (data.join("sled").join("db"), 0o644),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).expect("chmod");
        }
        let data_dir = DataDir::open(&data).expect("open");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("sled")), 0o700);
        assert_eq!(mode(&data.join("sled").join("db")), 0o600);
        assert_eq!(mode(&lock_path(&data)), 0o600);
        data_dir.write_admin_token("t").expect("token");
        assert_eq!(mode(&data_dir.admin_token()), 0o600);
        assert_eq!(
            std::fs::read_to_string(lock_path(&data)).expect("read"),
            format!("{}\n", std::process::id())
        );
        assert!(data_dir.make_private(&data).expect("walk").is_empty());
    }
}
