//! The hot-folder driver: DPOF job folders, atomic placement, reprints, kiosks taking folders.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use comptoir_printer_bridge::driver::dpof::{self, IMAGES_DIR, MISC_DIR, MRK_FILE};
use comptoir_printer_bridge::model::JobStatus;
use comptoir_printer_bridge::plan::job_id;
use uuid::Uuid;

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
    // Proves each printable line becomes a folder named after its job id whose AUTPRINT.MRK parses
    // and lists every image once with quantity x copies_per_unit as its three-digit PRT QTY, the
    // images byte-identical; no partial folder is left; outcomes are reported; a rerun adds nothing.
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let files: Vec<(String, Vec<u8>)> = (0..3)
        .map(|index| {
            (
                format!("IMG_{index}.jpg"),
                image_bytes(index, 3_000 + index as usize),
            )
        })
        .collect();
    let order_id = api.add_paid_order(
        vec![
            print_line(
                "PRINT-10X15",
                "tirages",
                2,
                &["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"],
            ),
            print_line("GUIDE", "livres", 1, &[]),
            print_line("PRINT-13X18", "", 5, &["IMG_1.jpg"]),
        ],
        files.clone(),
    );
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::HotFolder(folder.path()));
    bridge.run_once().await;

    let by_name = |indices: &[usize]| -> HashMap<String, Vec<u8>> {
        indices
            .iter()
            .enumerate()
            .map(|(n, &i)| (dpof::image_file_name(n, &files[i].0), files[i].1.clone()))
            .collect()
    };
    let first = folder.path().join(job_id(order_id, 0).to_string());
    let listed = read_job_folder(&first, &by_name(&[0, 1, 2])).expect("first job folder");
    let copies: Vec<u32> = listed.iter().map(|(_, copies)| *copies).collect();
    assert_eq!(copies, vec![4, 4, 4], "quantity 2 x 2 copies per unit");
    let third = folder.path().join(job_id(order_id, 2).to_string());
    let listed = read_job_folder(&third, &by_name(&[1])).expect("third job folder");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, 5);
    let text = std::fs::read_to_string(third.join(MISC_DIR).join(MRK_FILE)).expect("mrk");
    assert!(text.contains("PRT QTY = 005\r\n"), "{text}");
    assert_eq!(
        std::fs::read_dir(folder.path()).expect("list").count(),
        2,
        "no partial folders"
    );
    let journal = bridge.dir.path().join("state/hot-folder");
    let entries = std::fs::read_dir(journal).expect("journal").count();
    assert_eq!(
        entries, 0,
        "journal entries dropped once outcomes are recorded"
    );
    let jobs = api.jobs(order_id);
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|job| job.status == JobStatus::Completed));

    bridge.run_once().await;
    assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 2);
}

#[tokio::test]
async fn a_watcher_never_sees_a_partial_job_folder() {
    // Proves folders appear whole: a thread scanning the hot folder as fast as it can while 40
    // orders of large images are written never finds a visible job folder that is incomplete.
    const ORDERS: usize = 40;
    const IMAGES: usize = 4;
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let mut expected: HashMap<String, HashMap<String, Vec<u8>>> = HashMap::new();
    for order in 0..ORDERS {
        let files: Vec<(String, Vec<u8>)> = (0..IMAGES)
            .map(|i| {
                (
                    format!("p{i}.jpg"),
                    image_bytes((order * IMAGES + i) as u64, 200_000),
                )
            })
            .collect();
        let order_id = api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files.clone());
        let images = files
            .iter()
            .enumerate()
            .map(|(n, (name, bytes))| (dpof::image_file_name(n, name), bytes.clone()))
            .collect();
        expected.insert(job_id(order_id, 0).to_string(), images);
    }
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::HotFolder(folder.path()));
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
    // Proves a staff reprint (PrintJobReprintRequested with a new job id) places one new folder
    // for that line and reports it, while the original job is not placed again.
    let shop_id = Uuid::new_v4();
    let api = StandIn::start(shop_id).await;
    let files = vec![("a.jpg".to_string(), image_bytes(9, 2_000))];
    let order_id = api.add_paid_order(vec![print_line("P", "tirages", 1, &[])], files);
    let folder = tempfile::tempdir().expect("hot folder");
    let bridge = BridgeSetup::new(&api.url(), shop_id, Driver::HotFolder(folder.path()));
    bridge.run_once().await;
    let original = job_id(order_id, 0);
    let reprint = api.reprint(order_id, original);
    bridge.run_once().await;

    let mut names: Vec<String> = std::fs::read_dir(folder.path())
        .expect("list")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut expected = vec![original.to_string(), reprint.to_string()];
    expected.sort();
    assert_eq!(names, expected);
    let jobs = api.jobs(order_id);
    assert_eq!(jobs.len(), 2);
    assert!(jobs
        .iter()
        .all(|job| job.status == JobStatus::Completed && job.line == 0));
}

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
