//! The hot-folder driver against the real `comptoir serve`: DPOF job folders of uploaded order
//! files, atomic placement, reprints; and (stand-in) kiosks taking folders before the report.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use comptoir_printer_bridge::driver::dpof::{self, IMAGES_DIR, MISC_DIR, MRK_FILE};
use comptoir_printer_bridge::model::JobStatus;
use comptoir_printer_bridge::plan::job_id;
use uuid::Uuid;

use crate::real_api::{print_job_events, RealApi, SKU_GUIDE, SKU_PRINT_10X15, SKU_PRINT_13X18};
use crate::stand_in::StandIn;
use crate::support::{image_bytes, print_line, wait_until, BridgeSetup, Driver};

/// Checks one job folder as a kiosk would read it: its MRK parses and every image it lists is
/// there with the bytes the order had (`expected`: image name in IMAGES/ → bytes). Returns the
/// MRK's (image path, copies) pairs, or what is wrong.
fn read_job_folder(
    folder: &Path,
    expected: &HashMap<String, Vec<u8>>,
) -> Result<Vec<(String, u32)>, String> {
    let mrk_path = folder.join(MISC_DIR).join(MRK_FILE);
    let text = std::fs::read_to_string(&mrk_path).map_err(|e| format!("{mrk_path:?}: {e}"))?;
    let mrk = dpof::parse(&text)?;
    if mrk.revision != "01.10" || mrk.creator != "comptoir" || mrk.written_at.len() != 19 {
        return Err(format!("bad header {mrk:?}"));
    }
    let mut listed = Vec::new();
    for (index, job) in mrk.jobs.iter().enumerate() {
        if job.pid != index as u32 + 1 || job.kind != "STD" {
            return Err(format!("bad job {job:?}"));
        }
        let name = job
            .source
            .strip_prefix(&format!("../{IMAGES_DIR}/"))
            .ok_or_else(|| format!("source outside IMAGES: {}", job.source))?;
        let bytes = std::fs::read(folder.join(IMAGES_DIR).join(name)).map_err(|e| e.to_string())?;
        if expected.get(name) != Some(&bytes) {
            return Err(format!("image {name} is not the order's file"));
        }
        listed.push((name.to_string(), job.copies));
    }
    Ok(listed)
}

