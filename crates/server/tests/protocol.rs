//! Runs the Node protocol suite (`tests/protocol`, the official socket.io-client v4) against
//! the real `omw-chat` binary, once per database backend.

use std::{path::PathBuf, process::Command, sync::Arc};

use omw_testkit::TestDb;

fn protocol_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/protocol")
}

/// One backend's run at a time: the suite has timing assertions (typing expiry) and starts
/// several servers; three at once on two cores would make it measure the machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn socketio_protocol(db: Arc<TestDb>) {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = protocol_dir();
    if !dir.join("node_modules/socket.io-client").exists() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "tests/protocol/node_modules is missing: run `npm ci` there (scripts/test does)"
        );
        eprintln!("SKIPPED: protocol suite — run `npm ci` in tests/protocol");
        return;
    }
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=2", "--test-reporter=spec"])
        .current_dir(&dir)
        .env("OMW_BIN", env!("CARGO_BIN_EXE_omw-chat"))
        .env("OMW_TEST_DATABASE_URL", &db.url);
    if let Ok(filter) = std::env::var("OMW_PROTOCOL_FILTER") {
        cmd.arg(format!("--test-name-pattern={filter}"));
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "protocol suite failed on {:?}",
        db.kind
    );
}

omw_testkit::each_backend!(socketio_protocol);
