//! Caller data at rest: names, phone numbers and identity card numbers are stored
//! encrypted (XChaCha20-Poly1305), and phone numbers are found again through a keyed
//! hash (HMAC-SHA256) instead of their clear value.
//!
//! Each key is 32 bytes of secret material from which two keys are derived: one for
//! encryption and one for the lookup hash. A key has an id (8 hex characters derived
//! from it) that prefixes every value sealed under it, `c1:<key id>:<base64(nonce |
//! ciphertext)>`, so a store holding the current key and the older ones reads rows
//! sealed under any of them while it writes under the current key only. Each row also
//! keeps the id of the key it was sealed under (`caller_key_id`, null for a row written
//! before caller data was encrypted), which is how rotation finds the rows to re-seal.
//!
//! The sealed field's name is the associated data, so a value moved to another column
//! does not decrypt.

use crate::{Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use hotline_domain::{Caller, IdNumber, Phone};
use rand::RngCore;
use sha2::Sha256;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// The version tag of the sealed format.
const PREFIX: &str = "c1";
/// Bytes of secret material in a key.
pub const CALLER_KEY_BYTES: usize = 32;

/// One key: its id, the encryption key and the lookup-hash key derived from it.
struct CallerKey {
    id: String,
    aead: XChaCha20Poly1305,
    mac: [u8; 32],
    /// Keys the fingerprints of requests (see [`crate::RequestKey`]), which hash caller
    /// data among the rest of a request.
    request_mac: [u8; 32],
}

impl CallerKey {
    fn derive(secret: &[u8]) -> Result<CallerKey> {
        if secret.len() < CALLER_KEY_BYTES {
            return Err(StoreError::Invalid(format!(
                "a caller data key must hold at least {CALLER_KEY_BYTES} bytes"
            )));
        }
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut m = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
            m.update(label);
            m.finalize().into_bytes().into()
        };
        let id: String =
            derive(b"hotline caller key id").iter().take(4).map(|b| format!("{b:02x}")).collect();
        let enc = derive(b"hotline caller encryption v1");
        Ok(CallerKey {
            id,
            aead: XChaCha20Poly1305::new((&enc).into()),
            mac: derive(b"hotline caller lookup hash v1"),
            request_mac: derive(b"hotline request fingerprint v1"),
        })
    }

    fn request_fingerprint(&self, digest: &[u8]) -> Vec<u8> {
        let mut m =
            <HmacSha256 as Mac>::new_from_slice(&self.request_mac).expect("HMAC takes any key length");
        m.update(digest);
        m.finalize().into_bytes().to_vec()
    }

    fn phone_hash(&self, phone: &Phone) -> String {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.mac).expect("HMAC takes any key length");
        m.update(phone.expose().as_bytes());
        m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The keys a store seals and opens caller data with: the current one, which seals,
/// and older ones still accepted for reading until rotation has re-sealed every row.
/// Cheap to clone. Its `Debug` shows key ids only.
#[derive(Clone)]
pub struct CallerKeys(Arc<Keys>);

struct Keys {
    current: CallerKey,
    older: Vec<CallerKey>,
}

/// A caller as stored: every identifying value sealed, plus the lookup hash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SealedCaller {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub phone_hash: Option<String>,
    pub id_number: Option<String>,
    /// The id of the key the values are sealed under.
    pub key_id: String,
}

