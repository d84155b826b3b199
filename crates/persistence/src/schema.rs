//! The portable schema: one `table!` per table, valid for both backends. It
//! mirrors this crate's `migrations/{postgres,sqlite}`; the test `schema_matches_migrations`
//! compares it with what the migrations create on each database.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    users (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        email_verified -> Bool,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        last_used_at -> Nullable<UtcTime>,
        revoked_at -> Nullable<UtcTime>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Uuid,
        user_id -> Uuid,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        used_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    todos (id) {
        id -> Uuid,
        owner_id -> Uuid,
        title -> Text,
        description -> Nullable<Text>,
        status -> Text,
        priority -> Integer,
        due_date -> Nullable<Date>,
        completed_at -> Nullable<UtcTime>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::Uuid;

    todo_tags (todo_id, tag) {
        todo_id -> Uuid,
        tag -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    products (id) {
        id -> Uuid,
        sku -> Text,
        name -> Text,
        description -> Nullable<Text>,
        price_cents -> BigInt,
        currency -> Text,
        category -> Text,
        stock -> BigInt,
        is_active -> Bool,
        image_url -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    product_images (product_id) {
        product_id -> Uuid,
        blob_key -> Text,
        image_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    attachments (id) {
        id -> Uuid,
        todo_id -> Uuid,
        owner_id -> Uuid,
        blob_key -> Text,
        filename -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    stock_adjustments (id) {
        id -> Uuid,
        product_id -> Uuid,
        delta -> BigInt,
        reason -> Text,
        stock_after -> BigInt,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::UtcTime;

    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> UtcTime,
        locked_until -> UtcTime,
        expires_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    api_keys (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        expires_at -> Nullable<UtcTime>,
        last_used_at -> Nullable<UtcTime>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    advisory_locks (name) {
        name -> Text,
        acquisitions -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    jobs (id) {
        id -> Uuid,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> UtcTime,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<UtcTime>,
        last_error -> Nullable<Text>,
        unique_key -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    one_time_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Uuid,
        purpose -> Text,
        email -> Text,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        used_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    event_horizon (id) {
        id -> Integer,
        tx -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    event_tickets (ticket_hash) {
        ticket_hash -> Text,
        user_id -> Uuid,
        session_id -> Uuid,
        expires_at -> UtcTime,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::{Uuid, UtcTime};

    events (id) {
        id -> BigInt,
        txid -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        occurred_at -> UtcTime,
        audience -> Nullable<Uuid>,
        version -> Nullable<BigInt>,
        data -> Text,
    }
}

diesel::joinable!(todos -> users (owner_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(todo_tags -> todos (todo_id));
diesel::joinable!(attachments -> todos (todo_id));
diesel::joinable!(product_images -> products (product_id));
diesel::joinable!(stock_adjustments -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    advisory_locks,
    todos,
    todo_tags,
    attachments,
    products,
    product_images,
    events,
    event_horizon,
    event_tickets,
    stock_adjustments,
    idempotency_keys,
    api_keys,
    jobs,
    one_time_tokens
);
