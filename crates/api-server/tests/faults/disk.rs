//! Disk full for SQLite and local file storage, on a small tmpfs the test
//! mounts (which needs root): writes fail with 507 (or 503) problem+json,
//! nothing acknowledged is lost, reads keep working, and writes succeed
//! again once space returns.

use crate::harness::{Dir, Rivet, account, call, is_root, sh, todo_titles};
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        sh(Command::new("mount").args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            &at.display().to_string(),
        ]));
        Self(at.to_owned())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem of `path` until it refuses another byte.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
}

async fn upload(client: &reqwest::Client, base: &str, token: &str, todo: &str, bytes: usize) -> crate::harness::Answer {
    crate::harness::upload(client, base, token, todo, &vec![7u8; bytes]).await
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_when_space_returns() {
    assert!(is_root(), "this scenario mounts a tmpfs and needs root (as CI runs it)");
    let dir = Dir::new("disk");
    let disk = dir.path().join("disk");
    let _mount = Mount::tmpfs(&disk, "24m");
    let url = format!("sqlite://{}", disk.join("rivet.db").display());
    let files = disk.join("files").display().to_string();
    let server = Rivet::start(dir.path(), &url, &[("RIVET__STORAGE__DIR", &files)]).await;
    let token = account(&server.base).await;
    let client = reqwest::Client::new();
    let todos = format!("{}/api/v1/todos", server.base);
    let create = |n: usize| json!({ "title": format!("disk-{n}"), "description": "x".repeat(4000) });
    let first = call(&client, Method::POST, &todos, Some(&token), Some(&create(0))).await.unwrap();
    assert_eq!(first.status, 201, "{first}");
    let todo = first.body["id"].as_str().unwrap().to_owned();
    let mut acked = vec!["disk-0".to_owned()];

    fill(&disk.join("filler"));
    let mut refused = None;
    for n in 1..2000 {
        let a = call(&client, Method::POST, &todos, Some(&token), Some(&create(n))).await.unwrap();
        match a.status {
            201 => acked.push(format!("disk-{n}")),
            507 | 503 => {
                assert!(a.is_problem(), "a refused write is problem+json: {a}");
                refused = Some(a);
                break;
            }
            _ => panic!("a write on a full disk was answered {a}"),
        }
    }
    let refused = refused.expect("the disk never filled up");
    assert_eq!(refused.status, 507, "a full disk is 507 insufficient_storage: {refused}");
    assert_eq!(refused.code(), "insufficient_storage");
    let again = call(&client, Method::POST, &todos, Some(&token), Some(&create(9999))).await.unwrap();
    assert!(matches!(again.status, 507 | 503) && again.is_problem(), "still full: {again}");
    let stored_upload = upload(&client, &server.base, &token, &todo, 256 * 1024).await;
    assert!(
        matches!(stored_upload.status, 507 | 503) && stored_upload.is_problem(),
        "an upload on a full disk: {stored_upload}"
    );

    // Reads keep working, and hold every acknowledged write.
    let titles = todo_titles(&server.base, &token).await;
    let lost: Vec<&String> = acked.iter().filter(|t| !titles.contains(t)).collect();
    assert!(lost.is_empty(), "acknowledged todos missing on a full disk: {lost:?}");

    // Space returns: writes succeed again, without a restart.
    std::fs::remove_file(disk.join("filler")).unwrap();
    let back = call(&client, Method::POST, &todos, Some(&token), Some(&create(10_000))).await.unwrap();
    assert_eq!(back.status, 201, "a write once space returned: {back}");
    let uploaded = upload(&client, &server.base, &token, &todo, 256 * 1024).await;
    assert_eq!(uploaded.status, 201, "an upload once space returned: {uploaded}");
    let titles = todo_titles(&server.base, &token).await;
    assert!(acked.iter().all(|t| titles.contains(t)) && titles.contains(&"disk-10000".to_owned()));
    assert!(!server.log().contains("panicked"), "{}", server.log());
    println!(
        "disk full: {} writes acknowledged before the disk filled, then 507 insufficient_storage (writes and uploads), reads served, 0 lost; writes and uploads 201 again once space returned",
        acked.len()
    );
    drop(server);
}
