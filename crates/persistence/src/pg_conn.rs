//! Rivet's PostgreSQL connection: diesel's query builder over a
//! tokio-postgres client, in one of two statement modes.
//!
//! - [`Statements::Prepared`] (the default, for a direct connection or a
//!   session-mode pooler): each query that diesel calls safe to cache is
//!   prepared once per connection as a named statement and then only bound
//!   and executed — one round trip. A query diesel does not cache (an `IN`
//!   list of varying length, raw SQL) goes the one-shot way below rather
//!   than prepare, execute and close.
//! - [`Statements::OneShot`] (`[database] pooler = "transaction"`): every
//!   query is sent as the unnamed statement — Parse, Bind, Describe, Execute
//!   and Sync in one message batch, one round trip — so nothing outlives the
//!   exchange. A transaction-mode pooler (PgBouncer, a managed service's
//!   pooled endpoint) may hand each transaction, and each statement outside
//!   one, to a different server connection; a named statement prepared on
//!   one would be missing on the next ("prepared statement does not exist")
//!   or clash with another client's ("already exists").
//!
//! Either way the connection issues no session-level `SET` (values travel
//! in binary, so the session's time zone and date style never matter), and
//! transactions are diesel-async's [`AnsiTransactionManager`], whose
//! `BEGIN`/`COMMIT` keep a transaction on one server connection through any
//! pooler.

use crate::pg_row::PgRow;
use diesel::connection::{CacheSize, Instrumentation, InstrumentationEvent, TransactionManagerStatus};
use diesel::pg::{Pg, PgMetadataLookup, PgQueryBuilder, PgTypeMetadata};
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{AsQuery, QueryBuilder, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncConnectionCore, SimpleAsyncConnection, TransactionManager,
};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use std::collections::HashMap;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Connection, RowStream, Statement};

/// How a connection sends its queries; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Statements {
    /// Named statements prepared once per connection and reused.
    #[default]
    Prepared,
    /// The unnamed statement only, safe behind a transaction-mode pooler.
    OneShot,
}

/// How to open a session connection (PostgreSQL): for migrations and their
/// lock, which a transaction-mode pooler cannot carry.
pub(crate) struct Session {
    pub target: crate::tls::PgTarget,
    /// One-shot when the session URL is itself the transaction pooler's
    /// (no `direct_url`): then it can carry no `LISTEN`.
    pub statements: Statements,
}

impl Session {
    /// The session target of `opts`: `direct_url` (prepared statements), or
    /// `url` itself in the pool's statement mode.
    pub(crate) fn of(opts: &crate::DbOptions) -> crate::Result<Self> {
        Ok(match &opts.direct_url {
            Some(direct) => Self { target: crate::tls::prepare(direct)?, statements: Statements::Prepared },
            None => Self { target: crate::tls::prepare(&opts.url)?, statements: statements_for(opts.pooler) },
        })
    }

    /// Opens one connection of its own, outside the pool.
    pub async fn connect(&self) -> crate::Result<PgConn> {
        crate::tls::connect(self.target.url.clone(), self.target.tls.clone(), self.statements)
            .await
            .map_err(|e| crate::Error::Setup(format!("cannot open a session connection: {e}")))
    }
}

/// The statement mode a pooler allows.
pub(crate) fn statements_for(pooler: crate::Pooler) -> Statements {
    match pooler {
        crate::Pooler::None => Statements::Prepared,
        crate::Pooler::Transaction => Statements::OneShot,
    }
}

/// Prepared statements one connection keeps at most. Rivet's queries are a
/// few hundred distinct texts; past the bound a new text runs one-shot.
const MAX_CACHED: usize = 1024;

