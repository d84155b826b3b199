//! TLS to PostgreSQL is verified in full: chain and hostname. Uses the test
//! server's own certificate as the CA (Debian's PostgreSQL serves a
//! self-signed certificate for `localhost` with `ssl = on`).

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use rivet_persistence::testing::TestDatabase;
use rivet_persistence::{Database, DbOptions, with_conn};

fn admin_url() -> String {
    std::env::var("RIVET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

async fn query_text(db: &Database, sql: &str) -> Result<String, rivet_persistence::Error> {
    with_conn!(db, |conn| {
        let rows: Vec<Setting> = diesel::sql_query(sql).load(conn).await?;
        Ok(rows.into_iter().next().map(|r| r.value).unwrap_or_default())
    })
}

/// The server's certificate file, which must be readable here.
async fn server_certificate() -> String {
    let db = Database::connect(&DbOptions::new(admin_url())).unwrap();
    let ssl = query_text(&db, "SELECT setting AS value FROM pg_settings WHERE name = 'ssl'").await.unwrap();
    assert_eq!(
        ssl, "on",
        "these tests need PostgreSQL with ssl = on (Debian's default, with its snake-oil certificate)"
    );
    query_text(&db, "SELECT setting AS value FROM pg_settings WHERE name = 'ssl_cert_file'").await.unwrap()
}

/// The test database's URL with `host` swapped in and TLS parameters added.
fn tls_url(db: &TestDatabase, host: &str, params: &str) -> String {
    let url = db.url().replacen("@127.0.0.1", &format!("@{host}"), 1);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

fn fast(url: String) -> DbOptions {
    DbOptions {
        connect_timeout: std::time::Duration::from_secs(3),
        acquire_timeout: std::time::Duration::from_secs(3),
        ..DbOptions::new(url)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_connects_encrypted_and_verified_and_migrations_run() {
    let cert = server_certificate().await;
    let db = TestDatabase::postgres(&admin_url()).await.unwrap();
    let tls =
        Database::connect(&fast(tls_url(&db, "localhost", &format!("sslmode=require&sslrootcert={cert}")))).unwrap();
    tls.migrate().await.expect("migrations over TLS");
    let encrypted =
        query_text(&tls, "SELECT ssl::text AS value FROM pg_stat_ssl WHERE pid = pg_backend_pid()").await.unwrap();
    assert_eq!(encrypted, "true", "the session is encrypted");
    tls.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_or_a_wrong_hostname_is_refused() {
    let cert = server_certificate().await;
    let db = TestDatabase::postgres(&admin_url()).await.unwrap();
    let untrusted = Database::connect(&fast(tls_url(&db, "localhost", "sslmode=require"))).unwrap();
    let err = format!(
        "{:?}",
        untrusted.ping().await.expect_err("a self-signed certificate is not trusted without sslrootcert")
    );
    assert!(err.contains("UnknownIssuer") || err.contains("unknown issuer"), "refused for its issuer: {err}");
    let wrong_host =
        Database::connect(&fast(tls_url(&db, "127.0.0.1", &format!("sslmode=verify-full&sslrootcert={cert}"))))
            .unwrap();
    let err = format!("{:?}", wrong_host.ping().await.expect_err("the certificate names localhost, not 127.0.0.1"));
    assert!(err.contains("not valid for name"), "refused for its name: {err}");
    let plain = Database::connect(&fast(db.url().to_owned())).unwrap();
    plain.ping().await.expect("without sslmode the same server is reached in plain text");
}
