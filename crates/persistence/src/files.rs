//! The file repository: attachment rows and product image references. The
//! blobs themselves live in the blob store; every row removal here enqueues
//! its blob's deletion in the same transaction.

use crate::db::Database;
use crate::error::{Error, Result};
use crate::product_rows::ProductRow;
use crate::schema::{attachments, product_images, products, todos};
use crate::types::{DbTime, DbUuid};
use crate::with_conn;
use async_trait::async_trait;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rivet_domain::events::{EventType, NewEvent};
use rivet_domain::files::{AttachLimits, Attached, Attachment, AttachmentId, FileRepository, ProductImage, Room};
use rivet_domain::product::{Product, ProductId};
use rivet_domain::storage::{BlobKey, ImageType};
use rivet_domain::time::Timestamp;
use rivet_domain::todo::TodoId;
use rivet_domain::{RepoError, UserId};
use tracing::instrument;

/// Attachments and product images in the database.
#[derive(Debug, Clone)]
pub struct FileStore {
    db: Database,
}

impl FileStore {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// An `attachments` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
#[cfg_attr(
    all(feature = "postgres", feature = "sqlite"),
    diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))
)]
struct AttachmentRow {
    id: DbUuid,
    todo_id: DbUuid,
    owner_id: DbUuid,
    blob_key: String,
    filename: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    created_at: DbTime,
}

fn stored_key(key: &str) -> Result<BlobKey> {
    BlobKey::parse(key).ok_or_else(|| Error::Corrupt(format!("blob key {key:?} is not one Rivet generates")))
}

fn size(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative size {n}")))
}

impl AttachmentRow {
    fn from_attachment(a: &Attachment) -> Result<Self> {
        Ok(Self {
            id: DbUuid(a.id.0),
            todo_id: DbUuid(a.todo_id.0),
            owner_id: DbUuid(a.owner_id.0),
            blob_key: a.key.as_str().to_owned(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size_bytes: i64::try_from(a.size_bytes).map_err(|_| Error::Corrupt("attachment size".into()))?,
            sha256: a.sha256.clone(),
            created_at: DbTime(a.created_at),
        })
    }

    fn into_attachment(self) -> Result<Attachment> {
        Ok(Attachment {
            id: AttachmentId(self.id.0),
            todo_id: TodoId(self.todo_id.0),
            owner_id: UserId(self.owner_id.0),
            key: stored_key(&self.blob_key)?,
            filename: self.filename,
            content_type: self.content_type,
            size_bytes: size(self.size_bytes)?,
            sha256: self.sha256,
            created_at: self.created_at.0,
        })
    }
}

type ImageRow = (String, String, i64, String);

fn image((key, mime, bytes, sha256): ImageRow) -> Result<ProductImage> {
    Ok(ProductImage {
        key: stored_key(&key)?,
        image_type: ImageType::from_mime(&mime).ok_or_else(|| Error::Corrupt(format!("image type {mime:?}")))?,
        size_bytes: size(bytes)?,
        sha256,
    })
}

/// The bytes an owner's attachments take.
#[diesel::dsl::auto_type]
fn usage(owner: DbUuid) -> _ {
    let bytes: SqlLiteral<BigInt> = crate::sql::attachment_bytes();
    attachments::table.filter(attachments::owner_id.eq(owner)).select(bytes)
}

/// The owner's todo, if it exists.
#[diesel::dsl::auto_type]
fn owned_todo(owner: DbUuid, todo: DbUuid) -> _ {
    todos::table.filter(todos::id.eq(todo)).filter(todos::owner_id.eq(owner)).select(todos::id)
}

/// The attachments of one todo of one owner.
#[diesel::dsl::auto_type]
fn of_todo(owner: DbUuid, todo: DbUuid) -> _ {
    attachments::table.filter(attachments::owner_id.eq(owner)).filter(attachments::todo_id.eq(todo))
}

#[async_trait]
impl FileRepository for FileStore {
    #[instrument(skip_all)]
    async fn room(&self, owner: UserId, todo: TodoId) -> Result<Option<Room>, RepoError> {
        let (owner, todo) = (DbUuid(owner.0), DbUuid(todo.0));
        Ok(with_conn!(read self.db, |conn| {
            if owned_todo(owner, todo).first::<DbUuid>(conn).await.optional()?.is_none() {
                return Ok(None);
            }
            let count: i64 = of_todo(owner, todo).count().get_result(conn).await?;
            let used: i64 = usage(owner).get_result(conn).await?;
            Ok(Some(Room { attachments: size(count)?, used_bytes: size(used)? }))
        })?)
    }

