//! Identity: argon2id password hashes, and signed expiring tokens (HS256 JWT) checked
//! once per request ([`Tokens::verified`]) by the first layer that needs the caller.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use hotline_domain::{Actor, FieldError, Role};
use hotline_store::LockoutPolicy;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use tonic::Status;
use tonic::codegen::http;
use uuid::Uuid;

/// argon2id with the OWASP-recommended floor for interactive logins: 19 MiB, 2 passes,
/// 1 lane. A sign-in costs ~20 ms of one core, which also slows guessing.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The password rules, checked wherever a password is set: 10 to 128 characters; not
/// all of one kind (letters mixed with digits or symbols); not the username, nor
/// containing it (ignoring case).
pub fn check_password_rules(password: &str, username: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if !(10..=128).contains(&n) {
        return Err(FieldError::new("password", "must be 10 to 128 characters long"));
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        return Err(FieldError::new("password", "must mix letters with digits or symbols"));
    }
    let user = username.trim().to_lowercase();
    if !user.is_empty() && password.to_lowercase().contains(&user) {
        return Err(FieldError::new("password", "must not be or contain the username"));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashing").to_string()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that a wrong username
/// takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password-0"))
}

/// What a token asserts about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    pub role: Role,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Token id, for revocation.
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.sub, role: self.role, person_id: self.pid.clone(), unit_id: self.unit.clone() }
    }
}

/// Signs and checks tokens with one HMAC key, and refuses revoked sessions and
/// inactive users (see [`Revoked`]). Also holds the sign-in lock-out policy.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: chrono::Duration,
    /// Sessions and users refused although their tokens verify.
    pub revoked: Arc<Revoked>,
    /// Failed sign-ins that lock a username.
    pub lockout: LockoutPolicy,
    /// How often the server reloads [`Revoked`] from storage.
    pub revocation_refresh: std::time::Duration,
    /// Page tokens, keyed from the same secret.
    pub pages: crate::paging::PageTokens,
    /// Tokens checked (signature, expiry and revocation) since start.
    verifications: Arc<std::sync::atomic::AtomicU64>,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: chrono::Duration) -> Self {
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
            revoked: Arc::new(Revoked::default()),
            lockout: LockoutPolicy::default(),
            revocation_refresh: std::time::Duration::from_secs(5),
            pages: crate::paging::PageTokens::new(secret),
            verifications: Arc::default(),
        }
    }

    pub fn issue(&self, user: &hotline_store::User, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let (token, claims) = self.issue_claims(user, now);
        (token, DateTime::from_timestamp(claims.exp, 0).unwrap_or(now))
    }

    /// A new token for `user` and its claims (whose `jti` is the session id).
    pub fn issue_claims(&self, user: &hotline_store::User, now: DateTime<Utc>) -> (String, Claims) {
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user.id,
            role: user.role,
            unit: user.unit_id.clone(),
            pid: user.person_id.clone(),
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.encoding).expect("HS256 signing");
        (token, claims)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, Status> {
        self.verifications.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Status::unauthenticated("token expired; sign in again")
                }
                _ => Status::unauthenticated("invalid token"),
            })?;
        if self.revoked.refuses(&claims) {
            return Err(Status::unauthenticated("token revoked; sign in again"));
        }
        Ok(claims)
    }

    /// How many tokens [`Tokens::verify`] has checked since start.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The claims of an HTTP request's bearer token, checked once: the first call (the
    /// limits layer's, or the authorization layer's) stores the outcome in the request's
    /// extensions and a later one reads it back.
    pub fn verified<B>(&self, req: &mut http::Request<B>) -> Result<Claims, Status> {
        if let Some(Verified(done)) = req.extensions().get::<Verified>() {
            return done.clone();
        }
        let header = req.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().map_err(|_| ()));
        let outcome = self.verify_header(header);
        req.extensions_mut().insert(Verified(outcome.clone()));
        outcome
    }

    /// Checks an `authorization` header value (`Err(())`: not visible ASCII).
    fn verify_header(&self, header: Option<Result<&str, ()>>) -> Result<Claims, Status> {
        let value = header
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))?
            .map_err(|()| Status::unauthenticated("invalid token"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization must be `Bearer <token>`"))?;
        self.verify(token.trim())
    }
}

/// The outcome of checking a request's bearer token, kept in its extensions so that the
/// signature is checked once per request however many layers ask. Only server code can
/// put it there; a client's headers cannot.
#[derive(Debug, Clone)]
pub struct Verified(pub Result<Claims, Status>);

/// Revoked sessions (until their tokens expire) and inactive users, in memory so that
/// the check on every request costs a hash lookup. This instance's sign-outs and
/// deactivations take effect at once; the server reloads the whole set from storage
/// every `revocation_refresh_secs`, which is how revocations made through other
/// instances (or the `hotline user deactivate` command) reach this one.
#[derive(Debug, Default)]
pub struct Revoked {
    state: std::sync::RwLock<RevokedState>,
}

#[derive(Debug, Default)]
struct RevokedState {
    /// Session id to its expiry (seconds since the epoch).
    sessions: std::collections::HashMap<Uuid, i64>,
    inactive: std::collections::HashSet<Uuid>,
    /// Users deactivated here, with when: kept over a reload that may predate it.
    recent: Vec<(Uuid, std::time::Instant)>,
}

