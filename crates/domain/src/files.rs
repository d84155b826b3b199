//! Files: todo attachments and product images.
//!
//! An upload streams through a [`Metered`] stream into the [`BlobStore`]
//! under a fresh key, and only then is its row written, in a transaction
//! that checks the limits again (20 attachments per todo, the owner's
//! storage quota). A row is removed in a transaction that enqueues the
//! deletion of its blob, so the two never disagree; a blob whose row was
//! never written (a crash between the two, a failed limit check) is an
//! orphan the periodic sweep removes.

use crate::error::{Conflict, Error, Result};
use crate::product::{Product, ProductId};
use crate::storage::{
    BlobKey, BlobKind, BlobRead, BlobStore, ByteStream, ImageType, Measured, Metered, StorageError, detect,
    sanitize_filename,
};
use crate::time::{Timestamp, now};
use crate::todo::TodoId;
use crate::user::UserId;
use crate::validation::ValidationErrors;
use std::ops::Range;
use std::sync::Arc;
use tracing::{instrument, warn};

id_type! {
    /// An attachment's identifier.
    AttachmentId
}

/// At most this many attachments per todo.
pub const MAX_ATTACHMENTS_PER_TODO: u64 = 20;

/// A file attached to a todo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub todo_id: TodoId,
    pub owner_id: UserId,
    pub key: BlobKey,
    /// The client's name for it, sanitised.
    pub filename: String,
    /// Detected from the content, never the client's claim.
    pub content_type: String,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the content (the strong `ETag`).
    pub sha256: String,
    pub created_at: Timestamp,
}

/// A product's image as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductImage {
    pub key: BlobKey,
    pub image_type: ImageType,
    pub size_bytes: u64,
    pub sha256: String,
}

/// The limits an attachment's row is written under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachLimits {
    pub max_per_todo: u64,
    pub max_bytes_per_user: u64,
}

/// What writing an attachment's row came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attached {
    Done(Attachment),
    /// No such todo of this owner.
    NoTodo,
    /// The todo has its maximum of attachments.
    TooMany,
    /// The owner's attachments would take more than the quota.
    OverQuota,
}

/// How full a todo and its owner are, read before an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Attachments the todo has.
    pub attachments: u64,
    /// Bytes the owner's attachments take.
    pub used_bytes: u64,
}

/// Storage of attachment rows and product image references.
#[async_trait::async_trait]
pub trait FileRepository: Send + Sync {
    /// The todo's attachment count and its owner's usage, or `None` when the
    /// owner has no such todo.
    async fn room(&self, owner: UserId, todo: TodoId) -> Result<Option<Room>, crate::RepoError>;

    /// Writes the row if the limits still hold, serialised against other
    /// writes of the same owner.
    async fn attach(&self, attachment: &Attachment, limits: AttachLimits) -> Result<Attached, crate::RepoError>;

    /// The todo's attachments, oldest first, or `None` without such a todo.
    async fn attachments(&self, owner: UserId, todo: TodoId) -> Result<Option<Vec<Attachment>>, crate::RepoError>;

    /// One attachment of the owner's todo.
    async fn attachment(
        &self,
        owner: UserId,
        todo: TodoId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>, crate::RepoError>;

    /// Removes the row and enqueues its blob's deletion, in one transaction.
    /// False when there was no such attachment.
    async fn detach(
        &self,
        owner: UserId,
        todo: TodoId,
        id: AttachmentId,
        now: Timestamp,
    ) -> Result<bool, crate::RepoError>;

    /// Bytes the owner's attachments take.
    async fn used_bytes(&self, owner: UserId) -> Result<u64, crate::RepoError>;

    /// Points the product at `image` (enqueueing the old image's deletion in
    /// the same transaction) and returns the product; `None` without such a
    /// product.
    async fn set_product_image(
        &self,
        id: ProductId,
        image: &ProductImage,
        url: &str,
        now: Timestamp,
    ) -> Result<Option<Product>, crate::RepoError>;

    /// Whether the product exists (checked before an image upload streams).
    async fn product_exists(&self, id: ProductId) -> Result<bool, crate::RepoError>;

    /// The product's image, if it has one.
    async fn product_image(&self, id: ProductId) -> Result<Option<ProductImage>, crate::RepoError>;

    /// Which of `keys` a row refers to (the rest are orphans).
    async fn referenced(&self, keys: &[BlobKey]) -> Result<Vec<BlobKey>, crate::RepoError>;
}

/// Limits of the file use cases, from `[server]` and `[storage]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    pub max_upload_bytes: u64,
    pub max_bytes_per_user: u64,
}

