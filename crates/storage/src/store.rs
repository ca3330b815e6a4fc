//! The storage interface the service layer talks to.

use async_trait::async_trait;
use omw_domain::{
    Booking, BookingUpdate, Chat, CloseReason, Message, NewMessage, Role, time::Millis,
};

use crate::{
    backend::Backend, chain::Chains, error::StoreError, hold::Holds, outbox::Outbox,
    push::Subscriptions,
};

/// The outcome of applying a platform booking update.
#[derive(Debug, Clone)]
pub struct AppliedBooking {
    pub booking: Booking,
    /// False when the update repeated what was stored.
    pub changed: bool,
    /// The booking's chat after the update (None if it has none, or it was deleted).
    pub chat: Option<Chat>,
    /// The chat was created by this update.
    pub opened: bool,
    /// The chat was closed by this update.
    pub closed: Option<CloseReason>,
    /// System messages added by this update, in seq order.
    pub messages: Vec<Message>,
}

/// One stored message, and whether it was already there (a retry with the same client id).
#[derive(Debug, Clone)]
pub struct Inserted {
    pub message: Message,
    pub duplicate: bool,
}

/// How a failed deletion backs off (see [`omw_domain::retention::retry_delay`]), in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Millis,
    pub max: Millis,
}

/// Which way to page through a chat's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest messages.
    Latest,
    /// Messages with seq below this one (scrolling back).
    Before(i64),
    /// Messages with seq above this one (catching up).
    After(i64),
}

/// Messages oldest first; `has_more` says whether more exist in the direction of travel.
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

#[derive(Debug, Clone)]
pub struct ChatSummary {
    pub chat: Chat,
    pub last_message: Option<Message>,
    pub unread_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadState {
    pub user_id: String,
    pub last_read_seq: i64,
    pub updated_at: Millis,
}

/// What became of an upload offered to [`Store::admit_attachment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Inserted,
    /// The chat no longer exists (purged).
    ChatGone,
    ChatClosed,
    /// The uploader's unsent uploads would pass their quota; `used` is without this one.
    UserQuota {
        used: i64,
    },
    /// The chat's unsent uploads would pass their quota; `used` is without this one.
    ChatQuota {
        used: i64,
    },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NewAttachment {
    pub id: String,
    pub chat_id: String,
    pub uploader_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub storage_key: String,
    pub thumb_key: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub created_at: Millis,
    /// The file and its thumbnail are stored sealed with the chat's key.
    pub sealed: bool,
}

/// A stored upload: the row as inserted, and the message it was sent in (None while unsent).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRecord {
    #[sqlx(flatten)]
    pub upload: NewAttachment,
    pub message_id: Option<String>,
}

