//! File bodies: attachments as listed, and the multipart uploads.

use chrono::{DateTime, Utc};
use rivet_domain::files::Attachment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A file attached to a todo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentBody {
    pub id: Uuid,
    /// The uploaded file's name, without any path, quotes or control
    /// characters.
    #[schema(example = "receipt.pdf")]
    pub filename: String,
    /// Detected from the content, not from the upload's claim.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    #[schema(minimum = 1)]
    pub size_bytes: u64,
    /// The SHA-256 of the content, hex; the download's `ETag` in quotes.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    #[serde(serialize_with = "crate::dto::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentBody {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id.0,
            filename: a.filename,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

/// A todo's attachments, oldest first (at most 20).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = AttachmentList)]
pub struct AttachmentList {
    #[schema(max_items = 20)]
    pub items: Vec<AttachmentBody>,
}

/// An attachment upload: one file part named `file`.
#[derive(Debug, ToSchema)]
#[schema(as = AttachmentUpload)]
pub struct AttachmentUpload {
    /// The file (at most `[server] max_upload_bytes`, 5 MiB by default).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A product image upload: one file part named `image`, PNG, JPEG or WebP.
#[derive(Debug, ToSchema)]
#[schema(as = ProductImageUpload)]
pub struct ProductImageUpload {
    /// The image (at most `[server] max_upload_bytes`, 5 MiB by default).
    #[schema(value_type = String, format = Binary)]
    pub image: Vec<u8>,
}

/// A file's bytes.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