/// Why an upload failed, beyond the domain's usual errors.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Past `[server] max_upload_bytes`.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Past the owner's `[storage] max_bytes_per_user`.
    #[error("the upload would take your files past {limit} bytes")]
    QuotaExceeded { limit: u64 },
    /// A product image that is not PNG, JPEG or WebP.
    #[error("the image is not PNG, JPEG or WebP")]
    NotAnImage,
    /// The blob store failed.
    #[error(transparent)]
    Storage(StorageError),
    #[error(transparent)]
    Domain(#[from] Error),
}

impl From<crate::RepoError> for UploadError {
    fn from(e: crate::RepoError) -> Self {
        Self::Domain(e.into())
    }
}

/// The file use cases.
#[derive(Clone)]
pub struct Files {
    repo: Arc<dyn FileRepository>,
    blobs: Arc<dyn BlobStore>,
    limits: FileLimits,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").field("limits", &self.limits).finish_non_exhaustive()
    }
}

fn empty_file(field: &str) -> Error {
    Error::Validation(ValidationErrors::single(field, "empty", "the file is empty"))
}

impl Files {
    pub fn new(repo: Arc<dyn FileRepository>, blobs: Arc<dyn BlobStore>, limits: FileLimits) -> Self {
        Self { repo, blobs, limits }
    }

    /// The blob store, for the background tasks.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// Streams `body` into a fresh blob of `kind`, allowing `limit` bytes.
    async fn store(
        &self,
        kind: BlobKind,
        body: ByteStream,
        limit: u64,
    ) -> std::result::Result<(BlobKey, Measured), StorageError> {
        let key = BlobKey::generate(kind);
        let (metered, meter) = Metered::new(body, limit);
        self.blobs.put(&key, metered.boxed()).await?;
        Ok((key, meter.measured()))
    }

    /// Removes a blob no row will refer to; a failure leaves an orphan for
    /// the sweep, so it is logged, not returned.
    async fn discard(&self, key: &BlobKey) {
        if let Err(e) = self.blobs.delete(key).await {
            warn!(%key, error = %crate::error::display_chain(&e), "could not remove an unused blob; the sweep will");
        }
    }