/// A PostgreSQL connection for diesel-async's query DSL and pools.
pub struct PgConn {
    client: Client,
    statements: Statements,
    cache: HashMap<StatementKey, Statement>,
    transaction: AnsiTransactionManager,
    instrumentation: Option<Box<dyn Instrumentation>>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn")
            .field("statements", &self.statements)
            .field("cached", &self.cache.len())
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

/// A cached statement is found by its text and its parameters' types.
#[derive(PartialEq, Eq, Hash)]
struct StatementKey {
    sql: String,
    types: Vec<u32>,
}

impl PgConn {
    /// Wraps a client and runs its connection's I/O on a task of the
    /// current tokio runtime until the client is dropped.
    pub fn new<S, T>(client: Client, connection: Connection<S, T>, statements: Statements) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a PostgreSQL connection ended");
            }
        });
        Self {
            client,
            statements,
            cache: HashMap::new(),
            transaction: AnsiTransactionManager::default(),
            // diesel's process-wide default, if one is set (tests count
            // statements with it).
            instrumentation: diesel::connection::get_default_instrumentation(),
        }
    }

    /// The statement mode.
    pub fn statements(&self) -> Statements {
        self.statements
    }

    /// Runs one built query and returns its rows.
    async fn run(&mut self, query: Built) -> QueryResult<RowStream> {
        if self.instrumentation.is_none() {
            return self.send(query).await;
        }
        let sql = query.sql.clone();
        self.record(InstrumentationEvent::start_query(&diesel::connection::StrQueryHelper::new(&sql)));
        let result = self.send(query).await;
        self.record(InstrumentationEvent::finish_query(
            &diesel::connection::StrQueryHelper::new(&sql),
            result.as_ref().err(),
        ));
        result
    }

    async fn send(&mut self, query: Built) -> QueryResult<RowStream> {
        let Built { sql, types, binds, cacheable } = query;
        let result = if self.statements == Statements::Prepared && cacheable {
            let key = StatementKey { sql, types: types.iter().map(Type::oid).collect() };
            let statement = match self.cache.get(&key) {
                Some(s) => Ok(s.clone()),
                None => match self.client.prepare_typed(&key.sql, &types).await {
                    Ok(s) => {
                        if self.cache.len() < MAX_CACHED {
                            self.cache.insert(key, s.clone());
                        }
                        Ok(s)
                    }
                    Err(e) => Err(e),
                },
            };
            match statement {
                Ok(s) => self.client.query_raw(&s, binds.into_iter().map(Param)).await,
                Err(e) => Err(e),
            }
        } else {
            self.client.query_typed_raw(&sql, binds.into_iter().map(Param).zip(types)).await
        };
        result.map_err(|e| self.failed(e))
    }

    /// Converts a driver error, and marks the transaction for rollback on a
    /// serialization failure as diesel expects.
    fn failed(&mut self, e: tokio_postgres::Error) -> DieselError {
        let error = to_diesel(e);
        if matches!(error, DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) {
            let status: &mut TransactionManagerStatus =
                <AnsiTransactionManager as TransactionManager<Self>>::transaction_manager_status_mut(self);
            status.set_requires_rollback_maybe_up_to_top_level(true);
        }
        error
    }

    fn record(&mut self, event: InstrumentationEvent<'_>) {
        if let Some(i) = self.instrumentation.as_mut() {
            i.on_connection_event(event);
        }
    }
}

/// A query turned into what goes on the wire: built before the async part,
/// since diesel's query types need not be `Send`.
struct Built {
    sql: String,
    types: Vec<Type>,
    binds: Vec<Option<Vec<u8>>>,
    cacheable: bool,
}

fn build<T: QueryFragment<Pg> + QueryId>(query: &T) -> QueryResult<Built> {
    let mut builder = PgQueryBuilder::default();
    query.to_sql(&mut builder, &Pg)?;
    let mut collector = RawBytesBindCollector::<Pg>::new();
    query.collect_binds(&mut collector, &mut BuiltInTypesOnly as &mut dyn PgMetadataLookup, &Pg)?;
    let types = collector
        .metadata
        .iter()
        .map(|m| {
            let oid = m.oid().map_err(|e| DieselError::SerializationError(Box::new(e)))?;
            Ok(Type::from_oid(oid).unwrap_or_else(|| {
                Type::new(format!("oid_{oid}"), oid, tokio_postgres::types::Kind::Simple, "public".into())
            }))
        })
        .collect::<QueryResult<Vec<_>>>()?;
    Ok(Built { sql: builder.finish(), types, binds: collector.binds, cacheable: query.is_safe_to_cache_prepared(&Pg)? })
}

/// Rivet's column types all have fixed OIDs; a type looked up by name is a
/// mistake, reported as such rather than with a query per statement.
struct BuiltInTypesOnly;

impl PgMetadataLookup for BuiltInTypesOnly {
    fn lookup_type(&mut self, type_name: &str, schema: Option<&str>) -> PgTypeMetadata {
        let key = diesel::pg::PgMetadataCacheKey::new(schema.map(|s| s.to_owned().into()), type_name.to_owned().into());
        PgTypeMetadata::from_result(Err(diesel::pg::FailedToLookupTypeError::new(key)))
    }
}

/// One bind value, already in PostgreSQL's binary format.
#[derive(Debug)]
struct Param(Option<Vec<u8>>);

