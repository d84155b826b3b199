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
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a token. Lookups go by this hash, so comparing it is
/// an index probe, not a byte-by-byte comparison an attacker could time.
pub fn hash(token: &str) -> RefreshTokenHash {
    let digest = Sha256::digest(token.as_bytes());
    RefreshTokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
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
