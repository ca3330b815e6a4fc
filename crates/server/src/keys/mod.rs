//! The key-encryption key (SPEC §9.6): a file of 256-bit keys by epoch, one of them current.
//! It wraps every chat's data key (AES-256-GCM, bound to the chat), and never leaves this
//! process. Keep it apart from database backups: a backup without it is unreadable, and
//! destroying an old epoch makes what that epoch wrapped unreadable in every backup.
//!
//! The file is JSON, `{ "current": 2, "epochs": { "1": "<base64>", "2": "<base64>" } }`, written
//! readable by its owner only.

pub mod private_file;
pub mod signing;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::RwLock,
    time::SystemTime,
};

use async_trait::async_trait;
use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use omw_storage::{DataKey, KeyError, KeyWrapper};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use private_file::Placing;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct KeyFileError {
    pub path: PathBuf,
    pub problem: String,
}

/// The file's shape.
#[derive(Serialize, Deserialize)]
struct Stored {
    current: i64,
    epochs: BTreeMap<i64, String>,
}

/// The file, as loaded; re-read when it changed on disk (a `keys rotate` or `keys destroy` by
/// the operator while the server runs), so new chats get the new epoch and a destroyed epoch is
/// gone from memory too.
pub struct KeyFile {
    path: PathBuf,
    state: RwLock<Epochs>,
}

struct Epochs {
    current: i64,
    keys: BTreeMap<i64, LessSafeKey>,
    /// The keys as stored, for writing the file back after a change.
    raw: BTreeMap<i64, Zeroizing<String>>,
    modified: Option<SystemTime>,
}

fn err(path: &Path, problem: impl std::fmt::Display) -> KeyFileError {
    KeyFileError {
        path: path.to_owned(),
        problem: problem.to_string(),
    }
}

fn random_key() -> Result<Zeroizing<[u8; 32]>, String> {
    let mut key = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| "no randomness for a key".to_string())?;
    Ok(key)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Epochs {
    fn empty() -> Epochs {
        Epochs {
            current: 0,
            keys: BTreeMap::new(),
            raw: BTreeMap::new(),
            modified: None,
        }
    }

    fn read(path: &Path) -> Result<Option<Epochs>, KeyFileError> {
        let modified = modified(path);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(path, e)),
        };
        let stored: Stored = serde_json::from_str(&text).map_err(|e| err(path, e))?;
        let mut epochs = Epochs {
            current: stored.current,
            modified,
            ..Epochs::empty()
        };
        for (epoch, b64) in stored.epochs {
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|_| err(path, format!("epoch {epoch}: not base64")))?,
            );
            let key = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| err(path, format!("epoch {epoch}: not a 256-bit key")))?;
            epochs.keys.insert(epoch, LessSafeKey::new(key));
            epochs.raw.insert(epoch, Zeroizing::new(b64));
        }
        if !epochs.keys.contains_key(&epochs.current) {
            return Err(err(
                path,
                format!("the current epoch {} has no key", epochs.current),
            ));
        }
        Ok(Some(epochs))
    }
}

impl KeyFile {
    /// The file at `path`; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<KeyFile>, KeyFileError> {
        Ok(Epochs::read(path)?.map(|epochs| KeyFile {
            path: path.to_owned(),
            state: RwLock::new(epochs),
        }))
    }

    /// The file at `path`, created with a first epoch when missing; true if created.
    pub fn load_or_create(path: &Path) -> Result<(KeyFile, bool), KeyFileError> {
        if let Some(file) = Self::load(path)? {
            return Ok((file, false));
        }
        let file = KeyFile {
            path: path.to_owned(),
            state: RwLock::new(Epochs::empty()),
        };
        file.rotate().map_err(|e| err(path, e))?;
        match file.write(true) {
            Ok(()) => Ok((file, true)),
            // Another node created it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let file = Self::load(path)?.ok_or_else(|| err(path, "vanished"))?;
                Ok((file, false))
            }
            Err(e) => Err(err(path, e)),
        }
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, Epochs> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, Epochs> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Read the file again if it changed on disk since. A file that no longer parses is
    /// ignored (and logged): the keys in memory stay.
    fn refresh(&self) {
        let now = modified(&self.path);
        if now.is_none() || now == self.state().modified {
            return;
        }
        match Epochs::read(&self.path) {
            Ok(Some(epochs)) => *self.state_mut() = epochs,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the changed key file does not load; keeping the keys in memory")
            }
        }
    }

    /// Start a new epoch: new data keys are wrapped under it. Returns it.
    pub fn rotate(&self) -> Result<i64, String> {
        let mut st = self.state_mut();
        let epoch = st.keys.keys().max().map_or(1, |e| e + 1);
        let key = random_key()?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, key.as_ref()).map_err(|_| "a bad key".to_string())?;
        st.keys.insert(epoch, LessSafeKey::new(unbound));
        st.raw
            .insert(epoch, Zeroizing::new(STANDARD.encode(key.as_ref())));
        st.current = epoch;
        Ok(epoch)
    }

    /// Forget an old epoch: what it wrapped can no longer be read. The current one stays.
    pub fn destroy(&self, epoch: i64) -> Result<(), String> {
        let mut st = self.state_mut();
        if epoch == st.current {
            return Err("the current epoch cannot be destroyed; rotate first".into());
        }
        if st.keys.remove(&epoch).is_none() {
            return Err(format!("no epoch {epoch}"));
        }
        st.raw.remove(&epoch);
        Ok(())
    }

    pub fn epochs(&self) -> Vec<i64> {
        self.state().keys.keys().copied().collect()
    }

    /// Write the file over the old one, through a file of its own renamed into place, so a
    /// crash never leaves half a key file.
    pub fn save(&self) -> Result<(), KeyFileError> {
        self.write(false).map_err(|e| err(&self.path, e))
    }

    fn write(&self, create_new: bool) -> std::io::Result<()> {
        let text = {
            let st = self.state();
            let stored = Stored {
                current: st.current,
                epochs: st
                    .raw
                    .iter()
                    .map(|(e, k)| (*e, k.as_str().to_owned()))
                    .collect(),
            };
            Zeroizing::new(serde_json::to_string_pretty(&stored).map_err(std::io::Error::other)?)
        };
        let placing = if create_new {
            Placing::New
        } else {
            Placing::Replace
        };
        // Chats sealed from now on need this file: it must survive a crash.
        private_file::write(&self.path, &text, placing)?;
        self.state_mut().modified = modified(&self.path);
        Ok(())
    }
}

