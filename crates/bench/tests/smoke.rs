//! CI smoke test: the in-process echo server driven by the pairs machinery for one second.

use std::time::Duration;

use omw_chat_bench::echo;
use omw_chat_bench::pairs::{self, Mode, PairsConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_echo_one_second_loses_nothing() {
    let addr = echo::spawn("127.0.0.1:0").await.expect("echo server");
    let cfg = PairsConfig {
        pairs: 4,
        rate: 50.0,
        duration: Duration::from_secs(1),
        window: 16,
        body_len: 64,
        drain: Duration::from_secs(5),
        ..PairsConfig::default()
    };
    let rep = pairs::run(&cfg, &Mode::Echo(format!("ws://{addr}")))
        .await
        .expect("pairs echo run");
    eprintln!("{}", rep.summary());
    assert_eq!(rep.clients, 8);
    assert!(rep.sent > 100, "too few messages sent: {}", rep.sent);
    assert_eq!(rep.acked, rep.sent, "every frame echoed");
    assert_eq!(rep.lost_delivery, 0, "lost");
    assert_eq!(rep.unacked, 0);
    assert_eq!(rep.errors, 0, "errors: {:?}", rep.error_samples);
    assert!(rep.ok());
    assert!(rep.delivery_latency.count > 0);
}
