//! Every library crate can be packaged on its own: `cargo package --list`
//! succeeds, no source reads a file outside its crate, and the persistence
//! crate carries the migrations it embeds.

use std::path::{Path, PathBuf};
use std::process::Command;

const LIBRARIES: [&str; 8] = ["domain", "persistence", "auth", "http", "mail", "redis", "storage", "app"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn listing(krate: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let package = format!("rivet-{krate}");
    let out = Command::new(cargo)
        .args(["package", "--list", "--allow-dirty", "--offline", "-p", &package])
        .current_dir(workspace())
        .output()
        .expect("cargo package runs");
    assert!(out.status.success(), "cargo package --list -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// Every `.rs` file under `dir`, recursively.
pub(crate) fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The relative paths a source file hands to macros that read files at
/// compile time, with the directory they are relative to.
fn compile_time_reads(file: &Path, crate_dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut reads = Vec::new();
    for (needle, relative_to_crate) in [
        ("include_str!(\"", false),
        ("include_bytes!(\"", false),
        ("embed_migrations!(\"", true),
        ("#[path = \"", false),
    ] {
        for (at, _) in text.match_indices(needle) {
            let rest = &text[at + needle.len()..];
            let literal = &rest[..rest.find('"').unwrap()];
            let base = if relative_to_crate { crate_dir } else { file.parent().unwrap() };
            reads.push(base.join(literal));
        }
    }
    reads
}

fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn no_library_source_reads_a_file_outside_its_crate() {
    for krate in LIBRARIES {
        let crate_dir = workspace().join("crates").join(krate);
        let mut files = Vec::new();
        rust_files(&crate_dir.join("src"), &mut files);
        assert!(!files.is_empty(), "{krate} has sources");
        for file in files {
            for read in compile_time_reads(&file, &crate_dir) {
                let read = normalise(&read);
                assert!(read.starts_with(&crate_dir), "{} reads {} at compile time", file.display(), read.display());
                assert!(read.exists(), "{} reads {}, which is missing", file.display(), read.display());
            }
        }
    }
}

#[test]
fn every_library_crate_packages_and_persistence_carries_its_migrations() {
    let mut packaged = Vec::new();
    for krate in LIBRARIES {
        let files = listing(krate);
        assert!(files.iter().any(|f| f == "src/lib.rs"), "rivet-{krate} packages its sources: {files:?}");
        if krate == "persistence" {
            packaged = files;
        }
    }
    let root = workspace().join("crates/persistence");
    for backend in ["postgres", "sqlite"] {
        let dir = root.join("migrations").join(backend);
        let mut expected = 0;
        for migration in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            for sql in ["up.sql", "down.sql"] {
                let name = migration.file_name();
                let file = format!("migrations/{backend}/{}/{sql}", name.to_str().unwrap());
                assert!(packaged.contains(&file), "rivet-persistence's package lacks {file}");
                expected += 1;
            }
        }
        assert!(expected >= 12, "{backend}: {expected} migration files");
    }
}
