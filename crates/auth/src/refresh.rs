//! Refresh tokens: 256 random bits, URL-safe; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rivet_domain::RefreshTokenHash;
use sha2::{Digest, Sha256};

/// Longest string accepted as a refresh token before hashing: anything
/// longer is not one of ours, and hashing megabytes would be a cheap attack.
pub const MAX_TOKEN_LEN: usize = 256;

/// A new refresh token and its hash.
pub fn generate() -> (String, RefreshTokenHash) {
    let token = random_token();
    let hash = hash(&token);
    (token, hash)
}

/// 256 random bits, URL-safe base64 (43 characters).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256 of a token.
pub(crate) fn sha256_hex(token: &str) -> String {
    rivet_domain::hex(&Sha256::digest(token.as_bytes()))
}

/// The stored form of a token. Lookups go by this hash, so comparing it is
/// an index probe, not a byte-by-byte comparison an attacker could time.
pub fn hash(token: &str) -> RefreshTokenHash {
    RefreshTokenHash(sha256_hex(token))
}

/// One-time tokens (email verification, password reset) are made and
/// stored the same way as refresh tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneTimeSecrets;

impl rivet_domain::ports::TokenSecrets for OneTimeSecrets {
    fn mint(&self) -> (String, String) {
        let token = random_token();
        let hash = sha256_hex(&token);
        (token, hash)
    }

    fn hash(&self, token: &str) -> String {
        sha256_hex(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_differ() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
        assert_eq!(ha, hash(&a));
        assert_eq!(ha.0.len(), 64);
    }
}
