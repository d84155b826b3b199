//! Authentication bodies.

use super::sets;
use rivet_auth::TokenPair;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 8–128 characters, not a common password, not the email.
    #[schema(example = "correct horse battery staple", min_length = 8, max_length = 128)]
    pub password: String,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, example = "Ada Lovelace")]
    pub full_name: Option<String>,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(example = "correct horse battery staple", min_length = 1, max_length = 1024)]
    pub password: String,
}

/// `POST /auth/refresh` and `POST /auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshToken {
    pub refresh_token: String,
}

/// The tokens a successful login or refresh returns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = TokenPair)]
pub struct TokenPairBody {
    pub access_token: String,
    #[schema(value_type = sets::TokenType)]
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

impl From<TokenPair> for TokenPairBody {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: p.expires_in,
            refresh_token: p.refresh_token,
            refresh_expires_in: p.refresh_expires_in,
        }
    }
}

/// The OAuth2 token endpoint's form (RFC 6749 §4.3 and §6), for the API
/// description; the handler reads the form itself to answer in RFC 6749 form.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    #[schema(value_type = sets::GrantType, example = "password")]
    grant_type: String,
    /// The email, for the password grant.
    #[schema(example = "ada@example.com")]
    username: Option<String>,
    /// For the password grant.
    password: Option<String>,
    /// For the refresh_token grant.
    refresh_token: Option<String>,
    /// Ignored: every token carries the user's own permissions.
    scope: Option<String>,
}

/// The OAuth2 token endpoint's success body (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OAuthToken {
    pub access_token: String,
    #[schema(value_type = sets::TokenType)]
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// The OAuth2 token endpoint's error body (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OAuthError {
    #[schema(value_type = sets::OAuthErrorCode)]
    pub error: String,
    pub error_description: String,
}

/// `POST /auth/password/forgot`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
}

/// `POST /auth/password/reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The `token` query parameter of the emailed link.
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    #[schema(example = "a new correct horse battery staple", min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// `POST /auth/verify-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The `token` query parameter of the emailed link.
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
}
