//! The binary as someone meets it who copied it into an empty folder: the defaults must work.

mod process;

#[test]
fn serve_starts_on_the_embedded_database_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let server = process::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_omw-chat")),
        dir.path(),
        &[],
        &[
            ("JWT_SECRET", "fresh-folder-secret-0123456789abcdef"),
            ("PLATFORM_API_KEY", "fresh-folder-platform-key"),
            ("RUST_LOG", "info"),
        ],
    );
    let first = server.before.first().cloned().unwrap_or_default();
    assert!(
        first.contains("omw-chat starting") && first.contains("sqlite://./data/omw-chat.db"),
        "the first log line says where the data lives: {first}"
    );
    assert!(dir.path().join("data/omw-chat.db").exists());
    assert_eq!(process::get(server.addr, "/healthz").status, 200);
}
