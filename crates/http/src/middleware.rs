//! One shape for Rivet's asynchronous middleware: a factory holding its
//! configuration and a service that runs an `async` body around the inner
//! service, answering with a boxed body.

/// Declares a middleware factory and service around an async `call` body.
macro_rules! async_middleware {
    ($factory:ident, $service:ident, |$this:ident, $inner:ident, $req:ident| $body:expr) => {
        impl<S, B> ::actix_web::dev::Transform<S, ::actix_web::dev::ServiceRequest> for $factory
        where
            S: ::actix_web::dev::Service<
                    ::actix_web::dev::ServiceRequest,
                    Response = ::actix_web::dev::ServiceResponse<B>,
                    Error = ::actix_web::Error,
                > + 'static,
            B: ::actix_web::body::MessageBody + 'static,
        {
            type Response = ::actix_web::dev::ServiceResponse<::actix_web::body::BoxBody>;
            type Error = ::actix_web::Error;
            type Transform = $service<S>;
            type InitError = ();
            type Future = ::futures_util::future::Ready<Result<Self::Transform, Self::InitError>>;

            fn new_transform(&self, service: S) -> Self::Future {
                ::futures_util::future::ready(Ok($service {
                    config: self.clone(),
                    service: ::std::rc::Rc::new(service),
                }))
            }
        }

        /// The middleware's service.
        #[derive(Debug)]
        pub struct $service<S> {
            config: $factory,
            service: ::std::rc::Rc<S>,
        }

        impl<S, B> ::actix_web::dev::Service<::actix_web::dev::ServiceRequest> for $service<S>
        where
            S: ::actix_web::dev::Service<
                    ::actix_web::dev::ServiceRequest,
                    Response = ::actix_web::dev::ServiceResponse<B>,
                    Error = ::actix_web::Error,
                > + 'static,
            B: ::actix_web::body::MessageBody + 'static,
        {
            type Response = ::actix_web::dev::ServiceResponse<::actix_web::body::BoxBody>;
            type Error = ::actix_web::Error;
            type Future = ::futures_util::future::LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

            ::actix_web::dev::forward_ready!(service);

            fn call(&self, $req: ::actix_web::dev::ServiceRequest) -> Self::Future {
                let $this = self.config.clone();
                let $inner = ::std::rc::Rc::clone(&self.service);
                Box::pin(async move { $body })
            }
        }
    };
}

pub(crate) use async_middleware;
