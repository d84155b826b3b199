//! The emails Rivet sends, each with a plain-text and an HTML body. Links
//! point at the client application under `[server] public_url`, which reads
//! the token from the query string and posts it to the API.

use super::EmailMessage;
use crate::one_time_token::TokenPurpose;
use crate::user::{Email, FullName};

/// Where links in emails point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    public_url: String,
}

impl Links {
    /// Links under `public_url` (a trailing slash is ignored).
    pub fn new(public_url: &str) -> Self {
        Self { public_url: public_url.trim_end_matches('/').to_owned() }
    }

    /// The page that completes a token's purpose. Tokens are URL-safe
    /// base64, so they need no escaping.
    pub fn for_token(&self, purpose: TokenPurpose, token: &str) -> String {
        let page = match purpose {
            TokenPurpose::VerifyEmail => "verify-email",
            TokenPurpose::ResetPassword => "reset-password",
        };
        format!("{}/{page}?token={token}", self.public_url)
    }
}

/// Renders the account emails.
#[derive(Debug, Clone)]
pub struct Templates {
    links: Links,
}

/// Escapes text for HTML element content and attribute values.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps paragraphs and one call-to-action link in a minimal HTML document.
fn html(title: &str, paragraphs: &[String], action: &str, link: &str) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{}</p>\n", html_escape(p))).collect();
    let (title, action, link) = (html_escape(title), html_escape(action), html_escape(link));
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: sans-serif\">\n{body}<p><a href=\"{link}\">{action}</a></p>\n\
         <p style=\"color: #666\">If the button does not work, paste this address into your browser: \
         {link}</p>\n</body></html>\n"
    )
}

fn text(paragraphs: &[String], link: &str) -> String {
    let mut out = paragraphs.join("\n\n");
    out.push_str("\n\n");
    out.push_str(link);
    out.push('\n');
    out
}

impl Templates {
    /// Templates whose links point under `links`.
    pub fn new(links: Links) -> Self {
        Self { links }
    }

    fn render(&self, to: &Email, subject: &str, paragraphs: &[String], action: &str, link: &str) -> EmailMessage {
        EmailMessage {
            to: to.as_str().to_owned(),
            subject: subject.to_owned(),
            text: text(paragraphs, link),
            html: html(subject, paragraphs, action, link),
        }
    }

    /// Sent on registration; carries the first verification link.
    pub fn welcome(&self, to: &Email, name: Option<&FullName>, verify_token: &str) -> EmailMessage {
        let link = self.links.for_token(TokenPurpose::VerifyEmail, verify_token);
        let greeting =
            name.map_or_else(|| "Welcome to Rivet!".to_owned(), |n| format!("Welcome to Rivet, {}!", n.as_str()));
        let paragraphs = [
            greeting,
            "Your account is ready. Please confirm your email address with the link below; it is valid for 24 hours."
                .to_owned(),
        ];
        self.render(to, "Welcome to Rivet — confirm your email address", &paragraphs, "Confirm my email address", &link)
    }

    /// Sent on request and after a change of address.
    pub fn verify_email(&self, to: &Email, token: &str) -> EmailMessage {
        let link = self.links.for_token(TokenPurpose::VerifyEmail, token);
        let paragraphs = [
            "Please confirm that this is your email address for your Rivet account.".to_owned(),
            "The link below is valid for 24 hours. If you did not ask for it, you can ignore this message.".to_owned(),
        ];
        self.render(to, "Confirm your email address", &paragraphs, "Confirm my email address", &link)
    }

    /// Sent on a password-reset request for a known, active account.
    pub fn password_reset(&self, to: &Email, token: &str) -> EmailMessage {
        let link = self.links.for_token(TokenPurpose::ResetPassword, token);
        let paragraphs = [
            "Someone asked to reset the password of your Rivet account.".to_owned(),
            "The link below lets you choose a new password; it is valid for 30 minutes and works once. \
             Resetting signs you out everywhere. \
             If you did not ask for this, ignore this message: your password stays as it is."
                .to_owned(),
        ];
        self.render(to, "Reset your Rivet password", &paragraphs, "Choose a new password", &link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::new(Links::new("https://app.example.com/"))
    }

    #[test]
    fn links_are_built_from_the_public_url() {
        let m = templates().password_reset(&Email::parse("ada@example.com").unwrap(), "abc_-1");
        assert!(m.text.contains("https://app.example.com/reset-password?token=abc_-1"), "{}", m.text);
        assert!(m.html.contains("href=\"https://app.example.com/reset-password?token=abc_-1\""), "{}", m.html);
        assert_eq!(m.to, "ada@example.com");
    }

    #[test]
    fn names_are_escaped_in_html_but_kept_in_text() {
        let name = FullName::parse("Ada <script>").unwrap();
        let m = templates().welcome(&Email::parse("ada@example.com").unwrap(), Some(&name), "t");
        assert!(m.html.contains("Ada &lt;script&gt;"), "{}", m.html);
        assert!(!m.html.contains("<script>"));
        assert!(m.text.contains("Ada <script>"));
        assert!(m.text.contains("https://app.example.com/verify-email?token=t"));
    }
}
