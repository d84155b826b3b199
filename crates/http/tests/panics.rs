//! A panicking handler becomes a 500 problem with the request id; the worker
//! keeps serving.

use actix_web::{App, HttpResponse, test};
use rivet_http::context::RequestContext;
use rivet_http::routes::Endpoint;

async fn boom() -> HttpResponse {
    panic!("a bug in a handler")
}

async fn fine() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn a_panic_in_a_handler_is_a_500_problem_and_the_app_keeps_serving() {
    let app = test::init_service(
        App::new()
            .wrap(RequestContext)
            .service(Endpoint::new("/boom").get(boom).build())
            .service(Endpoint::new("/fine").get(fine).build()),
    )
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/boom").insert_header(("x-request-id", "req-1")).to_request(),
    )
    .await;
    assert_eq!(res.status().as_u16(), 500);
    assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
    assert_eq!(res.headers().get("x-request-id").unwrap(), "req-1");
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["code"], "internal");
    assert_eq!(body["request_id"], "req-1");
    assert!(!body.to_string().contains("a bug in a handler"), "the panic message stays in the logs: {body}");
    let after = test::call_service(&app, test::TestRequest::get().uri("/fine").to_request()).await;
    assert_eq!(after.status().as_u16(), 200, "the same app serves the next request");
}
