//! Request and response bodies, one module per resource. Request bodies
//! refuse unknown fields, so a client can never set a field it does not own
//! (`role`, `is_active`, `id`...) by adding it.

pub mod api_keys;
pub mod auth;
pub mod events;
pub mod files;
pub mod products;
pub mod sets;
pub mod todos;
pub mod users;
