//! The job runner: every node claims due jobs from the store's outbox and runs each with the
//! handler of its kind. What must happen later, or must happen despite a crash — a signed
//! webhook to the platform, a step of a notification ladder — is a job. Delivery is at least
//! once: a node killed mid-job loses its lease and another node runs the job again, with the
//! same id (which webhooks send as their idempotency key).

pub mod ladder;
pub mod push;
pub mod webhook;

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use futures::future::join_all;
use omw_domain::{
    retention::retry_delay,
    time::{millis_of, now_millis},
};
use omw_storage::{Job, NewJob, Settle, Store};

use crate::config::JobSettings;

/// What running a job came to.
#[derive(Debug)]
pub enum Outcome {
    /// Finished; `spawn` is scheduled in the same transaction as the job's deletion. A job whose
    /// dedupe key was asked for again while it ran starts over as `restart` (`run_at`,
    /// `payload`), or at once as it was when `restart` is `None`.
    Done {
        spawn: Vec<NewJob>,
        restart: Option<(i64, String)>,
    },
    /// The job's next step, at `run_at`, with a new payload; `spawn` is scheduled with it.
    Next {
        run_at: i64,
        payload: String,
        spawn: Vec<NewJob>,
    },
    /// Failed for now (a receiver down, a timeout): tried again with backoff, until
    /// `JOBS_MAX_ATTEMPTS`.
    Retry(String),
    /// Failed for good (refused by its receiver, a payload that does not parse): dropped.
    Drop(String),
}

#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job) -> Outcome;
}

/// The runner: the handlers by kind, and how it claims and retries.
pub struct Jobs {
    store: Arc<dyn Store>,
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    settings: JobSettings,
}

impl Jobs {
    pub fn new(store: Arc<dyn Store>, settings: JobSettings) -> Self {
        Jobs {
            store,
            handlers: HashMap::new(),
            settings,
        }
    }

    /// Run jobs of `kind` with `handler`.
    pub fn handle(&mut self, kind: &'static str, handler: Arc<dyn Handler>) {
        self.handlers.insert(kind, handler);
    }

    /// Claim and run one batch of due jobs; how many ran.
    pub async fn run_due(&self) -> Result<usize, omw_storage::StoreError> {
        let s = &self.settings;
        let jobs = self
            .store
            .claim_jobs(now_millis(), millis_of(s.lease), s.batch)
            .await?;
        join_all(jobs.iter().map(|job| self.run_one(job))).await;
        Ok(jobs.len())
    }

    async fn run_one(&self, job: &Job) {
        let kind = job.kind.as_str();
        let outcome = match self.handlers.get(kind) {
            Some(handler) => handler.run(job).await,
            // A newer node may know the kind (a rolling upgrade): try again later.
            None => Outcome::Retry(format!("no handler for jobs of kind {kind:?}")),
        };
        let (label, settle, spawn) = self.settle(job, outcome);
        // Counted once settled: a run whose settle failed runs again and counts then.
        let label = match self.store.settle_job(job, settle, spawn).await {
            Ok(true) => label,
            Ok(false) => {
                tracing::warn!(job_id = %job.id, kind, "job lease lost; another node runs it");
                "lease_lost"
            }
            Err(e) => {
                tracing::warn!(job_id = %job.id, kind, error = %e, "settling a job failed; it runs again");
                "settle_failed"
            }
        };
        metrics::counter!("omw_jobs_total", "kind" => metric_kind(kind), "outcome" => label)
            .increment(1);
    }

    fn settle(&self, job: &Job, outcome: Outcome) -> (&'static str, Settle, Vec<NewJob>) {
        let s = &self.settings;
        match outcome {
            Outcome::Done {
                spawn,
                restart: None,
            } => ("done", Settle::Done, spawn),
            Outcome::Done {
                spawn,
                restart: Some((run_at, payload)),
            } => ("done", Settle::DoneOrRestart { run_at, payload }, spawn),
            Outcome::Next {
                run_at,
                payload,
                spawn,
            } => {
                let next = Settle::Later {
                    run_at,
                    payload,
                    retry: false,
                };
                ("next", next, spawn)
            }
            Outcome::Retry(why) if job.attempts < i64::from(s.max_attempts) => {
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                let wait =
                    retry_delay(attempts, millis_of(s.retry_backoff), millis_of(s.retry_max));
                tracing::info!(job_id = %job.id, kind = %job.kind, attempts, error = %why, "job failed; retrying later");
                let later = Settle::Later {
                    run_at: now_millis().saturating_add(wait),
                    payload: job.payload.clone(),
                    retry: true,
                };
                ("retry", later, vec![])
            }
            Outcome::Retry(why) | Outcome::Drop(why) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempts = job.attempts, error = %why, "job dropped");
                ("dropped", Settle::Done, vec![])
            }
        }
    }
}

/// Kinds as metric labels: the runner's own, never a stored string.
fn metric_kind(kind: &str) -> &'static str {
    match kind {
        webhook::KIND => webhook::KIND,
        ladder::KIND => ladder::KIND,
        push::KIND => push::KIND,
        _ => "other",
    }
}

/// Run due jobs until the process ends: at once while there is more, every `JOBS_POLL`
/// otherwise.
pub fn spawn(jobs: Arc<Jobs>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match jobs.run_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming jobs failed; retrying later"),
            }
            tokio::time::sleep(jobs.settings.poll).await;
        }
    })
}
