//! `/api/v1/auth`: the flows that go through the user's mailbox — email
//! verification and password reset. Emails leave through the job queue.

use super::{Endpoint, Routes};
use crate::dto::auth::{ForgotPassword, ResetPassword, VerifyEmail};
use crate::error::ApiError;
use crate::extract::{Authenticated, Json};
use crate::problem::Problem;
use crate::rate_limit::spend_email_budget;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(routes: &mut Routes<'_>) {
    routes.add(Endpoint::new("/api/v1/auth/password/forgot").post(forgot_password));
    routes.add(Endpoint::new("/api/v1/auth/password/reset").post(reset_password));
    routes.add(Endpoint::new("/api/v1/auth/verify-email").post(verify_email));
    routes.add(Endpoint::new("/api/v1/auth/verify-email/resend").post(resend_verification));
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/password/forgot",
    operation_id = "requestPasswordReset",
    tag = "auth",
    summary = "Ask for a password-reset link",
    description = "Always 202, whether or not the address has an account, so the answer reveals nothing. An active \
        account gets an email with a link `{public_url}/reset-password?token=…`, valid 30 minutes and usable once.",
    request_body = ForgotPassword,
    responses(
        (status = 202, description = "Accepted; an email follows if the address has an active account"),
    ),
)]
pub(crate) async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<ForgotPassword>,
) -> Result<HttpResponse, ApiError> {
    spend_email_budget(&req, &body.0.email).await?;
    state.accounts.forgot_password(&body.0.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/password/reset",
    operation_id = "resetPassword",
    tag = "auth",
    summary = "Set a new password with a reset token",
    description = "Ends every session of the account. A password the policy refuses leaves the token usable.",
    request_body = ResetPassword,
    responses(
        (status = 204, description = "The password is changed and every session ended"),
        (
            status = 400,
            description = "The token is unknown, used or expired (`invalid_token`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn reset_password(
    state: web::Data<AppState>,
    body: Json<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    let ResetPassword { token, new_password } = body.0;
    state.accounts.reset_password(&token, &new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/verify-email",
    operation_id = "verifyEmail",
    tag = "auth",
    summary = "Confirm an email address with the emailed token",
    request_body = VerifyEmail,
    responses(
        (status = 204, description = "The address is verified"),
        (
            status = 400,
            description = "The token is unknown, used or expired, or the account's address has changed since \
                (`invalid_token`)",
            body = Problem,
            content_type = "application/problem+json",
        ),
    ),
)]
pub(crate) async fn verify_email(
    state: web::Data<AppState>,
    body: Json<VerifyEmail>,
) -> Result<HttpResponse, ApiError> {
    state.accounts.verify_email(&body.0.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/verify-email/resend",
    operation_id = "resendVerificationEmail",
    tag = "auth",
    summary = "Mail a new verification link",
    description = "202 in every case; nothing is sent when the address is verified already.",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted; a link follows unless the address is verified"),
    ),
)]
pub(crate) async fn resend_verification(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    who.0.require_session("ask for verification links with an API key")?;
    state.accounts.resend_verification(who.0.user_id).await?;
    Ok(HttpResponse::Accepted().finish())
}
