//! Accepting and serving HTTP/1.1 connections with the timers and caps `axum::serve` lacks:
//! a header-read timeout (slowloris), a body-read timeout (a stalled upload), an idle timeout,
//! and a cap on open connections (`MAX_HTTP_CONNECTIONS`) past which a new connection gets a fast
//! `503` instead of a slot. WebSocket upgrades keep their connection slot until they close.

use std::{
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::ServiceExt;

use crate::config::ServerLimits;

/// Connections being refused at once (each lives a second at most); past this a connection
/// over the cap is closed without an answer.
const MAX_REFUSING: usize = 256;

/// The open-connection budget of this node.
#[derive(Clone)]
pub struct Connections {
    open: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    max: u32,
}

impl Connections {
    pub fn new(max: usize) -> Self {
        let max = u32::try_from(max).unwrap_or(u32::MAX).min(1 << 24);
        Connections {
            open: Arc::new(Semaphore::new(max as usize)),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
            max,
        }
    }

    /// Wait (up to `limit`) until every connection has closed.
    pub async fn closed(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.open.acquire_many(self.max))
            .await
            .is_ok()
    }
}

/// Serve `app` until `stop` turns true; then stop accepting (new connections are refused by the
/// kernel from then on) and ask open connections to finish their request and close.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    conns: Connections,
    mut stop: watch::Receiver<bool>,
) {
    let (closing_tx, closing) = watch::channel(false);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: let some close before trying again.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = flag(&mut stop) => break,
        };
        // Small frames (acks, pushes) must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let Ok(permit) = conns.open.clone().try_acquire_owned() else {
            metrics::counter!("omw_connections_refused_total").increment(1);
            if let Ok(refusing) = conns.refusing.clone().try_acquire_owned() {
                tokio::spawn(refuse(tcp, refusing));
            }
            continue;
        };
        metrics::gauge!("omw_http_connections").increment(1.0);
        tokio::spawn(connection(
            tcp,
            peer,
            permit,
            app.clone(),
            limits.clone(),
            closing.clone(),
        ));
    }
    drop(listener);
    let _ = closing_tx.send(true);
}

/// Resolves once the flag is (or was) set; never while it is not (also if its sender is gone).
async fn flag(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|set| *set).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The answer past `MAX_HTTP_CONNECTIONS`: `503 unavailable` in the SPEC shape, then a short
/// lingering close so the client reads it instead of a reset.
async fn refuse(mut tcp: TcpStream, _slot: OwnedSemaphorePermit) {
    const BODY: &str = r#"{"error":{"code":"unavailable","message":"too many connections, try again","retry_after_ms":1000}}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        // Read what the client sent so far, so closing does not reset the connection.
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await;
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(BODY.as_bytes()).await?;
        tcp.shutdown().await?;
        while tcp.read(&mut buf).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    app: Router,
    limits: ServerLimits,
    mut closing: watch::Receiver<bool>,
) {
    let io = Tracked::new(tcp, permit);
    let activity = io.activity.clone();
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req =
            req.map(|b| Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)));
        // Who is connecting (per-IP socket caps, logs).
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Also bounds the wait for the next request on a kept-alive connection.
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let idle = limits.idle_timeout;
    let mut shutting_down = false;
    loop {
        let quiet = activity.quiet_for();
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, %peer, "connection ended");
                }
                break;
            }
            _ = flag(&mut closing), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(idle.saturating_sub(quiet)) => {
                if activity.quiet_for() >= idle {
                    tracing::debug!(%peer, "idle connection closed");
                    break;
                }
            }
        }
    }
    metrics::gauge!("omw_http_connections").decrement(1.0);
}

/// When a connection last moved a byte.
struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let now = self.epoch.elapsed();
        now.saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A TCP stream that notes its activity and holds the connection's slot: after a WebSocket
/// upgrade it lives on inside the socket, so the slot is returned only when the socket closes.
struct Tracked {
    tcp: TcpStream,
    activity: Arc<Activity>,
    _slot: OwnedSemaphorePermit,
}

impl Tracked {
    fn new(tcp: TcpStream, slot: OwnedSemaphorePermit) -> Self {
        Tracked {
            tcp,
            activity: Arc::new(Activity {
                epoch: Instant::now(),
                last_ms: AtomicU64::new(0),
            }),
            _slot: slot,
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.tcp).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