impl CallerKeys {
    /// Keys from secret material: the current key first, then older ones (newest first)
    /// kept for reading. Each must hold at least 32 bytes.
    pub fn new(current: &[u8], older: &[Vec<u8>]) -> Result<CallerKeys> {
        let current = CallerKey::derive(current)?;
        let older = older
            .iter()
            .map(|k| CallerKey::derive(k))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|k| k.id != current.id)
            .collect();
        Ok(CallerKeys(Arc::new(Keys { current, older })))
    }

    /// A fixed, publicly known key for tests and throwaway databases. Never for data
    /// that matters: the server always passes the keys from its configuration.
    pub fn for_tests() -> CallerKeys {
        Self::new(b"hotline test caller key, not secret!", &[]).expect("a valid key")
    }

    /// New random secret material for a key.
    pub fn generate_secret() -> Vec<u8> {
        let mut key = vec![0u8; CALLER_KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.0.current.id
    }

    /// Ids of every key this can open, the current one first.
    pub fn key_ids(&self) -> Vec<String> {
        std::iter::once(&self.0.current).chain(&self.0.older).map(|k| k.id.clone()).collect()
    }

    fn key(&self, id: &str) -> Option<&CallerKey> {
        std::iter::once(&self.0.current).chain(&self.0.older).find(|k| k.id == id)
    }

    /// Seals `plain` as the value of `field` under the current key.
    pub fn seal(&self, field: &str, plain: &str) -> String {
        let key = &self.0.current;
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = key
            .aead
            .encrypt(&XNonce::from(nonce), Payload { msg: plain.as_bytes(), aad: field.as_bytes() })
            .expect("XChaCha20-Poly1305 encryption does not fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ct);
        format!("{PREFIX}:{}:{}", key.id, B64.encode(bytes))
    }

    /// Opens a value sealed as `field`. The error names the field, never the value.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String> {
        let bad = |why: &str| StoreError::other(format!("caller data in column `{field}` {why}"));
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("is not sealed"));
        };
        let key = self
            .key(id)
            .ok_or_else(|| bad(&format!("is sealed under key `{id}`, which is not configured")))?;
        let bytes = B64.decode(body).map_err(|_| bad("is not valid base64"))?;
        if bytes.len() < 24 {
            return Err(bad("is truncated"));
        }
        let (nonce, ct) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().expect("24 bytes");
        let plain = key
            .aead
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: field.as_bytes() })
            .map_err(|_| bad("does not decrypt (wrong key or altered)"))?;
        String::from_utf8(plain).map_err(|_| bad("is not text"))
    }

    /// Whether a stored value is sealed (rather than clear text from before encryption).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with("c1:")
    }

    /// The lookup hash of a phone number under the current key.
    pub fn phone_hash(&self, phone: &Phone) -> String {
        self.0.current.phone_hash(phone)
    }

    /// The lookup hashes of a phone number under every key, the current one first: rows
    /// not yet re-sealed after a rotation carry an older key's hash.
    pub fn phone_hashes(&self, phone: &Phone) -> Vec<String> {
        std::iter::once(&self.0.current).chain(&self.0.older).map(|k| k.phone_hash(phone)).collect()
    }

    /// The stored fingerprint of a request's digest, under the current key: a request
    /// holds caller data, so what is stored is keyed, like a phone's lookup hash.
    pub fn request_fingerprint(&self, digest: &[u8]) -> Vec<u8> {
        self.0.current.request_fingerprint(digest)
    }

    /// The fingerprints of a request's digest under every key, the current one first.
    pub fn request_fingerprints(&self, digest: &[u8]) -> Vec<Vec<u8>> {
        std::iter::once(&self.0.current).chain(&self.0.older).map(|k| k.request_fingerprint(digest)).collect()
    }

    /// Seals a caller for storage.
    pub fn seal_caller(&self, c: &Caller) -> SealedCaller {
        SealedCaller {
            name: c.name.as_deref().map(|n| self.seal("caller_name", n)),
            phone: c.phone.as_ref().map(|p| self.seal("caller_phone", p.expose())),
            phone_hash: c.phone.as_ref().map(|p| self.phone_hash(p)),
            id_number: c.id_number.as_ref().map(|i| self.seal("caller_id_number", i.expose())),
            key_id: self.current_id().to_owned(),
        }
    }

    /// Reads a stored value of `field`: sealed values are opened; a value of a row that
    /// has no key id (written before encryption) is taken as clear text.
    pub fn open_value(
        &self,
        field: &str,
        value: Option<String>,
        row_key_id: Option<&str>,
    ) -> Result<Option<String>> {
        match value {
            None => Ok(None),
            Some(v) if Self::is_sealed(&v) => self.open(field, &v).map(Some),
            Some(v) if row_key_id.is_none() => Ok(Some(v)),
            Some(_) => Err(StoreError::other(format!("caller data in column `{field}` is not sealed"))),
        }
    }

    /// The caller of a stored row, from its columns as stored.
    pub fn open_caller(&self, stored: StoredCaller) -> Result<Caller> {
        let kid = stored.key_id.as_deref();
        let phone = self.open_value("caller_phone", stored.phone, kid)?;
        let id_number = self.open_value("caller_id_number", stored.id_number, kid)?;
        Ok(Caller {
            name: self.open_value("caller_name", stored.name, kid)?,
            phone: phone.map(|p| Phone::parse("caller_phone", &p)).transpose().map_err(|_| {
                StoreError::other("caller data in column `caller_phone` is not a phone number")
            })?,
            anonymous: stored.anonymous,
            confidential: stored.confidential,
            id_number: id_number.map(|i| IdNumber::parse("caller_id_number", &i)).transpose().map_err(
                |_| {
                    StoreError::other(
                        "caller data in column `caller_id_number` is not an identity card number",
                    )
                },
            )?,
        })
    }
}

