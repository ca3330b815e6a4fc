//! The checked-in copies of the generated contract — the OpenAPI document and the web client's
//! TypeScript wire types — are what the Rust types generate now. When they are not, the test
//! fails and says how to regenerate them; with `OMW_UPDATE_CONTRACT=1` it rewrites them
//! (`scripts/contract`).

use std::path::PathBuf;

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn check(rel: &str, generated: String) {
    let path = repo_file(rel);
    if std::env::var("OMW_UPDATE_CONTRACT").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the generated file");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let line = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the end".to_string(), |i| format!("line {}", i + 1));
        panic!("{rel} is stale (first difference at {line}): run scripts/contract and commit it");
    }
}

#[test]
fn the_openapi_document_is_current() {
    check("docs/openapi.json", omw_chat::http::openapi::document());
}

#[test]
fn the_typescript_wire_types_are_current() {
    check(
        "web/packages/client/src/contract.ts",
        omw_chat::wire::typescript::module(),
    );
}
