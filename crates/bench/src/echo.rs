//! A minimal raw WebSocket echo server (tokio-tungstenite): the ceiling a WebSocket server can
//! reach on this machine with the same client machinery.

use std::net::SocketAddr;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use tokio::net::TcpListener;

/// Bind and serve in the background; returns the bound address.
pub async fn spawn(addr: &str) -> Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(serve(listener));
    Ok(local)
}

/// Accept connections forever, echoing every text and binary frame back to its sender.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let (sink, stream) = ws.split();
            let _ = stream
                .try_filter(|m| futures::future::ready(m.is_text() || m.is_binary()))
                .forward(sink)
                .await;
        });
    }
}
