//! TLS to PostgreSQL, for managed services (Neon, RDS, Cloud SQL...).
//!
//! A URL with `sslmode=require`, `verify-ca` or `verify-full` connects over
//! TLS with rustls, and the server is always verified in full — certificate
//! chain against the Mozilla roots (plus `sslrootcert=<file>` when given)
//! and hostname — whatever the mode says: "encrypted but unverified" is not
//! offered. Without those modes the connection is plain, for local and
//! private-network servers.

use crate::error::{Error, Result};
use crate::pg_conn::{PgConn, Statements};
use diesel::ConnectionError;
use rivet_domain::error::display_chain;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

/// A PostgreSQL URL prepared for tokio-postgres, with its TLS settings.
#[derive(Debug, Clone)]
pub(crate) struct PgTarget {
    /// The URL with `sslrootcert` removed and the mode spelled as tokio-postgres knows it.
    pub url: String,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Reads `sslmode` and `sslrootcert` from a URL.
///
/// # Errors
/// [`Error::Setup`] when the CA file cannot be read or holds no certificate.
pub(crate) fn prepare(url: &str) -> Result<PgTarget> {
    let Some((base, query)) = url.split_once('?') else { return Ok(PgTarget { url: url.to_owned(), tls: None }) };
    let mut kept = Vec::new();
    let (mut verify, mut root_file) = (false, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" if matches!(value, "require" | "verify-ca" | "verify-full") => {
                verify = true;
                kept.push("sslmode=require".to_owned());
            }
            "sslrootcert" => {
                root_file = Some(
                    form_urlencoded::parse(format!("f={value}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default(),
                )
            }
            _ => kept.push(pair.to_owned()),
        }
    }
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    if !verify {
        return Ok(PgTarget { url, tls: None });
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = root_file {
        let certs = CertificateDer::pem_file_iter(&file)
            .map_err(|e| Error::Setup(format!("cannot read sslrootcert {file}: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Setup(format!("sslrootcert {file}: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Setup(format!("sslrootcert {file} holds no certificate")));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| Error::Setup(format!("sslrootcert {file}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(PgTarget { url, tls: Some(Arc::new(config)) })
}

/// Opens one connection, over TLS when `config` is given (the pool's setup
/// callback). The connection's I/O runs on the runtime this is awaited on.
pub(crate) async fn connect(
    url: String,
    config: Option<Arc<rustls::ClientConfig>>,
    statements: Statements,
) -> diesel::ConnectionResult<PgConn> {
    let failed = |e: tokio_postgres::Error| ConnectionError::BadConnection(display_chain(&e));
    Ok(match config {
        None => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.map_err(failed)?;
            PgConn::new(client, connection, statements)
        }
        Some(config) => {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new((*config).clone());
            let (client, connection) = tokio_postgres::connect(&url, tls).await.map_err(failed)?;
            PgConn::new(client, connection, statements)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_verifying_modes_turn_tls_on_and_the_ca_file_leaves_the_url() {
        let plain = prepare("postgres://u@h/db?application_name=rivet").unwrap();
        assert!(plain.tls.is_none());
        assert_eq!(plain.url, "postgres://u@h/db?application_name=rivet");
        for mode in ["require", "verify-ca", "verify-full"] {
            let t = prepare(&format!("postgres://u@h/db?sslmode={mode}&channel_binding=require")).unwrap();
            assert!(t.tls.is_some(), "{mode}");
            assert_eq!(t.url, "postgres://u@h/db?sslmode=require&channel_binding=require");
        }
        assert!(prepare("postgres://u@h/db?sslmode=require&sslrootcert=/nonexistent.pem").is_err());
    }
}
