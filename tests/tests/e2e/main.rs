//! The end-to-end suite in one test binary: each module drives the real
//! application over HTTP on both databases. One binary links once, which
//! keeps the build small; `login_cost` stays apart because it measures
//! timing and must have the CPU to itself.

mod access_matrix;
mod account_email;
mod api_keys;
mod architecture;
mod auth;
mod errors;
mod events;
mod fan_out;
mod files;
mod idempotency;
mod openapi;
mod openapi_contract;
mod operations;
mod packaging;
mod pooler;
mod products;
mod security;
mod smtp;
mod streams;
mod todos;
mod tokens;
mod traffic;
mod user_list;
mod users;
mod workers;
