//! The `omw-chat` binary as an operator meets it: start-up checks and subcommands.

use std::process::Command;

/// At least 32 bytes, as the server demands of `JWT_SECRET`.
const SECRET: &str = "binary-test-secret-0123456789abcdef";

fn omw() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_omw-chat"));
    for var in [
        "JWT_SECRET",
        "JWT_PUBLIC_KEY_FILE",
        "PLATFORM_API_KEY",
        "DATABASE_URL",
        "DB_HOST",
        "PORT",
    ] {
        c.env_remove(var);
    }
    c
}

#[test]
fn a_missing_secret_stops_the_start_with_one_line_naming_it() {
    let out = omw().arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn a_bad_value_names_its_variable() {
    let out = omw()
        .args(["serve"])
        .env("JWT_SECRET", SECRET)
        .env("PLATFORM_API_KEY", "0123456789abcdef")
        .env("MAX_UPLOAD_BYTES", "ten megs")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("MAX_UPLOAD_BYTES"), "{err}");
}

#[test]
fn migrate_then_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sub/chat.db", dir.path().display());
    let out = omw()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("sub/chat.db").exists());

    let out = omw()
        .args(["token", "--sub", "u1", "--role", "worker", "--name", "Bob"])
        .env("JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a compact JWT: {token}");
}

#[test]
fn a_jwt_secret_shorter_than_32_bytes_stops_the_start() {
    let out = omw()
        .args(["serve"])
        .env("JWT_SECRET", "0123456789abcdef0123456789abcde")
        .env("PLATFORM_API_KEY", "0123456789abcdef")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("JWT_SECRET") && err.contains("32 bytes"),
        "{err}"
    );
}
