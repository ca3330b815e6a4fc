//! State shared by nodes through Redis — rate limits, presence, typing — exercised with two
//! connections standing for two nodes, against a real Redis (`OMW_TEST_REDIS_URL`), and the
//! fallback when Redis goes away (a redis-server started by the test and killed).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use omw_chat::{
    cluster::Redis,
    config::RateLimits,
    realtime::{
        presence::{SharedPresence, redis::RedisPresence},
        typing::{Lapse, SharedTyping, redis::RedisTyping},
    },
    service::limits::{Limits, redis::RedisRate},
};
use omw_domain::{Principal, Role};

async fn node(url: &str, prefix: &str) -> Redis {
    Redis::connect(url, prefix).await.expect("redis connects")
}

/// Two nodes of one deployment (same prefix), or `None` when Redis is not configured.
async fn two_nodes() -> Option<(Redis, Redis)> {
    let url = omw_testkit::redis_url()?;
    let prefix = omw_testkit::redis_prefix();
    Some((node(&url, &prefix).await, node(&url, &prefix).await))
}

fn user(id: &str) -> Principal {
    Principal {
        user_id: id.into(),
        role: Role::Customer,
        name: None,
    }
}

fn limits(redis: Option<Redis>, n: u32) -> Limits {
    Limits::new(
        &RateLimits {
            messages: n,
            messages_window: Duration::from_secs(10),
            events: 100,
            events_window: Duration::from_secs(10),
        },
        redis.map(RedisRate::new),
    )
}

#[tokio::test]
async fn rate_limit_is_shared_by_nodes() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (la, lb) = (limits(Some(a), 20), limits(Some(b), 20));
    let who = user("u1");
    // 20 in all, alternating nodes: every one allowed.
    for i in 0..20 {
        let l = if i % 2 == 0 { &la } else { &lb };
        l.message(&who)
            .await
            .unwrap_or_else(|e| panic!("message {i}: {e:?}"));
    }
    // The 21st is refused on either node, with a wait of about one emission interval.
    for l in [&la, &lb] {
        let e = l.message(&who).await.unwrap_err();
        let ms = e.retry_after_ms.unwrap();
        assert!(ms > 0 && ms <= 500, "retry after {ms} ms");
    }
    // Another user is not affected.
    la.message(&user("u2")).await.unwrap();
}

#[tokio::test]
async fn presence_spans_nodes() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (pa, pb) = (RedisPresence::new(a), RedisPresence::new(b));
    let u = "customer:p1";
    assert_eq!(pb.status(u).await.unwrap(), (false, None));
    assert!(pa.node_joined(u).await.unwrap(), "first node: came online");
    assert!(
        !pb.node_joined(u).await.unwrap(),
        "second node: already online"
    );
    assert!(
        !pa.node_left(u).await.unwrap(),
        "still online on the other node"
    );
    let (online, seen) = pb.status(u).await.unwrap();
    assert!(online);
    assert!(seen.is_some());
    assert!(pb.node_left(u).await.unwrap(), "last node left: offline");
    let (online, seen) = pa.status(u).await.unwrap();
    assert!(!online);
    assert!(seen.is_some(), "last seen is kept");
    // A heartbeat restores a node's claim (e.g. after Redis lost its data).
    pa.heartbeat(vec![u.to_string()]).await.unwrap();
    assert!(pb.status(u).await.unwrap().0);
}

#[tokio::test]
async fn typing_is_told_once_across_nodes_and_lapses() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (ta, tb) = (RedisTyping::new(a), RedisTyping::new(b));
    let ttl = Duration::from_secs(6);
    assert!(ta.start("c1", "u", ttl).await.unwrap(), "started");
    assert!(
        !tb.start("c1", "u", ttl).await.unwrap(),
        "renewed elsewhere: nothing new"
    );
    assert!(tb.stop("c1", "u").await.unwrap(), "stopped: tell it");
    assert!(
        !ta.stop("c1", "u").await.unwrap(),
        "already stopped: nothing to tell"
    );

    let short = Duration::from_millis(300);
    assert!(ta.start("c2", "u", short).await.unwrap());
    match tb.check("c2", "u").await.unwrap() {
        Lapse::After(d) => assert!(d <= short, "{d:?}"),
        _ => panic!("should still be shown"),
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(matches!(tb.check("c2", "u").await.unwrap(), Lapse::Expired));
    assert!(
        matches!(ta.check("c2", "u").await.unwrap(), Lapse::Gone),
        "the lapse is told by one node only"
    );
}

/// A redis-server of the test's own, on a free port, keeping nothing on disk.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn start_on(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (install Redis 7+)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnRedis { port, child }
    }

    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self::start_on(port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn limits_fall_back_to_the_node_while_redis_is_down_and_share_again_after() {
    if omw_testkit::redis_url().is_none() {
        return;
    }
    let mut own = OwnRedis::start();
    let prefix = omw_testkit::redis_prefix();
    let redis = node(&own.url(), &prefix).await;
    let health = redis.spawn_health_check();
    let l = limits(Some(redis.clone()), 5);
    let who = user("f1");
    l.message(&who).await.unwrap();
    own.kill();
    // Refusals and allowances keep coming, fast, from the node's own limiter.
    let started = Instant::now();
    for _ in 0..5 {
        l.message(&who).await.unwrap();
    }
    assert!(
        l.message(&who).await.is_err(),
        "the local limiter still limits"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no long waits on a dead Redis: {:?}",
        started.elapsed()
    );
    assert!(!redis.health.is_up(), "the outage is noticed");
    // Back on the same port: the health check reconnects and Redis is used again.
    let _again = OwnRedis::start_on(own.port);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !redis.health.is_up() {
        assert!(Instant::now() < deadline, "redis not seen back within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fresh = user("f2");
    for _ in 0..5 {
        l.message(&fresh).await.unwrap();
    }
    let other_node = limits(Some(node(&own.url(), &prefix).await), 5);
    assert!(
        other_node.message(&fresh).await.is_err(),
        "shared again: the other node sees the same bucket"
    );
    health.abort();
}
