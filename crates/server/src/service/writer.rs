//! Group commit: messages from every connection are written in batches, one transaction per
//! batch, and each sender is answered only after its batch committed.
//!
//! A chat always maps to the same shard, so its messages are stored and broadcast in the order
//! they were enqueued. SQLite has one shard (one writer anyway); server databases several, so
//! independent chats commit in parallel.
//!
//! What a platform update tells a chat's room (its system messages, `chat_closed`) goes through
//! the chat's shard too, behind the messages queued before it: a message committed before a
//! close is broadcast before `chat_closed` empties the room, never after.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
    time::Instant,
};

use omw_domain::{Chat, CloseReason, Message, NewMessage};
use omw_storage::{Inserted, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::Notifier;

/// Most messages written in one transaction.
const MAX_BATCH: usize = 512;
/// Queue length per shard before senders wait (back-pressure instead of unbounded memory).
const QUEUE: usize = 8192;

enum Job {
    /// A message to write.
    Write {
        chat: Chat,
        message: NewMessage,
        reply: oneshot::Sender<Result<Inserted, StoreError>>,
    },
    /// Messages already stored (a platform update's) to broadcast, then the close if it
    /// closed the chat; `done` once that is out.
    Announce {
        chat: Chat,
        messages: Vec<Message>,
        closed: Option<CloseReason>,
        done: oneshot::Sender<()>,
    },
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
        announce_delay: std::time::Duration,
    ) -> Writer {
        let main = tokio::runtime::Handle::current();
        let mut senders = Vec::new();
        let mut loops = Vec::new();
        for _ in 0..shards.max(1) {
            let (tx, rx) = mpsc::channel(QUEUE);
            let (done, announcing) = mpsc::channel(ANNOUNCE_QUEUE);
            let announcer = main.spawn(announce(notifier.clone(), announcing, announce_delay));
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
        let (reply, rx) = oneshot::channel();
        self.shard(&message.chat_id)
            .send(Job::Write {
                chat,
                message,
                reply,
            })
            .await
            .map_err(|_| StoreError::Unavailable("the server is shutting down".into()))?;
        Ok(Pending(rx))
    }

    /// Broadcast a platform update's stored `messages` and then `closed`, behind every message
    /// already queued for the chat; resolves once they are out. Without a writer (shutting
    /// down) they are broadcast at once.
    pub async fn announce(
        &self,
        notifier: &dyn Notifier,
        chat: &Chat,
        messages: Vec<Message>,
        closed: Option<CloseReason>,
    ) {
        let (done, announced) = oneshot::channel();
        let job = Job::Announce {
            chat: chat.clone(),
            messages,
            closed,
            done,
        };
        match self.shard(&chat.id).send(job).await {
            Ok(()) => {
                let _ = announced.await;
            }
            Err(mpsc::error::SendError(job)) => {
                if let Job::Announce {
                    chat,
                    messages,
                    closed,
                    ..
                } = job
                {
                    announce_update(notifier, &chat, &messages, closed).await;
                }
            }
        }
    }

    fn shard(&self, chat_id: &str) -> &mpsc::Sender<Job> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        chat_id.hash(&mut h);
        &self.shards[(h.finish() as usize) % self.shards.len()]
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

/// Each job with its outcome (`None` for announcements, which write nothing).
type Written = Vec<(Job, Option<Result<Inserted, StoreError>>)>;

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
        let batch: Vec<NewMessage> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Write { message, .. } => Some(message.clone()),
                Job::Announce { .. } => None,
            })
            .collect();
        let n = batch.len();
        let results = if n == 0 {
            Vec::new()
        } else {
            match store.insert_messages(batch).await {
                Ok(r) => r,
                Err(e) => {
                    let msg = e.to_string();
                    let unavailable = matches!(e, StoreError::Unavailable(_));
                    (0..n)
                        .map(|_| {
                            Err(if unavailable {
                                StoreError::Unavailable(msg.clone())
                            } else {
                                StoreError::Corrupt(msg.clone())
                            })
                        })
                        .collect()
                }
            }
        };
        if n > 0 {
            metrics::histogram!("omw_write_batch_seconds").record(started.elapsed().as_secs_f64());
            metrics::histogram!("omw_write_batch_size").record(n as f64);
        }
        let mut results = results.into_iter();
        let written: Written = jobs
            .drain(..)
            .map(|job| {
                let result = match job {
                    Job::Write { .. } => results.next(),
                    Job::Announce { .. } => None,
                };
                (job, result)
            })
            .collect();
        if done.send(written).await.is_err() {
            break;
        }
    }
    drop(done);
    let _ = announcer.await;
}

/// Broadcast each written batch in seq order, then answer its senders.
async fn announce(
    notifier: Arc<dyn Notifier>,
    mut rx: mpsc::Receiver<Written>,
    delay: std::time::Duration,
) {
    while let Some(written) = rx.recv().await {
        if !delay.is_zero() {
            // Test hook (OMW_TEST_ANNOUNCE_DELAY_MS): a close can land between commit and
            // broadcast.
            tokio::time::sleep(delay).await;
        }
        for (job, result) in &written {
            match job {
                Job::Write { chat, .. } => {
                    if let Some(Ok(ins)) = result
                        && !ins.duplicate
                    {
                        notifier
                            .new_messages(chat, std::slice::from_ref(&ins.message))
                            .await;
                    }
                }
                Job::Announce {
                    chat,
                    messages,
                    closed,
                    ..
                } => announce_update(notifier.as_ref(), chat, messages, *closed).await,
            }
        }
        for (job, result) in written {
            match job {
                Job::Write { reply, .. } => {
                    let result = result.unwrap_or_else(|| {
                        Err(StoreError::Unavailable("the writer lost a result".into()))
                    });
                    let _ = reply.send(result);
                }
                Job::Announce { done, .. } => {
                    let _ = done.send(());
                }
            }
        }
    }
}

async fn announce_update(
    notifier: &dyn Notifier,
    chat: &Chat,
    messages: &[Message],
    closed: Option<CloseReason>,
) {
    if !messages.is_empty() {
        notifier.new_messages(chat, messages).await;
    }
    if let Some(reason) = closed {
        notifier.chat_closed(chat, reason).await;
    }
}