impl Revoked {
    /// Whether a token with these (verified) claims is refused.
    pub fn refuses(&self, claims: &Claims) -> bool {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        s.sessions.contains_key(&claims.jti) || s.inactive.contains(&claims.sub)
    }

    pub fn revoke_session(&self, jti: Uuid, exp: i64) {
        self.state.write().unwrap_or_else(|e| e.into_inner()).sessions.insert(jti, exp);
    }

    pub fn deactivate(&self, user_id: Uuid) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.inactive.insert(user_id);
        s.recent.push((user_id, std::time::Instant::now()));
    }

    /// Replaces the set with storage's. Sessions only accumulate (a revocation is
    /// final); expired ones are dropped. Users deactivated here within `keep` stay
    /// refused even if the reload read storage before their deactivation committed.
    pub fn reload(&self, from: hotline_store::Revocations, now: DateTime<Utc>, keep: std::time::Duration) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        let now_s = now.timestamp().min(Utc::now().timestamp());
        s.sessions.retain(|_, exp| *exp > now_s);
        for (id, exp) in from.sessions {
            s.sessions.insert(id, exp.timestamp());
        }
        s.recent.retain(|(_, at)| at.elapsed() < keep);
        let mut inactive: std::collections::HashSet<Uuid> = from.inactive_users.into_iter().collect();
        inactive.extend(s.recent.iter().map(|(id, _)| *id));
        s.inactive = inactive;
    }
}

/// Reloads [`Revoked`] from storage every `every` until the task is dropped.
pub async fn refresh_revocations(app: crate::app::App, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app.store.revocations(app.now()).await {
            Ok(r) => app.tokens.revoked.reload(r, app.now(), every * 3),
            Err(e) => tracing::warn!(error = %e, "reloading token revocations failed; keeping the last set"),
        }
    }
}

pub use crate::caller_keys::load_caller_keys;

/// Reads the signing key, or creates a random one with owner-only permissions.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.exists() { read_key(path) } else { write_key(path, &new_key()) }
}

/// A key file's key: hex, at least 32 bytes.
pub fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let key = hex_decode(text.trim()).with_context(|| format!("{} is not a hex key", path.display()))?;
    anyhow::ensure!(key.len() >= 32, "{} holds a key shorter than 32 bytes", path.display());
    Ok(key)
}

/// 32 random bytes, the secret of a new signing or caller data key.
pub fn new_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// A key as its file holds it: lower-case hex.
pub fn key_text(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `key` to a new file at `path` (and its directory) with owner-only
/// permissions; an existing file is an error, never overwritten.
pub fn write_key(path: &Path, key: &[u8]) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, key_text(key).as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(key.to_vec())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse 1");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse 1", &h));
        assert!(!verify_password("correct horse 2", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_rules("short1", "u").is_err());
        assert!(check_password_rules("onlyletterslong", "u").is_err());
        assert!(check_password_rules("1234567890123", "u").is_err());
        assert!(check_password_rules("letters and 1 digit", "u").is_ok());
        assert!(check_password_rules("Counsel.Wang-2026", "counsel.wang").is_err());
        assert!(check_password_rules("counsel.wang", "counsel.wang").is_err());
        assert!(check_password_rules("a-long-pass-2026", "agent").is_ok());
    }

    #[test]
    fn tokens_verify_and_expire() {
        let user = hotline_store::User {
            id: Uuid::new_v4(),
            username: "a".into(),
            display_name: "A".into(),
            role: Role::Counsel,
            unit_id: "371502001001".into(),
            person_id: Some("P1".into()),
            password_hash: String::new(),
            active: true,
            created_at: Utc::now(),
        };
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", chrono::Duration::minutes(5));
        let (token, _) = t.issue(&user, Utc::now());
        let c = t.verify(&token).unwrap();
        assert_eq!(c.sub, user.id);
        assert_eq!(c.actor().person_id.as_deref(), Some("P1"));
        let (old, _) = t.issue(&user, Utc::now() - chrono::Duration::minutes(10));
        assert!(t.verify(&old).unwrap_err().message().contains("expired"));
        let other = Tokens::new(b"another key another key another k", chrono::Duration::minutes(5));
        assert_eq!(other.verify(&token).unwrap_err().code(), tonic::Code::Unauthenticated);
        // Revoked sessions and inactive users are refused; a reload keeps both.
        t.revoked.revoke_session(c.jti, c.exp);
        assert!(t.verify(&token).unwrap_err().message().contains("revoked"));
        let (second, _) = t.issue(&user, Utc::now());
        assert!(t.verify(&second).is_ok());
        t.revoked.deactivate(user.id);
        assert!(t.verify(&second).is_err());
        t.revoked.reload(
            hotline_store::Revocations::default(),
            Utc::now(),
            std::time::Duration::from_secs(60),
        );
        assert!(t.verify(&token).is_err() && t.verify(&second).is_err());
        t.revoked.reload(hotline_store::Revocations::default(), Utc::now(), std::time::Duration::ZERO);
        assert!(t.verify(&second).is_ok(), "reactivated in storage");
    }

    #[test]
    fn key_file_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("hotline-key-{}", Uuid::new_v4()));
        let path = dir.join("signing.key");
        let a = load_or_create_key(&path).unwrap();
        let b = load_or_create_key(&path).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
