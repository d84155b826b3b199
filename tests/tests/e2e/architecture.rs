//! The inward dependency rule, read from `cargo metadata`: domain depends on
//! none of our crates; persistence, auth and the adapters to outside systems
//! (mail, redis, storage) on domain only; http on domain and auth; app (the
//! composition root) on the adapters and never on http; api-server on app
//! and http, never on an adapter directly.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn our_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|n| n.starts_with("rivet-"))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn crates_depend_only_inward() {
    let deps = our_dependencies();
    let allowed: [(&str, &[&str]); 9] = [
        ("rivet-domain", &[]),
        ("rivet-persistence", &["rivet-domain"]),
        ("rivet-auth", &["rivet-domain"]),
        ("rivet-mail", &["rivet-domain"]),
        ("rivet-redis", &["rivet-domain"]),
        ("rivet-storage", &["rivet-domain"]),
        ("rivet-http", &["rivet-domain", "rivet-auth"]),
        (
            "rivet-app",
            &["rivet-domain", "rivet-persistence", "rivet-auth", "rivet-mail", "rivet-redis", "rivet-storage"],
        ),
        ("rivet-api-server", &["rivet-domain", "rivet-app", "rivet-auth", "rivet-http"]),
    ];
    for (krate, may_use) in allowed {
        let actual = deps.get(krate).unwrap_or_else(|| panic!("{krate} is a workspace member"));
        let may_use: BTreeSet<String> = may_use.iter().map(|s| (*s).to_owned()).collect();
        let outward: Vec<&String> = actual.difference(&may_use).collect();
        assert!(outward.is_empty(), "{krate} depends outward on {outward:?}; it may use only {may_use:?}");
    }
    assert!(deps["rivet-app"].len() == 6, "app wires every adapter: {:?}", deps["rivet-app"]);
    assert!(deps["rivet-api-server"].contains("rivet-app"), "the binary is a thin user of app");
}

/// Persistence is plain functions: `with_conn!` is the one macro where the
/// two backends expand; statements shared across repositories are functions
/// in `src/per_backend/`, compiled per backend, not more macros.
#[test]
fn persistence_has_one_macro() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/persistence/src");
    let mut files = Vec::new();
    crate::packaging::rust_files(&src, &mut files);
    let macros: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let name = file.strip_prefix(&src).unwrap().display().to_string();
            text.lines()
                .filter(|l| l.trim_start().starts_with("macro_rules!"))
                .map(|l| format!("{name}: {}", l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(macros, ["db.rs: macro_rules! with_conn {"], "persistence macros");
}
