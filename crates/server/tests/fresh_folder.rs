//! The binary as someone meets it who copied it into an empty folder: the defaults must work.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

#[test]
fn serve_starts_on_the_embedded_database_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_omw-chat"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("JWT_SECRET", "fresh-folder-secret-0123456789abcdef")
        .env("PLATFORM_API_KEY", "fresh-folder-platform-key")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let listening = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains("listening on http://") => break true,
            Ok(line) => lines.push(line),
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        listening,
        "did not start: {lines:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = lines.first().cloned().unwrap_or_default();
    assert!(
        first.contains("omw-chat starting") && first.contains("sqlite://./data/omw-chat.db"),
        "the first log line says where the data lives: {first}"
    );
    assert!(dir.path().join("data/omw-chat.db").exists());
}