#[tokio::test]
async fn job_folders_hold_every_image_with_its_copies_in_a_valid_mrk() {
    // Proves, against the real server: each printable line of a paid order with uploaded files
    // becomes a folder named after its job id whose AUTPRINT.MRK parses and lists every image
    // once with its three-digit PRT QTY (category rule: quantity x 2; SKU rule: quantity), the
    // images byte-identical to the uploads; a book line prints nothing; no partial folder is
    // left; each job's outcome is recorded (job list and order stream); a rerun adds nothing.
    let api = RealApi::start().await;
    let files: Vec<(String, Vec<u8>)> = (0..3)
        .map(|index| {
            (
                format!("IMG_{index}.jpg"),
                image_bytes(index, 3_000 + index as usize),
            )
        })
        .collect();
    let lines = [(SKU_PRINT_10X15, 2), (SKU_GUIDE, 1), (SKU_PRINT_13X18, 5)];
    let order_id = api.add_paid_order(&lines, &files).await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::for_real(&api, Driver::HotFolder(folder.path()));
    bridge.run_once().await;

    // A real order line prints every file of the order, in name order.
    let images: HashMap<String, Vec<u8>> = files
        .iter()
        .enumerate()
        .map(|(n, (name, bytes))| (dpof::image_file_name(n, name), bytes.clone()))
        .collect();
    let first = folder.path().join(job_id(order_id, 0).to_string());
    let listed = read_job_folder(&first, &images)
        .unwrap_or_else(|error| panic!("first job folder: {error}\n{}", bridge.log()));
    let copies: Vec<u32> = listed.iter().map(|(_, copies)| *copies).collect();
    assert_eq!(copies, vec![4, 4, 4], "quantity 2 x 2 copies per unit");
    let third = folder.path().join(job_id(order_id, 2).to_string());
    let listed = read_job_folder(&third, &images).expect("third job folder");
    let copies: Vec<u32> = listed.iter().map(|(_, copies)| *copies).collect();
    assert_eq!(copies, vec![5, 5, 5], "the SKU rule: quantity 5 x 1");
    let text = std::fs::read_to_string(third.join(MISC_DIR).join(MRK_FILE)).expect("mrk");
    assert!(text.contains("PRT QTY = 005\r\n"), "{text}");
    assert_eq!(
        std::fs::read_dir(folder.path()).expect("list").count(),
        2,
        "no partial folders, nothing for the book"
    );
    let journal = bridge.dir.path().join("state/hot-folder");
    let entries = std::fs::read_dir(journal).expect("journal").count();
    assert_eq!(
        entries, 0,
        "journal entries dropped once outcomes are recorded"
    );
    let jobs = api.jobs(order_id).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(
        jobs.iter().all(|job| job["status"] == "completed"),
        "{jobs:?}"
    );
    let device = format!("hot-folder:{}", folder.path().display());
    assert!(
        jobs.iter().all(|job| job["device"] == device.as_str()),
        "{jobs:?}"
    );
    let recorded = print_job_events(&api.feed().await);
    for line in [0, 2] {
        let job = job_id(order_id, line);
        let of_job: Vec<&str> = recorded
            .iter()
            .filter(|(order, _, id)| *order == order_id && *id == job)
            .map(|(_, event_type, _)| event_type.as_str())
            .collect();
        assert_eq!(
            of_job,
            ["PrintJobSubmitted", "PrintJobCompleted"],
            "line {line}"
        );
    }

    bridge.run_once().await;
    assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 2);
    assert_eq!(
        print_job_events(&api.feed().await),
        recorded,
        "a rerun records nothing"
    );
}

#[tokio::test]
async fn a_watcher_never_sees_a_partial_job_folder() {
    // Proves folders appear whole: a thread scanning the hot folder as fast as it can while 40
    // paid orders of large images (uploaded to the real server) are written never finds a visible
    // job folder that is incomplete, and every job ends completed in the API.
    const ORDERS: usize = 40;
    const IMAGES: usize = 4;
    let api = RealApi::start().await;
    let placed = futures::future::join_all((0..ORDERS).map(|order| {
        let files: Vec<(String, Vec<u8>)> = (0..IMAGES)
            .map(|i| {
                (
                    format!("p{i}.jpg"),
                    image_bytes((order * IMAGES + i) as u64, 200_000),
                )
            })
            .collect();
        let api = &api;
        async move {
            let order_id = api.add_paid_order(&[(SKU_PRINT_10X15, 1)], &files).await;
            (order_id, files)
        }
    }))
    .await;
    let mut expected: HashMap<String, HashMap<String, Vec<u8>>> = HashMap::new();
    for (order_id, files) in &placed {
        let images = files
            .iter()
            .enumerate()
            .map(|(n, (name, bytes))| (dpof::image_file_name(n, name), bytes.clone()))
            .collect();
        expected.insert(job_id(*order_id, 0).to_string(), images);
    }
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::for_real(&api, Driver::HotFolder(folder.path()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, path, expected) = (stop.clone(), folder.path().to_path_buf(), expected.clone());
        std::thread::spawn(move || watch_folder(&path, &expected, &stop))
    };
    bridge.run_once().await;
    stop.store(true, Ordering::SeqCst);
    let (scans, problems) = watcher.join().expect("watcher");
    assert!(problems.is_empty(), "partial folders seen: {problems:?}");
    assert!(
        scans > 10,
        "the watcher ran while jobs were written ({scans} scans)"
    );
    for (job, images) in &expected {
        read_job_folder(&folder.path().join(job), images).expect("every job placed");
    }
    for (order_id, _) in &placed {
        let jobs = api.jobs(*order_id).await;
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!(jobs[0]["status"], "completed", "{jobs:?}");
    }
}

