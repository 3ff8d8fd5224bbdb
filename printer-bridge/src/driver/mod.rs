//! Devices: where jobs go and how their outcome is learnt.

pub mod dpof;
pub mod hot_folder;
pub mod ipp;

use async_trait::async_trait;

use crate::plan::JobSpec;

/// One image of a job, as downloaded from the API.
#[derive(Clone, Debug)]
pub struct Image {
    /// The order file's name.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What the device holds of a job: per image, the device's reference to it, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub device_jobs: Vec<Option<i32>>,
}

impl Found {
    pub fn nothing(images: usize) -> Found {
        Found {
            device_jobs: vec![None; images],
        }
    }

    /// Indices of the images the device does not have yet.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.device_jobs.len())
            .filter(|&index| self.device_jobs[index].is_none())
            .collect()
    }
}

/// How a job ended on the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed { detail: String },
    Failed { reason: String },
}

/// What can go wrong with the device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The device cannot be reached or is busy: wait and try again.
    #[error("device unavailable: {0}")]
    Unavailable(String),
    /// The device refused this job for good (e.g. a document format it does not take).
    #[error("device refused the job: {0}")]
    Refused(String),
}

/// A printer or a hot folder.
#[async_trait]
pub trait Device: Send + Sync {
    /// Names the device in job reports, e.g. `ipp://host/ipp/print`.
    fn describe(&self) -> String;
    /// What the device already holds of `job`, asked before any submission so that a restart
    /// never submits twice.
    async fn find(&self, job: &JobSpec) -> Result<Found, DeviceError>;
    /// Gives the device the images it is missing (`images` holds exactly those of
    /// `found.missing()`, in order) and says what it now holds.
    async fn submit(
        &self,
        job: &JobSpec,
        found: &Found,
        images: Vec<Image>,
    ) -> Result<Found, DeviceError>;
    /// Waits until the device is done with the job.
    async fn wait(&self, job: &JobSpec, found: &Found) -> Result<Outcome, DeviceError>;
    /// Drops what the driver kept to recognise the job after a crash; called once the API holds
    /// the job's outcome, which from then on is what recognises it.
    async fn forget(&self, _job: &JobSpec) -> Result<(), DeviceError> {
        Ok(())
    }
}