fn aad(chat_id: &str) -> String {
    format!("omw-chat/data-key/1|{chat_id}")
}

#[async_trait]
impl KeyWrapper for KeyFile {
    fn current_epoch(&self) -> i64 {
        self.refresh();
        self.state().current
    }

    async fn wrap(&self, chat_id: &str, key: &DataKey) -> Result<(i64, Vec<u8>), KeyError> {
        self.refresh();
        let st = self.state();
        let current = st.current;
        let kek = st.keys.get(&current).ok_or(KeyError::Destroyed(current))?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyError::Failed("no randomness for a nonce".into()))?;
        // Room for the tag: appending it must not move the key and leave a copy behind.
        let mut buf = Zeroizing::new(Vec::with_capacity(key.len() + AES_256_GCM.tag_len()));
        buf.extend_from_slice(key.as_ref());
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(chat_id).as_bytes()),
            &mut *buf,
        )
        .map_err(|_| KeyError::Failed("wrapping failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok((current, out))
    }

    async fn unwrap(&self, chat_id: &str, epoch: i64, wrapped: &[u8]) -> Result<DataKey, KeyError> {
        // The file may have a new epoch, or have lost a destroyed one (a stat per unwrap; keys
        // are unwrapped once per chat and cached).
        self.refresh();
        let st = self.state();
        let kek = st.keys.get(&epoch).ok_or(KeyError::Destroyed(epoch))?;
        if wrapped.len() < NONCE_LEN {
            return Err(KeyError::Failed("a wrapped key too short".into()));
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::Failed("a bad nonce".into()))?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let plain = kek
            .open_in_place(nonce, Aad::from(aad(chat_id).as_bytes()), &mut buf)
            .map_err(|_| {
                KeyError::Failed(format!("the data key of chat {chat_id} does not open"))
            })?;
        let key: [u8; 32] = plain
            .try_into()
            .map_err(|_| KeyError::Failed("a data key is not 256 bits".into()))?;
        Ok(Zeroizing::new(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_wrap_per_chat_and_a_destroyed_epoch_unwraps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/encryption.key");
        let (file, created) = KeyFile::load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(file.current_epoch(), 1);
        let dek = Zeroizing::new([9u8; 32]);
        let (epoch, wrapped) = file.wrap("c1", &dek).await.unwrap();
        assert_eq!(epoch, 1);
        assert_eq!(*file.unwrap("c1", 1, &wrapped).await.unwrap(), [9u8; 32]);
        assert!(
            file.unwrap("c2", 1, &wrapped).await.is_err(),
            "bound to its chat"
        );

        // Read back from disk; a second epoch; the first destroyed.
        let (again, created) = KeyFile::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(*again.unwrap("c1", 1, &wrapped).await.unwrap(), [9u8; 32]);
        assert_eq!(file.rotate().unwrap(), 2);
        let (epoch2, wrapped2) = file.wrap("c1", &dek).await.unwrap();
        assert_eq!(epoch2, 2);
        assert!(file.destroy(2).is_err(), "not the current one");
        file.destroy(1).unwrap();
        file.save().unwrap();
        let reread = KeyFile::load(&path).unwrap().unwrap();
        assert_eq!(reread.epochs(), vec![2]);
        assert!(matches!(
            reread.unwrap("c1", 1, &wrapped).await,
            Err(KeyError::Destroyed(1))
        ));
        assert_eq!(*reread.unwrap("c1", 2, &wrapped2).await.unwrap(), [9u8; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        for bad in [
            "not json",
            r#"{"current":1,"epochs":{}}"#,
            r#"{"current":1,"epochs":{"1":"c2hvcnQ="}}"#,
            r#"{"current":1,"epochs":{"1":"!!"}}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(KeyFile::load(&path).is_err(), "{bad}");
        }
    }
}
