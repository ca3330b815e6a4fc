//! `serve --demo` serves the web client embedded in the binary: from an empty folder, and from
//! a copy of the binary elsewhere (nothing depends on the repository's layout).

mod process;

use std::path::{Path, PathBuf};

/// `web/dist` as built before this test; `None` (and a skip) when it was not built, a failure
/// under CI.
fn built_web_client() -> Option<PathBuf> {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    if dist.join("index.html").exists() {
        return Some(dist);
    }
    let message = "web/dist is not built, so the binary embeds no web client: run \
                   `npm ci --prefix web && (cd web && npx vite build)` before the Rust tests \
                   (scripts/test does)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    None
}

fn serves_the_demo(bin: &Path, dist: &Path) {
    let cwd = tempfile::tempdir().unwrap();
    let server = process::start(bin, cwd.path(), &["--demo"], &[("RUST_LOG", "warn")]);
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();

    let root = process::get(server.addr, "/");
    assert_eq!(root.status, 200, "{}", root.text());
    assert!(
        root.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html")),
        "{:?}",
        root.headers
    );
    assert_eq!(root.text(), index, "/ is the built index.html");
    assert_eq!(root.header("cache-control"), Some("no-cache"));
    // Revalidation: an unchanged page is a 304.
    let etag = root.header("etag").expect("an ETag on index.html");
    let again = process::get_with(server.addr, "/", &[("If-None-Match", etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // A hashed bundle the page loads.
    let asset = index
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("index.html loads a script under /assets/: {index}"));
    let js = process::get(server.addr, asset);
    assert_eq!(js.status, 200, "{asset}");
    assert!(
        js.header("content-type")
            .is_some_and(|ct| ct.contains("javascript")),
        "{asset}: {:?}",
        js.headers
    );
    assert_eq!(
        js.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let on_disk = std::fs::read(dist.join(asset.trim_start_matches('/'))).unwrap();
    assert_eq!(js.body, on_disk);

    // A client-side route gets the page; a missing bundle does not.
    let route = process::get(server.addr, "/customer");
    assert_eq!(route.status, 200);
    assert_eq!(route.text(), index);
    assert_eq!(
        process::get(server.addr, "/assets/gone-1234.js").status,
        404
    );

    // The APIs keep their JSON 404.
    for path in ["/api/v1/nope", "/api/nope", "/demo/api/nope"] {
        let nope = process::get(server.addr, path);
        assert_eq!(nope.status, 404, "{path}");
        assert!(
            nope.header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json")),
            "{path}: {:?}",
            nope.headers
        );
        assert!(
            nope.text().contains("\"not_found\""),
            "{path}: {}",
            nope.text()
        );
    }
}

#[test]
fn serve_demo_from_an_empty_folder_serves_the_embedded_web_client() {
    let Some(dist) = built_web_client() else {
        return;
    };
    serves_the_demo(Path::new(env!("CARGO_BIN_EXE_omw-chat")), &dist);
}

#[test]
fn a_copy_of_the_binary_elsewhere_serves_the_whole_demo() {
    let Some(dist) = built_web_client() else {
        return;
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("omw-chat");
    std::fs::copy(env!("CARGO_BIN_EXE_omw-chat"), &copy).unwrap();
    serves_the_demo(&copy, &dist);
}
