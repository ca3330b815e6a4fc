//! Every input of the committed fuzz corpora (`fuzz/corpus/<target>/`) through its target's
//! body on stable Rust: what the fuzzer once found interesting, and every regression input of a
//! fixed defect, must still pass without a panic.

use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn fuzz_corpora_replay_without_panic() {
    let started = std::time::Instant::now();
    let mut total = 0;
    for (name, body) in omw_chat::fuzzing::TARGETS {
        let dir = corpus_dir().join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name}: no corpus in {}", dir.display());
        let target_started = std::time::Instant::now();
        for file in &files {
            let data = std::fs::read(file).expect("a corpus file");
            // A panic names the input that caused it.
            let run = std::panic::catch_unwind(|| body(&data));
            assert!(run.is_ok(), "{name}: {} panicked", file.display());
        }
        println!(
            "{name}: {} inputs in {:.1?}",
            files.len(),
            target_started.elapsed()
        );
        total += files.len();
    }
    println!(
        "fuzz corpora: {total} inputs replayed in {:.1?}",
        started.elapsed()
    );
}
