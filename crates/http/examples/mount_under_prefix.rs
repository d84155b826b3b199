//! Rivet's HTTP API inside another actix-web application: Rivet's routes
//! under a prefix the host chooses (`/rivet`), beside the host's own routes.
//! The object graph comes from `rivet-app`; `rivet-http` only needs the
//! resulting `AppState`. Requests are driven in process with actix-web's
//! test helpers, so the example needs no network. Run with
//! `cargo run -p rivet-http --example mount_under_prefix`.
//!
//! Note: `Link` next-page URLs are built from the request path and carry the
//! prefix; `Location` headers and the OpenAPI document name the un-prefixed
//! `/api/v1/...` paths.

use actix_web::{App, HttpResponse, test, web};
use rivet_app::{RunEnv, Services, Settings, Sources};
use rivet_domain::ports::{HealthCheck, IdempotencyStore};
use rivet_http::collection::CursorCodec;
use rivet_http::context::RequestContext;
use rivet_http::{AppState, HttpLimits};
use std::sync::Arc;

async fn hello() -> HttpResponse {
    HttpResponse::Ok().body("the host application's own route")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("rivet-http-example-{}", std::process::id()));
    let mut settings = Settings::load(&Sources::compiled(RunEnv::Test, dir.join("no-config")))?;
    settings.database.url = format!("sqlite://{}/host.db", dir.display());
    settings.email.file_dir = dir.join("mail");
    settings.storage.dir = dir.join("files");
    let rivet = Services::build(&settings).await?;
    let state = web::Data::new(AppState {
        accounts: rivet.accounts.clone(),
        todos: rivet.todos.clone(),
        products: rivet.products.clone(),
        files: rivet.files.clone(),
        auth: rivet.auth.clone(),
        api_keys: rivet.api_keys.clone(),
        database: Arc::new(rivet.db.clone()) as Arc<dyn HealthCheck>,
        idempotency: rivet.idempotency.clone() as Arc<dyn IdempotencyStore>,
        cursors: CursorCodec::from_secret(&rivet_app::signing_material(&settings)?),
        events: Some(rivet_http::events::EventStreams::new(
            rivet.start_events(&settings).await?,
            std::time::Duration::from_secs(settings.events.idle_timeout_secs),
        )),
        tickets: rivet.tickets.clone(),
    });

    let app = test::init_service(
        App::new()
            .wrap(RequestContext)
            .app_data(state)
            .app_data(web::Data::new(HttpLimits::default()))
            .route("/hello", web::get().to(hello))
            .service(web::scope("/rivet").configure(rivet_http::configure)),
    )
    .await;

    let own = test::call_service(&app, test::TestRequest::get().uri("/hello").to_request()).await;
    println!("GET /hello -> {}", own.status());
    let register = test::TestRequest::post()
        .uri("/rivet/api/v1/auth/register")
        .set_json(serde_json::json!({"email": "ada@example.com", "password": "correct horse battery staple"}))
        .to_request();
    let created = test::call_service(&app, register).await;
    println!("POST /rivet/api/v1/auth/register -> {}", created.status());
    let products = test::call_service(&app, test::TestRequest::get().uri("/rivet/api/v1/products").to_request()).await;
    println!("GET /rivet/api/v1/products -> {}", products.status());
    let unprefixed = test::call_service(&app, test::TestRequest::get().uri("/api/v1/products").to_request()).await;
    println!("GET /api/v1/products (outside the prefix) -> {}", unprefixed.status());
    assert_eq!(
        [own.status().as_u16(), created.status().as_u16(), products.status().as_u16(), unprefixed.status().as_u16()],
        [200, 201, 200, 404]
    );
    rivet.db.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