/// Everything the service stores; the [`Outbox`] of jobs included.
#[async_trait]
pub trait Store: Outbox + Subscriptions + Holds + Chains + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Bring the schema up to date (also run at start).
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A round trip to the database, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn get_booking(&self, booking_id: &str) -> Result<Option<Booking>, StoreError>;

    /// Apply a platform update atomically: the booking, its chat, system messages, closing,
    /// and enqueueing the chat's deletion at `delete_at` when it closes.
    async fn apply_booking(
        &self,
        booking_id: &str,
        update: BookingUpdate,
        now: Millis,
        delete_at: Millis,
    ) -> Result<AppliedBooking, StoreError>;

    async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError>;

    async fn get_chat_by_booking(&self, booking_id: &str) -> Result<Option<Chat>, StoreError>;

    /// The chats a user takes part in, newest activity first.
    async fn list_chats(&self, user_id: &str, role: Role) -> Result<Vec<ChatSummary>, StoreError>;

    /// Store a batch of messages in one transaction (group commit). Each gets the next seq of
    /// its chat; a message whose (chat, sender, client_id) is stored already comes back as a
    /// duplicate. Per-message refusals (closed chat, bad attachment) do not fail the others.
    async fn insert_messages(
        &self,
        batch: Vec<NewMessage>,
    ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError>;

    async fn load_messages(
        &self,
        chat_id: &str,
        page: Page,
        limit: u32,
    ) -> Result<MessagePage, StoreError>;

    /// Raise a participant's read mark (never lowers it; capped at the chat's last seq).
    /// Returns the mark now stored.
    async fn mark_read(
        &self,
        chat_id: &str,
        user_id: &str,
        up_to_seq: i64,
        now: Millis,
    ) -> Result<i64, StoreError>;

    async fn read_states(&self, chat_id: &str) -> Result<Vec<ReadState>, StoreError>;

    /// Messages people other than `user_id` wrote in the chat above `user_id`'s read mark
    /// (system messages not counted): what waits for them.
    async fn unread_for(&self, chat_id: &str, user_id: &str) -> Result<i64, StoreError>;

    async fn insert_attachment(&self, att: NewAttachment) -> Result<(), StoreError>;

    async fn get_attachment(&self, id: &str) -> Result<Option<AttachmentRecord>, StoreError>;

    /// Insert an upload's row only while its chat exists and is active, and while the unsent
    /// uploads of its uploader and of its chat, this one included, stay within `user_quota` and
    /// `chat_quota` bytes. Under the chat's row lock: a close (and so the purge after it) is
    /// ordered wholly before or wholly after the insert.
    async fn admit_attachment(
        &self,
        att: NewAttachment,
        user_quota: i64,
        chat_quota: i64,
    ) -> Result<Admission, StoreError>;

    /// Bytes of unsent (never linked to a message) uploads: of `user_id`, and in `chat_id`.
    async fn unsent_upload_bytes(
        &self,
        user_id: &str,
        chat_id: &str,
    ) -> Result<(i64, i64), StoreError>;

    /// Uploads never linked to a message, created before `before`.
    async fn unlinked_attachments(
        &self,
        before: Millis,
        limit: u32,
    ) -> Result<Vec<AttachmentRecord>, StoreError>;

    /// Delete an upload's row if it is still unlinked; true if it was deleted.
    async fn delete_unlinked_attachment(&self, id: &str) -> Result<bool, StoreError>;

    /// Chats whose deletion is due at `now` and not waiting for a retry, oldest first.
    async fn due_deletions(&self, now: Millis, limit: u32) -> Result<Vec<String>, StoreError>;

    /// A deletion failed: count the attempt and keep the chat out of `due_deletions` for
    /// [`omw_domain::retention::retry_delay`] of the attempts so far. Returns the number of
    /// failed attempts (0 if the chat is no longer queued).
    async fn deletion_failed(
        &self,
        chat_id: &str,
        now: Millis,
        backoff: Backoff,
    ) -> Result<u32, StoreError>;

    /// When the longest-waiting due deletion fell due (`None` if none is due at `now`).
    async fn oldest_due_deletion(&self, now: Millis) -> Result<Option<Millis>, StoreError>;

    /// Storage keys of every file (and thumbnail) of a chat.
    async fn chat_file_keys(&self, chat_id: &str) -> Result<Vec<String>, StoreError>;

    /// Delete everything of a chat: messages, read state, attachment rows, jobs, the chat, and
    /// its queue entry. Files are removed by the caller first (see `chat_file_keys`).
    async fn purge_chat(&self, chat_id: &str) -> Result<(), StoreError>;

    /// Wrap up to `limit` chat keys that are not under the key file's current epoch anew under
    /// it (after `keys rotate`); how many were. Zero when every live key is current.
    async fn rewrap_chat_keys(&self, limit: u32) -> Result<u64, StoreError>;

    /// Check that the key file opens the chats' keys: one chat of every epoch that wraps live
    /// keys. A server started with another deployment's key file (or none) stops here instead
    /// of failing on every sealed chat.
    async fn check_chat_keys(&self) -> Result<(), StoreError>;

    /// What a chat's files are sealed with; `None` for a plaintext chat. `KeyDestroyed` once
    /// its deletion has begun.
    async fn file_key(&self, chat_id: &str) -> Result<Option<crate::FileKey>, StoreError>;

    /// Forget the chat's key if this process holds it (another node destroyed it).
    fn forget_chat_key(&self, chat_id: &str);

    /// Chats whose (live) key is wrapped under `epoch`: it cannot be destroyed while any is.
    async fn chat_keys_under(&self, epoch: i64) -> Result<i64, StoreError>;
}
