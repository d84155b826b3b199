//! Access tokens: JWTs signed with one configured algorithm.
//!
//! Verification pins the algorithm (a token whose header names another one,
//! including `none`, is rejected before any signature check), requires
//! `exp`, `iat`, `sub`, `iss` and `aud`, checks issuer and audience
//! exactly, and allows a small, explicit clock leeway.

use crate::error::AuthError;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rivet_domain::{Role, SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The supported signing algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    Rs256,
    EdDsa,
}

impl JwtAlgorithm {
    /// Parses `HS256`, `RS256` or `EdDSA`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// Key material and claims policy, handed in by the application.
#[derive(Clone)]
pub struct JwtSettings {
    pub algorithm: JwtAlgorithm,
    /// The shared secret, for HS256.
    pub secret: Vec<u8>,
    /// PEM keys, for RS256 and EdDSA.
    pub private_key_pem: Option<Vec<u8>>,
    pub public_key_pem: Option<Vec<u8>>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    /// Clock skew tolerated on `exp` (jsonwebtoken's own default is 60 s; ours is explicit).
    pub leeway: Duration,
}

impl JwtSettings {
    /// HS256 with `secret`, issuer `rivet`, audience `rivet-api`, 15-minute
    /// tokens and 5 s of leeway: the defaults of `config/default.toml`.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            algorithm: JwtAlgorithm::Hs256,
            secret: secret.to_vec(),
            private_key_pem: None,
            public_key_pem: None,
            issuer: "rivet".into(),
            audience: "rivet-api".into(),
            access_ttl: Duration::from_secs(900),
            leeway: Duration::from_secs(5),
        }
    }
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

/// The claims of a Rivet access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: String,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: Uuid,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct JwtCodec {
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCodec").field("alg", &self.header.alg).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// Why key material was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid JWT key: {0}")]
pub struct KeyError(String);