impl ToSql for Param {
    fn to_sql(&self, _: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A driver error as diesel's: a server error keeps its SQLSTATE kind and
/// details (the constraint name, for conflicts); anything else — a closed
/// connection, an I/O error — is "unable to send", with its message.
fn to_diesel(e: tokio_postgres::Error) -> DieselError {
    use tokio_postgres::error::SqlState;
    let Some(db) = e.as_db_error().cloned() else {
        return DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, Box::new(e.to_string()));
    };
    let kind = match *db.code() {
        SqlState::UNIQUE_VIOLATION => DatabaseErrorKind::UniqueViolation,
        SqlState::FOREIGN_KEY_VIOLATION => DatabaseErrorKind::ForeignKeyViolation,
        SqlState::RESTRICT_VIOLATION => DatabaseErrorKind::RestrictViolation,
        SqlState::EXCLUSION_VIOLATION => DatabaseErrorKind::ExclusionViolation,
        SqlState::T_R_SERIALIZATION_FAILURE => DatabaseErrorKind::SerializationFailure,
        SqlState::READ_ONLY_SQL_TRANSACTION => DatabaseErrorKind::ReadOnlyTransaction,
        SqlState::NOT_NULL_VIOLATION => DatabaseErrorKind::NotNullViolation,
        SqlState::CHECK_VIOLATION => DatabaseErrorKind::CheckViolation,
        _ => DatabaseErrorKind::Unknown,
    };
    DieselError::DatabaseError(kind, Box::new(ServerError(db)))
}

struct ServerError(tokio_postgres::error::DbError);

impl diesel::result::DatabaseErrorInformation for ServerError {
    fn message(&self) -> &str {
        self.0.message()
    }
    fn details(&self) -> Option<&str> {
        self.0.detail()
    }
    fn hint(&self) -> Option<&str> {
        self.0.hint()
    }
    fn table_name(&self) -> Option<&str> {
        self.0.table()
    }
    fn column_name(&self) -> Option<&str> {
        self.0.column()
    }
    fn constraint_name(&self) -> Option<&str> {
        self.0.constraint()
    }
    fn statement_position(&self) -> Option<i32> {
        match self.0.position()? {
            tokio_postgres::error::ErrorPosition::Original(p) => i32::try_from(*p).ok(),
            tokio_postgres::error::ErrorPosition::Internal { position, .. } => i32::try_from(*position).ok(),
        }
    }
}

impl SimpleAsyncConnection for PgConn {
    async fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        self.record(InstrumentationEvent::start_query(&diesel::connection::StrQueryHelper::new(query)));
        let result = self.client.batch_execute(query).await.map_err(to_diesel);
        self.record(InstrumentationEvent::finish_query(
            &diesel::connection::StrQueryHelper::new(query),
            result.as_ref().err(),
        ));
        result
    }
}

impl AsyncConnectionCore for PgConn {
    type ExecuteFuture<'conn, 'query> = BoxFuture<'conn, QueryResult<usize>>;
    type LoadFuture<'conn, 'query> = BoxFuture<'conn, QueryResult<Self::Stream<'conn, 'query>>>;
    type Stream<'conn, 'query> = BoxStream<'static, QueryResult<PgRow>>;
    type Row<'conn, 'query> = PgRow;
    type Backend = Pg;

    fn load<'conn, 'query, T>(&'conn mut self, source: T) -> Self::LoadFuture<'conn, 'query>
    where
        T: AsQuery + 'query,
        T::Query: QueryFragment<Pg> + QueryId + 'query,
    {
        let built = build(&source.as_query());
        async move {
            let rows = self.run(built?).await?;
            Ok(rows.map_err(to_diesel).map_ok(PgRow).boxed())
        }
        .boxed()
    }

    fn execute_returning_count<'conn, 'query, T>(&'conn mut self, source: T) -> Self::ExecuteFuture<'conn, 'query>
    where
        T: QueryFragment<Pg> + QueryId + 'query,
    {
        let built = build(&source);
        async move {
            let rows = self.run(built?).await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.next().await {
                row.map_err(to_diesel)?;
            }
            let affected = rows.rows_affected().unwrap_or(0);
            usize::try_from(affected).map_err(|e| DieselError::DeserializationError(Box::new(e)))
        }
        .boxed()
    }
}

impl AsyncConnection for PgConn {
    type TransactionManager = AnsiTransactionManager;

    /// A plain (no TLS) connection with prepared statements, for tools and
    /// tests; the pool opens its connections with [`crate::tls::connect`].
    async fn establish(database_url: &str) -> diesel::ConnectionResult<Self> {
        let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(rivet_domain::error::display_chain(&e)))?;
        Ok(Self::new(client, connection, Statements::Prepared))
    }

    fn transaction_state(&mut self) -> &mut AnsiTransactionManager {
        &mut self.transaction
    }

    fn instrumentation(&mut self) -> &mut dyn Instrumentation {
        &mut self.instrumentation
    }

    fn set_instrumentation(&mut self, instrumentation: impl Instrumentation) {
        self.instrumentation = Some(Box::new(instrumentation));
    }

    /// `Disabled` turns the connection one-shot; any size keeps (or turns
    /// it back to) prepared statements, bounded by Rivet's own limit.
    fn set_prepared_statement_cache_size(&mut self, size: CacheSize) {
        self.statements = match size {
            CacheSize::Disabled => Statements::OneShot,
            _ => Statements::Prepared,
        };
        if self.statements == Statements::OneShot {
            self.cache.clear();
        }
    }
}

impl diesel_async::pooled_connection::PoolableConnection for PgConn {
    fn is_broken(&mut self) -> bool {
        self.client.is_closed() || AnsiTransactionManager::is_broken_transaction_manager(self)
    }
}
