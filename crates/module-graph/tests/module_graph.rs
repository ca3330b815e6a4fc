//! The module import graph of the workspace's crates: no cycle between sibling modules, and in
//! the server no import from a layer above. `cargo test --workspace` runs it (scripts/test).
//! How the graph is read and the rules: crates/module-graph/src/lib.rs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use omw_module_graph::{CrateSpec, Disk, Layer, check, load};

/// The layers of `crates/server/src`, top first: a top-level module may import from its own
/// layer and the layers below, never from one above. README.md's architecture sketch draws the
/// same layers, and the test below holds it to this list.
const SERVER_LAYERS: &[Layer] = &[
    // The composition root: the binary, `server` (wires and starts everything), `conn` (the
    // TCP accept loop) and the fuzz targets' entry points.
    Layer {
        name: "root",
        modules: &["main", "server", "conn", "fuzzing"],
    },
    Layer {
        name: "transports",
        modules: &["http", "realtime"],
    },
    // The contract's types: both transports parse and answer with them.
    Layer {
        name: "wire",
        modules: &["wire"],
    },
    Layer {
        name: "service",
        modules: &["service"],
    },
    // Reads the environment, validates with the helpers below it, and hands values down
    // (`Config::jwt`): nothing below imports it.
    Layer {
        name: "config",
        modules: &["config"],
    },
    Layer {
        name: "below",
        modules: &["auth", "cluster", "files", "keys"],
    },
];

/// The workspace's crates: package, library name, `src` folder, layers (empty: cycles only).
const CRATES: &[(&str, &str, &str, &[Layer])] = &[
    ("omw-chat", "omw_chat", "crates/server/src", SERVER_LAYERS),
    ("omw-domain", "omw_domain", "crates/domain/src", &[]),
    ("omw-storage", "omw_storage", "crates/storage/src", &[]),
    ("omw-chat-bench", "omw_chat_bench", "crates/bench/src", &[]),
    ("omw-testkit", "omw_testkit", "crates/testkit/src", &[]),
];

/// Violations known and left in place for now, by the first line of their report, each with
/// its reason. A known violation that is gone fails the test too: take it off the list.
const KNOWN: &[(&str, &str)] = &[];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_cycles_and_no_upward_imports() {
    let started = Instant::now();
    let root = workspace();
    let mut problems = Vec::new();
    let mut edges = 0;
    for &(package, lib_name, src, layers) in CRATES {
        let spec = CrateSpec {
            package,
            lib_name,
            root: &root,
            src,
        };
        let graph = load(&spec, &Disk);
        assert!(
            graph.modules().count() > 1 || package == "omw-testkit",
            "{package}: found no modules under {src}"
        );
        edges += graph.edges.len();
        problems.extend(check(&graph, layers));
    }
    // Sanity: the reader sees the imports (`use crate::service::…` in the transports, …).
    assert!(edges > 300, "only {edges} module references found");

    let headline = |p: &String| p.lines().next().unwrap_or_default().to_owned();
    let mut unexpected: Vec<&String> = Vec::new();
    for p in &problems {
        if !KNOWN.iter().any(|(k, _)| headline(p) == *k) {
            unexpected.push(p);
        }
    }
    let gone: Vec<&str> = KNOWN
        .iter()
        .filter(|(k, _)| !problems.iter().any(|p| headline(p) == *k))
        .map(|(k, _)| *k)
        .collect();
    let mut message = String::new();
    if !unexpected.is_empty() {
        message.push_str(&format!(
            "{} module graph violation(s); the layers of crates/server/src, top first: {}\n\n{}\n",
            unexpected.len(),
            render(SERVER_LAYERS),
            unexpected
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n\n")
        ));
    }
    if !gone.is_empty() {
        message.push_str(&format!(
            "\nknown violation(s) no longer found, take them off KNOWN in {}:\n{}\n",
            file!(),
            gone.join("\n")
        ));
    }
    assert!(message.is_empty(), "{message}");
    for p in &problems {
        let reason = KNOWN.iter().find(|(k, _)| headline(p) == *k).unwrap().1;
        eprintln!("known, left in place ({reason}):\n{p}\n");
    }
    eprintln!(
        "module graph: {} crates, {edges} references, {:?}",
        CRATES.len(),
        started.elapsed()
    );
}

/// `root (main, server, conn, fuzzing) → transports (http, realtime) → wire → …`
fn render(layers: &[Layer]) -> String {
    layers
        .iter()
        .map(|l| {
            if l.modules == [l.name] {
                l.name.to_owned()
            } else {
                format!("{} ({})", l.name, l.modules.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

#[test]
fn the_readme_names_the_same_layers() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let line = render(SERVER_LAYERS);
    assert!(
        readme.contains(&line),
        "README.md's architecture section must name the layers of crates/server/src as \
         {} defines them:\n{line}",
        file!()
    );
}