impl JwtCodec {
    /// Builds the codec from settings.
    ///
    /// # Errors
    /// [`KeyError`] when a required key is missing or unreadable.
    pub fn new(s: &JwtSettings) -> Result<Self, KeyError> {
        let pem = |k: &Option<Vec<u8>>, which: &str| {
            k.clone().ok_or_else(|| KeyError(format!("{which} key file is required for {:?}", s.algorithm)))
        };
        let bad = |e: jsonwebtoken::errors::Error| KeyError(e.to_string());
        let (encoding, decoding) = match s.algorithm {
            JwtAlgorithm::Hs256 => (EncodingKey::from_secret(&s.secret), DecodingKey::from_secret(&s.secret)),
            JwtAlgorithm::Rs256 => (
                EncodingKey::from_rsa_pem(&pem(&s.private_key_pem, "private")?).map_err(bad)?,
                DecodingKey::from_rsa_pem(&pem(&s.public_key_pem, "public")?).map_err(bad)?,
            ),
            JwtAlgorithm::EdDsa => (
                EncodingKey::from_ed_pem(&pem(&s.private_key_pem, "private")?).map_err(bad)?,
                DecodingKey::from_ed_pem(&pem(&s.public_key_pem, "public")?).map_err(bad)?,
            ),
        };
        let mut validation = Validation::new(s.algorithm.jwt());
        validation.set_issuer(&[&s.issuer]);
        validation.set_audience(&[&s.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = s.leeway.as_secs();
        validation.validate_exp = true;
        Ok(Self {
            header: Header::new(s.algorithm.jwt()),
            encoding,
            decoding,
            validation,
            issuer: s.issuer.clone(),
            audience: s.audience.clone(),
            ttl: s.access_ttl,
        })
    }

    /// Lifetime of the tokens this codec issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs an access token for a user's session.
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if signing fails.
    pub fn issue(&self, user: UserId, role: Role, session: SessionId) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user.0,
            role: role.as_str().to_owned(),
            sid: session.0,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::now_v7(),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with this codec's key (tests forge tokens with it).
    ///
    /// # Errors
    /// [`AuthError::Crypto`] if signing fails.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&self.header, claims, &self.encoding).map_err(|e| AuthError::Crypto(Box::new(e)))
    }

    /// Verifies a token and returns its claims.
    ///
    /// # Errors
    /// [`AuthError::TokenExpired`] past `exp` plus leeway; otherwise
    /// [`AuthError::InvalidToken`] naming what was wrong.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        match jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                ErrorKind::InvalidSignature => AuthError::InvalidToken("the token's signature is invalid"),
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => {
                    AuthError::InvalidToken("the token is not signed with the expected algorithm")
                }
                ErrorKind::InvalidIssuer => AuthError::InvalidToken("the token's issuer is not accepted"),
                ErrorKind::InvalidAudience => AuthError::InvalidToken("the token's audience is not accepted"),
                ErrorKind::ImmatureSignature => AuthError::InvalidToken("the token is not valid yet"),
                ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => {
                    AuthError::InvalidToken("the token lacks required claims")
                }
                _ => AuthError::InvalidToken("the token is malformed"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn settings() -> JwtSettings {
        JwtSettings::hs256(b"a-test-secret-that-is-long-enough-32b")
    }

    fn codec() -> JwtCodec {
        JwtCodec::new(&settings()).unwrap()
    }

    fn claims(codec: &JwtCodec) -> AccessClaims {
        let token = codec.issue(UserId::new(), Role::User, SessionId::new()).unwrap();
        codec.verify(&token).unwrap()
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn an_issued_token_verifies_with_every_claim() {
        let c = codec();
        let user = UserId::new();
        let sid = SessionId::new();
        let got = c.verify(&c.issue(user, Role::Admin, sid).unwrap()).unwrap();
        assert_eq!((got.sub, got.sid, got.role.as_str()), (user.0, sid.0, "admin"));
        assert_eq!(got.exp - got.iat, 900);
        assert_eq!((got.iss.as_str(), got.aud.as_str()), ("rivet", "rivet-api"));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_rejected() {
        let c = codec();
        let payload = serde_json::to_value(claims(&c)).unwrap();
        let token = format!("{}.{}.", b64(&serde_json::json!({"alg": "none", "typ": "JWT"})), b64(&payload));
        assert!(matches!(c.verify(&token), Err(AuthError::InvalidToken(_))));
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_rejected_even_with_the_right_secret() {
        let c = codec();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(&c),
            &EncodingKey::from_secret(&settings().secret),
        )
        .unwrap();
        assert!(matches!(c.verify(&token), Err(AuthError::InvalidToken(m)) if m.contains("algorithm")));
    }

    #[test]
    fn tampered_claims_break_the_signature() {
        let c = codec();
        let token = c.issue(UserId::new(), Role::User, SessionId::new()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        let forged = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
        assert!(matches!(c.verify(&forged), Err(AuthError::InvalidToken(m)) if m.contains("signature")));
    }

    #[test]
    fn expiry_wrong_issuer_and_wrong_audience_are_rejected() {
        let c = codec();
        let now = chrono::Utc::now().timestamp();
        let mut expired = claims(&c);
        expired.iat = now - 1000;
        expired.exp = now - 10; // beyond the 5 s leeway
        assert!(matches!(c.verify(&c.sign(&expired).unwrap()), Err(AuthError::TokenExpired)));
        let mut within_leeway = claims(&c);
        within_leeway.exp = now - 2;
        assert!(c.verify(&c.sign(&within_leeway).unwrap()).is_ok(), "2 s past exp is inside the leeway");
        let mut iss = claims(&c);
        iss.iss = "someone-else".into();
        assert!(matches!(c.verify(&c.sign(&iss).unwrap()), Err(AuthError::InvalidToken(m)) if m.contains("issuer")));
        let mut aud = claims(&c);
        aud.aud = "another-api".into();
        assert!(matches!(c.verify(&c.sign(&aud).unwrap()), Err(AuthError::InvalidToken(m)) if m.contains("audience")));
    }

    #[test]
    fn a_token_from_another_secret_is_rejected() {
        let mut other = settings();
        other.secret = b"another-secret-that-is-also-long-enough".to_vec();
        let forged = JwtCodec::new(&other).unwrap().issue(UserId::new(), Role::Admin, SessionId::new()).unwrap();
        assert!(matches!(codec().verify(&forged), Err(AuthError::InvalidToken(_))));
    }
}
