//! Hot-folder driver: each job becomes a folder `<job_id>/` holding `IMAGES/` and
//! `MISC/AUTPRINT.MRK`, built as `.<job_id>.partial` in the same directory and renamed into place,
//! so the kiosk software never sees half a job.
//!
//! Kiosks take folders away once they print them, so "the folder is not there" does not mean "never
//! placed". A journal entry in the state dir (`hot-folder/<job_id>.placing`) is written after the
//! partial folder exists and before the rename; a partial folder exists only before the rename.
//! So on restart: final folder → placed; partial folder → unfinished (removed, built again);
//! journal entry alone → placed and already taken by the kiosk; nothing → never placed.

use std::fs;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::dpof::{self, IMAGES_DIR, MISC_DIR, MRK_FILE};
use super::{Device, DeviceError, Found, Image, Outcome};
use crate::durable::{sync_dir, write_synced};
use crate::plan::JobSpec;

/// Device reference stored in `Found` for a placed image (a folder has no job number).
const PLACED: i32 = 0;
const JOURNAL_DIR: &str = "hot-folder";

#[derive(Clone)]
pub struct HotFolder {
    folder: PathBuf,
    journal: PathBuf,
}

impl HotFolder {
    /// A driver writing into `folder`, journaling under `state_dir`; both are created if missing.
    pub fn new(folder: &Path, state_dir: &Path) -> std::io::Result<HotFolder> {
        let journal = state_dir.join(JOURNAL_DIR);
        fs::create_dir_all(folder)?;
        fs::create_dir_all(&journal)?;
        Ok(HotFolder {
            folder: folder.to_path_buf(),
            journal,
        })
    }

    fn final_dir(&self, job: &JobSpec) -> PathBuf {
        self.folder.join(job.job_id.to_string())
    }

    fn partial_dir(&self, job: &JobSpec) -> PathBuf {
        self.folder.join(format!(".{}.partial", job.job_id))
    }

    fn intent(&self, job: &JobSpec) -> PathBuf {
        self.journal.join(format!("{}.placing", job.job_id))
    }

    fn find_blocking(&self, job: &JobSpec) -> std::io::Result<Found> {
        let placed = Found {
            device_jobs: vec![Some(PLACED); job.files.len()],
        };
        if self.final_dir(job).exists() {
            return Ok(placed);
        }
        if self.partial_dir(job).exists() {
            // Interrupted before the rename: the kiosk never saw it. Forget the intent first so
            // that a crash during the clean-up cannot make it look placed.
            remove_if_present(&self.intent(job))?;
            fs::remove_dir_all(self.partial_dir(job))?;
            return Ok(Found::nothing(job.files.len()));
        }
        if self.intent(job).exists() {
            return Ok(placed);
        }
        Ok(Found::nothing(job.files.len()))
    }

    fn place_blocking(&self, job: &JobSpec, images: &[Image]) -> std::io::Result<Found> {
        let partial = self.partial_dir(job);
        if partial.exists() {
            fs::remove_dir_all(&partial)?;
        }
        fs::create_dir_all(partial.join(IMAGES_DIR))?;
        fs::create_dir_all(partial.join(MISC_DIR))?;
        sync_dir(&self.folder)?;
        write_synced(&self.intent(job), b"")?;
        sync_dir(&self.journal)?;
        let mut names = Vec::with_capacity(images.len());
        for (index, image) in images.iter().enumerate() {
            let name = dpof::image_file_name(index, &image.name);
            write_synced(&partial.join(IMAGES_DIR).join(&name), &image.bytes)?;
            names.push(name);
        }
        let mrk = dpof::render(chrono::Local::now().naive_local(), &names, job.copies);
        write_synced(&partial.join(MISC_DIR).join(MRK_FILE), mrk.as_bytes())?;
        sync_dir(&partial.join(IMAGES_DIR))?;
        sync_dir(&partial.join(MISC_DIR))?;
        sync_dir(&partial)?;
        fs::rename(&partial, self.final_dir(job))?;
        sync_dir(&self.folder)?;
        Ok(Found {
            device_jobs: vec![Some(PLACED); job.files.len()],
        })
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// A full disk or a missing mount may heal: the folder's failures are worth retrying.
fn unavailable(error: std::io::Error) -> DeviceError {
    DeviceError::Unavailable(format!("hot folder: {error}"))
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, DeviceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| DeviceError::Unavailable(format!("hot folder task: {error}")))?
        .map_err(unavailable)
}

#[async_trait]
impl Device for HotFolder {
    fn describe(&self) -> String {
        format!("hot-folder:{}", self.folder.display())
    }

    async fn find(&self, job: &JobSpec) -> Result<Found, DeviceError> {
        let (driver, job) = (self.clone(), job.clone());
        blocking(move || driver.find_blocking(&job)).await
    }

    async fn submit(
        &self,
        job: &JobSpec,
        found: &Found,
        images: Vec<Image>,
    ) -> Result<Found, DeviceError> {
        // A folder is placed whole: the engine only calls this when nothing was placed.
        assert_eq!(
            found.missing().len(),
            job.files.len(),
            "hot folder jobs are all or nothing"
        );
        let (driver, job) = (self.clone(), job.clone());
        blocking(move || driver.place_blocking(&job, &images)).await
    }

    async fn forget(&self, job: &JobSpec) -> Result<(), DeviceError> {
        let intent = self.intent(job);
        blocking(move || remove_if_present(&intent)).await
    }

    async fn wait(&self, job: &JobSpec, _found: &Found) -> Result<Outcome, DeviceError> {
        // The kiosk software takes it from here and reports nothing back: placed is done.
        Ok(Outcome::Completed {
            detail: format!("placed in the hot folder as {}", job.job_id),
        })
    }
}