    #[instrument(skip_all)]
    async fn attach(&self, attachment: &Attachment, limits: AttachLimits) -> Result<Attached, RepoError> {
        let row = AttachmentRow::from_attachment(attachment)?;
        let (owner, todo) = (row.owner_id, row.todo_id);
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                if sql::lock_todo(c, owner, todo).await?.is_none() {
                    return Ok(Attached::NoTodo);
                }
                sql::lock_user(c, owner).await?;
                let count: i64 = of_todo(owner, todo).count().get_result(c).await?;
                if size(count)? >= limits.max_per_todo {
                    return Ok(Attached::TooMany);
                }
                let used = size(usage(owner).get_result::<i64>(c).await?)?;
                if used.saturating_add(attachment.size_bytes) > limits.max_bytes_per_user {
                    return Ok(Attached::OverQuota);
                }
                let stored: AttachmentRow = diesel::insert_into(attachments::table)
                    .values(&row)
                    .returning(AttachmentRow::as_returning())
                    .get_result(c)
                    .await?;
                let (who, at) = (attachment.owner_id, attachment.created_at);
                let event = NewEvent::attachment(
                    EventType::TodoAttachmentAdded,
                    who,
                    attachment.todo_id.0,
                    attachment.id.0,
                    at,
                );
                sql::record(c, &[event]).await?;
                Ok(Attached::Done(stored.into_attachment()?))
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn attachments(&self, owner: UserId, todo: TodoId) -> Result<Option<Vec<Attachment>>, RepoError> {
        let (owner, todo) = (DbUuid(owner.0), DbUuid(todo.0));
        Ok(with_conn!(read self.db, |conn| {
            if owned_todo(owner, todo).first::<DbUuid>(conn).await.optional()?.is_none() {
                return Ok(None);
            }
            let rows: Vec<AttachmentRow> = of_todo(owner, todo)
                .order((attachments::created_at.asc(), attachments::id.asc()))
                .select(AttachmentRow::as_select())
                .load(conn)
                .await?;
            rows.into_iter().map(AttachmentRow::into_attachment).collect::<Result<Vec<_>>>().map(Some)
        })?)
    }

    #[instrument(skip_all)]
    async fn attachment(&self, owner: UserId, todo: TodoId, id: AttachmentId) -> Result<Option<Attachment>, RepoError> {
        let (owner, todo, id) = (DbUuid(owner.0), DbUuid(todo.0), DbUuid(id.0));
        Ok(with_conn!(read self.db, |conn| {
            let row: Option<AttachmentRow> = of_todo(owner, todo)
                .filter(attachments::id.eq(id))
                .select(AttachmentRow::as_select())
                .first(conn)
                .await
                .optional()?;
            row.map(AttachmentRow::into_attachment).transpose()
        })?)
    }

    #[instrument(skip_all)]
    async fn detach(&self, owner: UserId, todo: TodoId, id: AttachmentId, now: Timestamp) -> Result<bool, RepoError> {
        let who = owner;
        let (owner, todo, id) = (DbUuid(owner.0), DbUuid(todo.0), DbUuid(id.0));
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let key: Option<String> = diesel::delete(of_todo(owner, todo).filter(attachments::id.eq(id)))
                    .returning(attachments::blob_key)
                    .get_result(c)
                    .await
                    .optional()?;
                let Some(key) = key else { return Ok(false) };
                sql::delete_blobs_later(c, vec![key]).await?;
                let event = NewEvent::attachment(EventType::TodoAttachmentDeleted, who, todo.0, id.0, now);
                sql::record(c, &[event]).await?;
                Ok(true)
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn used_bytes(&self, owner: UserId) -> Result<u64, RepoError> {
        let owner = DbUuid(owner.0);
        Ok(with_conn!(read self.db, |conn| size(usage(owner).get_result::<i64>(conn).await?))?)
    }

    #[instrument(skip_all)]
    async fn product_exists(&self, id: ProductId) -> Result<bool, RepoError> {
        let key = DbUuid(id.0);
        Ok(with_conn!(read self.db, |conn| {
            let found: Option<DbUuid> = products::table.find(key).select(products::id).first(conn).await.optional()?;
            Ok(found.is_some())
        })?)
    }

    #[instrument(skip_all)]
    async fn set_product_image(
        &self,
        id: ProductId,
        image: &ProductImage,
        url: &str,
        now: Timestamp,
    ) -> Result<Option<Product>, RepoError> {
        let key = DbUuid(id.0);
        let bytes = i64::try_from(image.size_bytes).map_err(|_| Error::Corrupt("image size".into()))?;
        Ok(self.db.announce(with_conn!(self.db, |conn, sql| {
            conn.transaction(async |c| {
                let Some((_, old)) = sql::lock_product(c, key).await? else { return Ok(None) };
                let row = (
                    product_images::product_id.eq(key),
                    product_images::blob_key.eq(image.key.as_str()),
                    product_images::image_type.eq(image.image_type.mime()),
                    product_images::size_bytes.eq(bytes),
                    product_images::sha256.eq(&image.sha256),
                    product_images::updated_at.eq(DbTime(now)),
                );
                diesel::delete(product_images::table.find(key)).execute(c).await?;
                diesel::insert_into(product_images::table).values(row).execute(c).await?;
                let product: ProductRow = diesel::update(products::table.find(key))
                    .set((
                        products::image_url.eq(url),
                        products::version.eq(products::version + 1i64),
                        products::updated_at.eq(DbTime(now)),
                    ))
                    .returning(ProductRow::as_returning())
                    .get_result(c)
                    .await?;
                sql::delete_blobs_later(c, old.into_iter().collect()).await?;
                sql::record(c, &[NewEvent::product(EventType::ProductUpdated, id.0, product.version, None, now)])
                    .await?;
                product.into_product().map(Some)
            })
            .await
        }))?)
    }

    #[instrument(skip_all)]
    async fn product_image(&self, id: ProductId) -> Result<Option<ProductImage>, RepoError> {
        let key = DbUuid(id.0);
        Ok(with_conn!(read self.db, |conn| {
            let row: Option<ImageRow> = product_images::table
                .find(key)
                .select((
                    product_images::blob_key,
                    product_images::image_type,
                    product_images::size_bytes,
                    product_images::sha256,
                ))
                .first(conn)
                .await
                .optional()?;
            row.map(image).transpose()
        })?)
    }

    #[instrument(skip_all, fields(count = keys.len()))]
    async fn referenced(&self, keys: &[BlobKey]) -> Result<Vec<BlobKey>, RepoError> {
        let wanted: Vec<&str> = keys.iter().map(BlobKey::as_str).collect();
        let found: Vec<String> = with_conn!(self.db, |conn| {
            let mut found: Vec<String> = attachments::table
                .filter(attachments::blob_key.eq_any(&wanted))
                .select(attachments::blob_key)
                .load(conn)
                .await?;
            let images: Vec<String> = product_images::table
                .filter(product_images::blob_key.eq_any(&wanted))
                .select(product_images::blob_key)
                .load(conn)
                .await?;
            found.extend(images);
            Ok(found)
        })?;
        Ok(found.iter().map(|k| stored_key(k)).collect::<Result<Vec<_>>>()?)
    }
}
