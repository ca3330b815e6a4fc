//! The outbox: work the service does later, durably — notification ladder steps, webhook
//! deliveries. Jobs live in the database, so a restart or a killed node loses none; a job is
//! claimed by one node at a time with a lease, and a node that dies mid-job loses its lease to
//! another (at least once: a job may run twice, never zero times).

use async_trait::async_trait;
use omw_domain::time::Millis;

use crate::error::StoreError;

/// Longest `dedupe_key` stored (`VARCHAR(255)`): room for a prefix, a chat id and a user id.
pub const MAX_DEDUPE_KEY: usize = 255;

/// A job to schedule.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NewJob {
    pub id: String,
    /// Which handler runs it.
    pub kind: String,
    /// At most one live job per key: scheduling a second one is a no-op. At most
    /// [`MAX_DEDUPE_KEY`] bytes.
    pub dedupe_key: Option<String>,
    /// The job belongs to this chat: closing the chat removes it.
    pub chat_id: Option<String>,
    /// The handler's own data (JSON).
    pub payload: String,
    pub run_at: Millis,
}

impl NewJob {
    /// A job with a fresh id.
    pub fn new(kind: &str, payload: String, run_at: Millis) -> Self {
        NewJob {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.into(),
            dedupe_key: None,
            chat_id: None,
            payload,
            run_at,
        }
    }
}

/// A claimed job: it is this node's until `lease_until`. Reads as the [`NewJob`] it was
/// scheduled as (`job.id`, `job.payload`, …).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    #[sqlx(flatten)]
    pub scheduled: NewJob,
    /// Claims so far, this one included.
    pub attempts: i64,
    /// Also the claim's token: settling checks it, so a node whose lease ran out (and whose
    /// job another node took over) cannot settle it.
    pub lease_until: Millis,
    /// How often a schedule of the same `dedupe_key` was refused, as of the claim.
    pub touched: i64,
    pub created_at: Millis,
}

impl std::ops::Deref for Job {
    type Target = NewJob;

    fn deref(&self) -> &NewJob {
        &self.scheduled
    }
}

/// What becomes of a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Finished (or given up): delete it. If a schedule of its `dedupe_key` was refused since the
    /// claim (the job was running, so the new work rode on it), run it again at once instead.
    Done,
    /// Like [`Settle::Done`], but a job touched since the claim starts again as given (a new
    /// notification ladder for the message that came in meanwhile).
    DoneOrRestart { run_at: Millis, payload: String },
    /// Run it again at `run_at` with `payload`: a failed try (`retry`, the attempt count
    /// stays) or the job's next step (the count starts again).
    Later {
        run_at: Millis,
        payload: String,
        retry: bool,
    },
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Store a job; false (and nothing stored) when a live job has the same `dedupe_key` — that
    /// job is marked touched, so settling it as done does not lose what came in meanwhile.
    async fn schedule_job(&self, job: NewJob) -> Result<bool, StoreError>;

    /// Take up to `limit` due jobs (`run_at <= now`, no live lease), earliest first, leasing
    /// each until `now + lease`. Two nodes claiming at once get different jobs.
    async fn claim_jobs(
        &self,
        now: Millis,
        lease: Millis,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Settle a claimed job and schedule `spawn` with it, in one transaction. False (and
    /// nothing written) when the claim's lease was lost to another node.
    async fn settle_job(
        &self,
        job: &Job,
        settle: Settle,
        spawn: Vec<NewJob>,
    ) -> Result<bool, StoreError>;

    /// Jobs not finished, of one kind (a gauge, and for tests).
    async fn count_jobs(&self, kind: &str) -> Result<i64, StoreError>;
}
