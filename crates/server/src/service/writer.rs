//! Group commit: messages from every connection are written in batches, one transaction per
//! batch, and each sender is answered only after its batch committed.
//!
//! A chat always maps to the same shard, so its messages are stored and broadcast in the order
//! they were enqueued. SQLite has one shard (one writer anyway); server databases several, so
//! independent chats commit in parallel.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
    time::Instant,
};

use omw_domain::{Chat, NewMessage};
use omw_storage::{Inserted, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::Notifier;

/// Most messages written in one transaction.
const MAX_BATCH: usize = 512;
/// Queue length per shard before senders wait (back-pressure instead of unbounded memory).
const QUEUE: usize = 8192;

struct Job {
    chat: Chat,
    message: NewMessage,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// A queued message, until its batch commits.
pub struct Pending(oneshot::Receiver<Result<Inserted, StoreError>>);

impl Pending {
    pub async fn stored(self) -> Result<Inserted, StoreError> {
        self.0
            .await
            .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
    }
}

#[derive(Clone)]
pub struct Writer {
    shards: Arc<[mpsc::Sender<Job>]>,
}

impl Writer {
    /// Start the shards. With `own_thread` they run on a thread of their own (see
    /// [`writer_runtime`]); broadcasting stays on the caller's runtime, beside the sockets.
    pub fn spawn(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        shards: usize,
        own_thread: bool,
    ) -> Writer {
        let main = tokio::runtime::Handle::current();
        let mut senders = Vec::new();
        let mut loops = Vec::new();
        for _ in 0..shards.max(1) {
            let (tx, rx) = mpsc::channel(QUEUE);
            let (done, announcing) = mpsc::channel(ANNOUNCE_QUEUE);
            let announcer = main.spawn(announce(notifier.clone(), announcing));
            loops.push(run(store.clone(), rx, done, announcer));
            senders.push(tx);
        }
        let all = futures::future::join_all(loops);
        let all = if own_thread {
            on_own_thread(all)
        } else {
            Some(all)
        };
        if let Some(all) = all {
            main.spawn(all);
        }
        Writer {
            shards: senders.into(),
        }
    }

    /// Queue a message behind those already queued for its chat; the returned [`Pending`]
    /// resolves once it is durable (or refused).
    pub async fn enqueue(&self, chat: Chat, message: NewMessage) -> Result<Pending, StoreError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        message.chat_id.hash(&mut h);
        let shard = &self.shards[(h.finish() as usize) % self.shards.len()];
        let (reply, rx) = oneshot::channel();
        shard
            .send(Job {
                chat,
                message,
                reply,
            })
            .await
            .map_err(|_| StoreError::Unavailable("the server is shutting down".into()))?;
        Ok(Pending(rx))
    }

    /// Wait until every queued message is written (graceful shutdown).
    pub async fn drain(&self) {
        for shard in self.shards.iter() {
            // A full queue round trip: once there is room for QUEUE more, the backlog is gone.
            let _ = shard.reserve_many(shard.max_capacity()).await;
        }
    }
}

/// Written batches waiting to be announced, per shard: enough to keep the database busy while
/// the previous batch is broadcast, few enough to keep back-pressure.
const ANNOUNCE_QUEUE: usize = 4;

type Written = Vec<(Job, Result<Inserted, StoreError>)>;

/// Run `work` on a thread with its own runtime; gives it back when there is none to be had.
fn on_own_thread<F>(work: F) -> Option<F>
where
    F: std::future::Future + Send + 'static,
{
    let rt = match writer_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(error = %e, "no writer runtime; writing on the main runtime");
            return Some(work);
        }
    };
    // The work is handed over once the thread exists, so a failed start keeps it here.
    let (give, take) = std::sync::mpsc::sync_channel::<F>(1);
    let started = std::thread::Builder::new()
        .name("omw-writer".into())
        .spawn(move || {
            if let Ok(work) = take.recv() {
                rt.block_on(work);
            }
        });
    match started {
        Ok(_) => match give.send(work) {
            Ok(()) => None,
            Err(std::sync::mpsc::SendError(work)) => Some(work),
        },
        Err(e) => {
            tracing::warn!(error = %e, "no writer thread; writing on the main runtime");
            Some(work)
        }
    }
}

/// The writer's own single-threaded runtime. A batch is several statements, each a round trip
/// to the database (for SQLite, to sqlx's worker thread); on the sockets' busy runtime the
/// writer task waited behind thousands of socket tasks at every one of them, and the database
/// sat idle meanwhile. Only for SQLite, whose connections are threads reached by channels:
/// a server database's connections are sockets, registered with the runtime that opened them.
fn writer_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Write batches as they come. Broadcasting and answering a batch is CPU work that does not
/// need the database: the announcer does it, on the main runtime, while the next batch is
/// written. It takes the batches in order, so a chat's messages still go out in seq order.
async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    done: mpsc::Sender<Written>,
    announcer: tokio::task::JoinHandle<()>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let started = Instant::now();
        let batch: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
        let results = match store.insert_messages(batch).await {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                let unavailable = matches!(e, StoreError::Unavailable(_));
                jobs.iter()
                    .map(|_| {
                        Err(if unavailable {
                            StoreError::Unavailable(msg.clone())
                        } else {
                            StoreError::Corrupt(msg.clone())
                        })
                    })
                    .collect()
            }
        };
        metrics::histogram!("omw_write_batch_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("omw_write_batch_size").record(jobs.len() as f64);
        let written: Written = jobs.drain(..).zip(results).collect();
        if done.send(written).await.is_err() {
            break;
        }
    }
    drop(done);
    let _ = announcer.await;
}

/// Broadcast each written batch in seq order, then answer its senders.
async fn announce(notifier: Arc<dyn Notifier>, mut rx: mpsc::Receiver<Written>) {
    while let Some(written) = rx.recv().await {
        for (job, result) in &written {
            if let Ok(ins) = result
                && !ins.duplicate
            {
                notifier
                    .new_messages(&job.chat, std::slice::from_ref(&ins.message))
                    .await;
            }
        }
        for (job, result) in written {
            let _ = job.reply.send(result);
        }
    }
}
