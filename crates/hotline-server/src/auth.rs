//! Identity: argon2id password hashes, signed expiring tokens (HS256 JWT), and the
//! interceptor that turns `authorization: Bearer <token>` into the request's actor.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use hotline_domain::{Actor, FieldError, Role};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use tonic::{Request, Status};
use uuid::Uuid;

/// argon2id with the OWASP-recommended floor for interactive logins: 19 MiB, 2 passes,
/// 1 lane. A sign-in costs ~20 ms of one core, which also slows guessing.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Minimum password rules: 10 to 128 characters, not all of one kind.
pub fn check_password_rules(password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if !(10..=128).contains(&n) {
        return Err(FieldError::new("password", "must be 10 to 128 characters long"));
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        return Err(FieldError::new("password", "must mix letters with digits or symbols"));
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

/// Signs and checks tokens with one HMAC key.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: chrono::Duration,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: chrono::Duration) -> Self {
        Tokens { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), ttl }
    }

    pub fn issue(&self, user: &hotline_store::User, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
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
        (token, exp)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, Status> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map(|data| data.claims).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Status::unauthenticated("token expired; sign in again")
                }
                _ => Status::unauthenticated("invalid token"),
            },
        )
    }

    /// The claims of a request's bearer token.
    pub fn claims_of<T>(&self, req: &Request<T>) -> Result<Claims, Status> {
        let header = req
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))?;
        let value = header.to_str().map_err(|_| Status::unauthenticated("invalid token"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization must be `Bearer <token>`"))?;
        self.verify(token.trim())
    }
}

/// The interceptor in front of every service but sign-in: a valid token puts its
/// claims into the request's extensions, anything else is UNAUTHENTICATED.
#[derive(Clone)]
pub struct Authenticate(pub Arc<Tokens>);

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let claims = self.0.claims_of(&req)?;
        req.extensions_mut().insert(claims);
        Ok(req)
    }
}

/// The authenticated actor of a request that passed [`Authenticate`].
pub fn actor<T>(req: &Request<T>) -> Result<Actor, Status> {
    req.extensions()
        .get::<Claims>()
        .map(Claims::actor)
        .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))
}

/// Reads the signing key, or creates a random one with owner-only permissions.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let key = hex_decode(text.trim()).with_context(|| format!("{} is not a hex key", path.display()))?;
        anyhow::ensure!(key.len() >= 32, "{} holds a key shorter than 32 bytes", path.display());
        return Ok(key);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut key = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text: String = key.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
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
        assert!(check_password_rules("short1").is_err());
        assert!(check_password_rules("onlyletterslong").is_err());
        assert!(check_password_rules("letters and 1 digit").is_ok());
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
