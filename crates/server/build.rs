//! Builds the web client (`web/dist`) when it is missing, so that `cargo build` or
//! `cargo install --path crates/server` from a fresh clone embeds the whole demo.
//!
//! - `web/dist/index.html` present: nothing to do (scripts/test and scripts/run-demo build the
//!   web client before cargo, so this is the usual case).
//! - missing: `npm ci` then `vite build` in `web/`. Without npm, or with
//!   `OMW_SKIP_WEB_BUILD=1`, a warning, and the binary is built without the web client (the demo
//!   then answers `503` at `/`; `WEB_DIR` can still point at a built one).
//!
//! `rerun-if-changed` on `web/dist` re-runs this script, and so recompiles the crate and
//! re-embeds the files, whenever the web client is rebuilt.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    let skip = std::env::var_os("OMW_SKIP_WEB_BUILD").is_some_and(|v| !v.is_empty() && v != "0");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OMW_SKIP_WEB_BUILD");
    // A missing path makes cargo re-run this script on every build: only while we would build
    // the web client then, not when told to skip it.
    if dist.exists() || !skip {
        println!("cargo:rerun-if-changed={}", dist.display());
    }
    if dist.join("index.html").exists() || !web.join("package.json").exists() {
        // Built already, or a packaged crate without the web sources.
        return;
    }
    if skip {
        warn("OMW_SKIP_WEB_BUILD is set: the binary is built without the web client");
        return;
    }
    if let Err(e) = build_web(&web) {
        warn(&format!(
            "the web client was not built ({e}); the binary has no web demo. Build it with \
             `npm ci --prefix web && (cd web && npx vite build)`, then build again"
        ));
    }
}

fn build_web(web: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let npx = if cfg!(windows) { "npx.cmd" } else { "npx" };
    if Command::new(npm).arg("--version").output().is_err() {
        return Err("npm not found: install Node.js 20+".into());
    }
    run(Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(web))?;
    run(Command::new(npx)
        .args(["vite", "build", "--logLevel", "warn"])
        .current_dir(web))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    // A build script's stdout carries directives to cargo: npm's output goes to stderr, which
    // cargo shows when the build fails.
    let status = cmd
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn warn(message: &str) {
    println!("cargo:warning={message}");
}
