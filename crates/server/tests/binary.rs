//! The `omw-chat` binary as an operator meets it: start-up checks and subcommands.

mod process;

use std::process::{Command, Output};

/// At least 32 bytes, as the server demands of `JWT_SECRET`.
const SECRET: &str = "binary-test-secret-0123456789abcdef";
const PLATFORM_KEY: &str = "0123456789abcdef";

/// The two secrets `serve` and `check-config` demand.
fn with_secrets(c: &mut Command) -> &mut Command {
    c.env("JWT_SECRET", SECRET)
        .env("PLATFORM_API_KEY", PLATFORM_KEY)
}

/// A refused start says why in one line on stderr: that line.
fn one_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    err
}

/// The command succeeded (else its stderr says why).
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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
    let err = one_line_error(&out);
    assert!(err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn a_bad_value_names_its_variable() {
    let out = with_secrets(omw().arg("serve"))
        .env("MAX_UPLOAD_BYTES", "ten megs")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = one_line_error(&out);
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
    assert_success(&out);
    assert!(dir.path().join("sub/chat.db").exists());

    let out = omw()
        .args(["token", "--sub", "u1", "--role", "worker", "--name", "Bob"])
        .env("JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_success(&out);
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a compact JWT: {token}");
}

#[test]
fn a_jwt_secret_shorter_than_32_bytes_stops_the_start() {
    let out = with_secrets(omw().arg("serve"))
        .env("JWT_SECRET", "0123456789abcdef0123456789abcde")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = one_line_error(&out);
    assert!(
        err.contains("JWT_SECRET") && err.contains("32 bytes"),
        "{err}"
    );
}

/// The binary with an empty environment but PATH.
fn clean() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_omw-chat"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn version_prints_the_crate_version() {
    let out = clean().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("omw-chat {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_prints_the_effective_configuration_without_secrets() {
    let platform_key = "check-config-platform-key-0123";
    let out = clean()
        .arg("check-config")
        .env("JWT_SECRET", SECRET)
        .env("PLATFORM_API_KEY", platform_key)
        .env(
            "DATABASE_URL",
            "postgres://omw:db-password-42@db.internal:5432/omw",
        )
        .env("REDIS_URL", "redis://:redis-password-43@cache:6379")
        .env("ENCRYPTION_KEY_FILE", "/etc/omw-chat/encryption.key")
        .env("AWS_ACCESS_KEY_ID", "AKIACHECKCONFIGKEY")
        .env("AWS_SECRET_ACCESS_KEY", "aws-secret-44")
        .env("PORT", "8080")
        .env("CHAT_RETENTION", "7d")
        .env("LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert_success(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    for secret in [
        SECRET,
        platform_key,
        "db-password-42",
        "redis-password-43",
        "AKIACHECKCONFIGKEY",
        "aws-secret-44",
    ] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
    }
    let lines: Vec<(&str, &str)> = stdout
        .lines()
        .map(|l| {
            l.split_once('=')
                .unwrap_or_else(|| panic!("NAME=value: {l}"))
        })
        .collect();
    let get = |name: &str| {
        lines
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} missing:\n{stdout}"))
            .1
    };
    assert_eq!(lines[0], ("PORT", "8080"), "the README table's order");
    assert_eq!(get("JWT_SECRET"), "***");
    assert_eq!(get("PLATFORM_API_KEY"), "***");
    assert_eq!(
        get("DATABASE_URL"),
        "postgres://omw:***@db.internal:5432/omw"
    );
    assert_eq!(get("REDIS_URL"), "redis://:***@cache:6379");
    assert_eq!(get("CHAT_RETENTION"), "7days");
    assert_eq!(get("LOG_FORMAT"), "json");
    assert_eq!(get("MAX_UPLOAD_BYTES"), "10485760");

    // The demo needs no secrets, and still prints none.
    let out = clean().args(["check-config", "--demo"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("JWT_SECRET=***\n"));
}

#[test]
fn check_config_refuses_a_bad_value_like_serve() {
    for (var, value) in [("MAX_UPLOAD_BYTES", "ten megs"), ("LOG_FORMAT", "xml")] {
        let out = with_secrets(clean().arg("check-config"))
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        assert!(out.stdout.is_empty(), "nothing printed on a bad value");
        let err = one_line_error(&out);
        assert!(err.contains(var), "{err}");
    }
    let out = clean().arg("check-config").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));
}

#[test]
fn a_bad_log_format_stops_the_start() {
    let out = with_secrets(clean().arg("serve"))
        .env("LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("LOG_FORMAT"), "{err}");
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_span() {
    let cwd = tempfile::tempdir().unwrap();
    let server = process::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_omw-chat")),
        cwd.path(),
        &[],
        &[
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", PLATFORM_KEY),
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
        ],
    );
    let reply = process::get(server.addr, "/api/v1/nope?token=query-secret");
    assert_eq!(reply.status, 404);
    let mut lines = server.before.clone();
    // The access log line follows the response closely.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !lines.iter().any(|l| l.contains("/api/v1/nope")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match server.lines.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let mut request_logged = false;
    for line in &lines {
        if line.starts_with("omw-chat ") {
            continue; // the plain `listening on` / `demo:` lines
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        assert!(v.is_object(), "{line}");
        assert!(
            !line.contains("query-secret"),
            "the query string is logged: {line}"
        );
        if v["span"]["path"] == "/api/v1/nope" {
            assert_eq!(v["span"]["method"], "GET", "{line}");
            assert_eq!(v["span"]["status"], 404, "{line}");
            assert!(v["span"]["latency_ms"].is_number(), "{line}");
            request_logged = true;
        }
    }
    assert!(
        request_logged,
        "no line carries the request span: {lines:#?}"
    );
}