/// Scans until told to stop; returns the number of scans and every incomplete folder seen.
fn watch_folder(
    path: &Path,
    expected: &HashMap<String, HashMap<String, Vec<u8>>>,
    stop: &AtomicBool,
) -> (usize, Vec<String>) {
    let (mut scans, mut problems) = (0, Vec::new());
    while !stop.load(Ordering::SeqCst) {
        scans += 1;
        for entry in std::fs::read_dir(path).expect("list").flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            // Dot names are the bridge's work in progress; kiosks skip hidden folders.
            if name.starts_with('.') {
                continue;
            }
            let Some(images) = expected.get(&name) else {
                problems.push(format!("unexpected entry {name}"));
                continue;
            };
            match read_job_folder(&entry.path(), images) {
                Ok(listed) if listed.len() == images.len() => {}
                Ok(listed) => problems.push(format!("{name}: {} images listed", listed.len())),
                Err(error) => problems.push(format!("{name}: {error}")),
            }
        }
    }
    (scans, problems)
}

#[tokio::test]
async fn a_reprint_is_a_new_job_and_nothing_else_prints_again() {
    // Proves, against the real server, that a staff reprint (the reprint route, then
    // PrintJobReprintRequested in the feed with a new job id) places one new folder for that
    // line, with the same images, and records it, while the original job is not placed again.
    let api = RealApi::start().await;
    let files = vec![("a.jpg".to_string(), image_bytes(9, 2_000))];
    let order_id = api.add_paid_order(&[(SKU_PRINT_10X15, 1)], &files).await;
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::for_real(&api, Driver::HotFolder(folder.path()));
    bridge.run_once().await;
    let original = job_id(order_id, 0);
    let reprint: Uuid = api
        .reprint(order_id, &original.to_string())
        .await
        .parse()
        .expect("uuid");
    bridge.run_once().await;

    let mut names: Vec<String> = std::fs::read_dir(folder.path())
        .expect("list")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut expected = vec![original.to_string(), reprint.to_string()];
    expected.sort();
    assert_eq!(names, expected, "log:\n{}", bridge.log());
    let images = HashMap::from([(dpof::image_file_name(0, "a.jpg"), files[0].1.clone())]);
    read_job_folder(&folder.path().join(reprint.to_string()), &images).expect("reprint folder");
    let jobs = api.jobs(order_id).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs
        .iter()
        .all(|job| job["status"] == "completed" && job["line"] == 0));
}

// STAND-IN on purpose: the real server cannot be made to refuse job reports while serving
// everything else, and a kill timed between placing the folder and reporting it would be a race.
#[tokio::test]
async fn a_folder_taken_by_the_kiosk_before_the_report_is_not_placed_again() {
    // Proves the restart check after a crash between placing a folder and recording its outcome,
    // when the kiosk has already taken the folder away: the bridge's journal knows the job was
    // placed, so the restarted bridge reports it instead of printing it twice.
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let files = vec![("a.jpg".to_string(), image_bytes(5, 2_000))];
    let order_id = api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files);
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::HotFolder(folder.path()));
    api.refuse_reports(true);
    let mut child = bridge.spawn();
    let job = folder.path().join(job_id(order_id, 0).to_string());
    wait_until("the job folder", || job.exists()).await;
    child.kill().expect("kill -9 the bridge");
    child.wait().expect("reap the bridge");
    std::fs::remove_dir_all(&job).expect("the kiosk takes the folder");
    api.refuse_reports(false);
    bridge.run_once().await;

    assert!(!job.exists(), "placed again; log:\n{}", bridge.log());
    let jobs = api.jobs(order_id);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, JobStatus::Completed);
}