    /// Attaches the uploaded `body` to the owner's todo.
    ///
    /// # Errors
    /// `NotFound` without such a todo; `Conflict` at 20 attachments;
    /// `QuotaExceeded`, `TooLarge`; a validation error for an empty file.
    #[instrument(skip_all, fields(%owner, %todo))]
    pub async fn attach(
        &self,
        owner: UserId,
        todo: TodoId,
        filename: &str,
        body: ByteStream,
    ) -> std::result::Result<Attachment, UploadError> {
        let room = self.repo.room(owner, todo).await?.ok_or(Error::NotFound)?;
        if room.attachments >= MAX_ATTACHMENTS_PER_TODO {
            return Err(Error::Conflict(Conflict::TooManyAttachments).into());
        }
        let quota = self.limits.max_bytes_per_user;
        let left = quota.saturating_sub(room.used_bytes);
        if left == 0 {
            return Err(UploadError::QuotaExceeded { limit: quota });
        }
        let limit = self.limits.max_upload_bytes.min(left);
        let (key, measured) = match self.store(BlobKind::Attachment, body, limit).await {
            Ok(stored) => stored,
            Err(StorageError::TooLarge { .. }) if limit < self.limits.max_upload_bytes => {
                return Err(UploadError::QuotaExceeded { limit: quota });
            }
            Err(StorageError::TooLarge { limit }) => return Err(UploadError::TooLarge { limit }),
            Err(e) => return Err(UploadError::Storage(e)),
        };
        if measured.size == 0 {
            self.discard(&key).await;
            return Err(empty_file("file").into());
        }
        let attachment = Attachment {
            id: AttachmentId::new(),
            todo_id: todo,
            owner_id: owner,
            key: key.clone(),
            filename: sanitize_filename(filename),
            content_type: detect(&measured.head).to_owned(),
            size_bytes: measured.size,
            sha256: measured.sha256,
            created_at: now(),
        };
        let limits = AttachLimits { max_per_todo: MAX_ATTACHMENTS_PER_TODO, max_bytes_per_user: quota };
        let outcome = match self.repo.attach(&attachment, limits).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.discard(&key).await;
                return Err(e.into());
            }
        };
        match outcome {
            Attached::Done(a) => Ok(a),
            refused => {
                self.discard(&key).await;
                Err(match refused {
                    Attached::NoTodo => Error::NotFound.into(),
                    Attached::TooMany => Error::Conflict(Conflict::TooManyAttachments).into(),
                    _ => UploadError::QuotaExceeded { limit: quota },
                })
            }
        }
    }

    /// The todo's attachments.
    ///
    /// # Errors
    /// `NotFound` without such a todo.
    pub async fn attachments(&self, owner: UserId, todo: TodoId) -> Result<Vec<Attachment>> {
        self.repo.attachments(owner, todo).await?.ok_or(Error::NotFound)
    }

    /// One attachment's row.
    ///
    /// # Errors
    /// `NotFound` without such an attachment.
    pub async fn attachment(&self, owner: UserId, todo: TodoId, id: AttachmentId) -> Result<Attachment> {
        self.repo.attachment(owner, todo, id).await?.ok_or(Error::NotFound)
    }

    /// Opens a stored file (or the byte `range` of it, already checked
    /// against its size) for download.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn open(&self, key: &BlobKey, range: Option<Range<u64>>) -> std::result::Result<BlobRead, UploadError> {
        self.blobs.get(key, range).await.map_err(UploadError::Storage)
    }

    /// Deletes an attachment; its blob goes by a job.
    ///
    /// # Errors
    /// `NotFound` without such an attachment.
    pub async fn detach(&self, owner: UserId, todo: TodoId, id: AttachmentId) -> Result<()> {
        if self.repo.detach(owner, todo, id, now()).await? { Ok(()) } else { Err(Error::NotFound) }
    }

    /// Bytes the owner's attachments take.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn used_bytes(&self, owner: UserId) -> Result<u64> {
        Ok(self.repo.used_bytes(owner).await?)
    }

    /// Sets a product's image from the uploaded `body`; `url` is where it is
    /// served. The old image's blob goes by a job.
    ///
    /// # Errors
    /// `NotFound`; `NotAnImage`; `TooLarge`; a validation error when empty.
    #[instrument(skip_all, fields(%id))]
    pub async fn set_product_image(
        &self,
        id: ProductId,
        url: &str,
        body: ByteStream,
    ) -> std::result::Result<Product, UploadError> {
        if !self.repo.product_exists(id).await? {
            return Err(Error::NotFound.into());
        }
        let (key, measured) = match self.store(BlobKind::ProductImage, body, self.limits.max_upload_bytes).await {
            Ok(stored) => stored,
            Err(StorageError::TooLarge { limit }) => return Err(UploadError::TooLarge { limit }),
            Err(e) => return Err(UploadError::Storage(e)),
        };
        if measured.size == 0 {
            self.discard(&key).await;
            return Err(empty_file("image").into());
        }
        let Some(image_type) = ImageType::detect(&measured.head) else {
            self.discard(&key).await;
            return Err(UploadError::NotAnImage);
        };
        let image = ProductImage { key: key.clone(), image_type, size_bytes: measured.size, sha256: measured.sha256 };
        let url = format!("{url}?v={}", &image.sha256[..16]);
        match self.repo.set_product_image(id, &image, &url, now()).await {
            Ok(Some(product)) => Ok(product),
            Ok(None) => {
                self.discard(&key).await;
                Err(Error::NotFound.into())
            }
            Err(e) => {
                self.discard(&key).await;
                Err(e.into())
            }
        }
    }

    /// A product's image (open it with [`Files::open`]).
    ///
    /// # Errors
    /// `NotFound` when the product or its image is absent.
    pub async fn product_image(&self, id: ProductId) -> Result<ProductImage> {
        self.repo.product_image(id).await?.ok_or(Error::NotFound)
    }
}
