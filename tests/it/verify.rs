//! `comptoir verify`: an intact log, a flipped byte, a missing directory.

use crate::support::{fill_log, flip_payload_byte, run_comptoir};

#[tokio::test]
async fn verify_reports_an_intact_log_and_exits_zero() {
    // Proves verify walks every event and prints the count, head position and head hash.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 5, 4).await;
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("events checked: 20"), "{stdout}");
    assert!(stdout.contains("head position: 20"), "{stdout}");
    let hash = stdout
        .lines()
        .find_map(|line| line.strip_prefix("head hash: "))
        .expect("a head hash line");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn verify_names_the_position_of_one_flipped_byte() {
    // Proves one altered byte of a stored record makes verify fail and name its position.
    let dir = tempfile::tempdir().expect("temp dir");
    fill_log(dir.path(), 5, 4).await;
    // Batch 3 holds positions 9..=12; the second payload in it is position 10's.
    flip_payload_byte(dir.path(), 9, 1);
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let (status, stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(!status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("events checked: 9"), "{stdout}");
    assert!(stderr.contains("position 10"), "{stderr}");
}

#[tokio::test]
async fn verify_of_a_missing_dir_fails_without_creating_it() {
    // Proves a mistyped --data-dir is an error, not a fresh empty log that "verifies".
    let parent = tempfile::tempdir().expect("temp dir");
    let missing = parent.path().join("nope");
    let data_dir = missing.to_str().expect("utf-8 path");
    let (status, _stdout, stderr) = run_comptoir(&["verify", "--data-dir", data_dir]).await;
    assert!(!status.success());
    assert!(stderr.contains("no data dir"), "{stderr}");
    assert!(!missing.exists());
}