/// A caller's columns as read from a row.
#[derive(Debug, Clone, Default)]
pub struct StoredCaller {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub anonymous: bool,
    pub confidential: bool,
    pub key_id: Option<String>,
}

impl std::fmt::Debug for CallerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerKeys")
            .field("current", &self.0.current.id)
            .field("older", &self.0.older.iter().map(|k| k.id.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// What a pass of re-sealing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealSummary {
    /// Call records re-sealed.
    pub calls: u64,
    /// Work orders re-sealed.
    pub orders: u64,
    /// Telephony queue calls re-sealed.
    pub queue_calls: u64,
}

impl ResealSummary {
    pub fn total(&self) -> u64 {
        self.calls + self.orders + self.queue_calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            name: Some("张三".into()),
            phone: Some(Phone::parse("p", "13800138000").unwrap()),
            anonymous: false,
            confidential: true,
            id_number: Some(IdNumber::parse("i", "11010519491231002X").unwrap()),
        }
    }

    fn stored(s: &SealedCaller) -> StoredCaller {
        StoredCaller {
            name: s.name.clone(),
            phone: s.phone.clone(),
            id_number: s.id_number.clone(),
            anonymous: false,
            confidential: true,
            key_id: Some(s.key_id.clone()),
        }
    }

    #[test]
    fn seal_and_open() {
        let keys = CallerKeys::for_tests();
        let sealed = keys.seal_caller(&caller());
        let phone = sealed.phone.as_deref().unwrap();
        assert!(phone.starts_with(&format!("c1:{}:", keys.current_id())));
        assert!(!phone.contains("13800138000"));
        assert!(!sealed.id_number.as_deref().unwrap().contains("1949"));
        // Random nonces: the same number seals differently each time, hashes the same.
        assert_ne!(keys.seal("caller_phone", "13800138000"), keys.seal("caller_phone", "13800138000"));
        assert_eq!(sealed.phone_hash, keys.seal_caller(&caller()).phone_hash);
        assert_eq!(keys.open_caller(stored(&sealed)).unwrap(), caller());
        // Moved to another column, it does not open.
        assert!(keys.open("caller_name", phone).is_err());
        // Altered, it does not open, and the error does not show the value.
        let mut altered = phone.to_owned();
        altered.pop();
        altered.push(if phone.ends_with('A') { 'B' } else { 'A' });
        let e = keys.open("caller_phone", &altered).unwrap_err().to_string();
        assert!(e.contains("caller_phone") && !e.contains(&altered), "{e}");
    }

    #[test]
    fn rotation_reads_old_keys() {
        let old = CallerKeys::new(&[1u8; 32], &[]).unwrap();
        let new = CallerKeys::new(&[2u8; 32], &[vec![1u8; 32]]).unwrap();
        assert_ne!(old.current_id(), new.current_id());
        assert_eq!(new.key_ids(), vec![new.current_id().to_owned(), old.current_id().to_owned()]);
        let sealed = old.seal_caller(&caller());
        assert_eq!(new.open_caller(stored(&sealed)).unwrap(), caller());
        let p = caller().phone.unwrap();
        assert!(new.phone_hashes(&p).contains(&old.phone_hash(&p)));
        // Without the old key, the old rows do not open.
        let alone = CallerKeys::new(&[2u8; 32], &[]).unwrap();
        assert!(alone.open_caller(stored(&sealed)).is_err());
        assert!(CallerKeys::new(&[3u8; 16], &[]).is_err());
    }

    #[test]
    fn legacy_rows_read_clear() {
        let keys = CallerKeys::for_tests();
        let legacy = StoredCaller { phone: Some("13800138000".into()), ..Default::default() };
        assert_eq!(keys.open_caller(legacy).unwrap().phone.unwrap().expose(), "13800138000");
        let forged = StoredCaller {
            phone: Some("13800138000".into()),
            key_id: Some(keys.current_id().into()),
            ..Default::default()
        };
        assert!(keys.open_caller(forged).is_err());
    }
}
