//! IPP driver: one Print-Job per image (IPP printers rarely take several documents per job),
//! named after the job id, with `copies` and `media`; then Get-Job-Attributes until the job
//! is completed, aborted or cancelled. Get-Jobs by name tells what the printer already has.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use ipp::prelude::*;

use super::{Device, DeviceError, Found, Image, Outcome};
use crate::limits::IPP_REQUEST_TIMEOUT_MS;
use crate::plan::JobSpec;

/// requesting-user-name of every job: staff see who sent it.
const USER_NAME: &str = "comptoir";
const JOB_STATE_CANCELED: i32 = 7;
const JOB_STATE_ABORTED: i32 = 8;
const JOB_STATE_COMPLETED: i32 = 9;

pub struct IppPrinter {
    uri: Uri,
    poll_interval: Duration,
}

/// The IPP job-name of image `index` of a job: the job id itself when the job has one image,
/// else the job id and the image's number, so each image is found again by name.
pub fn device_job_name(job: &JobSpec, index: usize) -> String {
    if job.files.len() == 1 {
        job.job_id.to_string()
    } else {
        format!("{}-{:03}", job.job_id, index + 1)
    }
}

/// Document format from the file name; the printer refuses what it cannot print.
fn document_format(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Connection failures and server-side statuses may pass; client errors will not.
fn classify(error: IppError) -> DeviceError {
    match error {
        IppError::StatusError(status) if is_client_error(status) => {
            DeviceError::Refused(format!("IPP status {status} ({:#06x})", status as u16))
        }
        other => DeviceError::Unavailable(format!("IPP: {other}")),
    }
}

fn is_client_error(status: StatusCode) -> bool {
    (0x0400..0x0500).contains(&(status as u16))
}

fn check(response: IppRequestResponse) -> Result<IppRequestResponse, DeviceError> {
    let status = response.header().status_code();
    if status.is_success() {
        Ok(response)
    } else {
        Err(classify(IppError::StatusError(status)))
    }
}

impl IppPrinter {
    pub fn new(uri: &str, poll_interval: Duration) -> Result<IppPrinter, String> {
        let uri: Uri = uri
            .parse()
            .map_err(|error| format!("IPP URI {uri:?}: {error}"))?;
        Ok(IppPrinter { uri, poll_interval })
    }

    async fn send(&self, request: IppRequestResponse) -> Result<IppRequestResponse, DeviceError> {
        let client = AsyncIppClient::builder(self.uri.clone())
            .request_timeout(Duration::from_millis(IPP_REQUEST_TIMEOUT_MS))
            .build();
        check(client.send(request).await.map_err(classify)?)
    }

    /// Every job the printer lists (pending and finished), by name: (job-id, job-state).
    async fn jobs_by_name(&self) -> Result<HashMap<String, (i32, i32)>, DeviceError> {
        let mut request: IppRequestResponse = IppOperationBuilder::get_jobs(self.uri.clone())
            .user_name(USER_NAME)
            .build()
            .map_err(|error| DeviceError::Refused(format!("Get-Jobs: {error}")))?
            .into();
        let attributes = request.attributes_mut();
        attributes.add(
            DelimiterTag::OperationAttributes,
            keyword("which-jobs", "all")?,
        );
        let requested = ["job-id", "job-name", "job-state"]
            .iter()
            .filter_map(|name| IppValue::new_keyword(*name).ok())
            .collect();
        attributes.add(
            DelimiterTag::OperationAttributes,
            attribute("requested-attributes", IppValue::Array(requested))?,
        );
        let response = self.send(request).await?;
        let mut jobs = HashMap::new();
        for group in response.attributes().groups_of(DelimiterTag::JobAttributes) {
            let name = group.get("job-name").map(|a| a.value().to_string());
            let id = group
                .get("job-id")
                .and_then(|a| a.value().as_integer().copied());
            let state = group
                .get("job-state")
                .and_then(|a| a.value().as_enum().copied());
            if let (Some(name), Some(id), Some(state)) = (name, id, state) {
                // Several jobs of one name only if someone resubmitted by hand: keep the first.
                jobs.entry(name).or_insert((id, state));
            }
        }
        Ok(jobs)
    }

    async fn print_one(&self, job: &JobSpec, name: &str, image: Image) -> Result<i32, DeviceError> {
        let format = document_format(&image.name);
        let copies = i32::try_from(job.copies)
            .map_err(|_| DeviceError::Refused(format!("{} copies", job.copies)))?;
        let operation = IppOperationBuilder::print_job(
            self.uri.clone(),
            IppPayload::new(std::io::Cursor::new(image.bytes)),
        )
        .user_name(USER_NAME)
        .job_title(name)
        .document_format(format)
        .attribute(attribute("copies", IppValue::Integer(copies))?)
        .attribute(keyword("media", &job.media)?)
        .build()
        .map_err(|error| DeviceError::Refused(format!("Print-Job: {error}")))?;
        let response = self.send(operation.into()).await?;
        job_attribute(&response, "job-id")
            .and_then(|value| value.as_integer().copied())
            .ok_or_else(|| DeviceError::Unavailable("Print-Job answered no job-id".into()))
    }

    /// (job-state, a readable reason) of one device job.
    async fn job_state(&self, device_job: i32) -> Result<(i32, String), DeviceError> {
        let operation = IppOperationBuilder::get_job_attributes(self.uri.clone(), device_job)
            .user_name(USER_NAME)
            .build()
            .map_err(|error| DeviceError::Refused(format!("Get-Job-Attributes: {error}")))?;
        let response = self.send(operation.into()).await?;
        let state = job_attribute(&response, "job-state")
            .and_then(|value| value.as_enum().copied())
            .ok_or_else(|| DeviceError::Unavailable("no job-state in the answer".into()))?;
        let message = job_attribute(&response, "job-state-message").map(|v| v.to_string());
        let reasons = job_attribute(&response, "job-state-reasons").map(|v| v.to_string());
        let reason = [message, reasons].into_iter().flatten().collect::<Vec<_>>();
        Ok((state, reason.join("; ")))
    }

    /// Polls one device job until it is finished.
    async fn wait_one(&self, device_job: i32) -> Result<Outcome, DeviceError> {
        loop {
            let (state, reason) = self.job_state(device_job).await?;
            let reason = format!("IPP job {device_job}: {reason}");
            match state {
                JOB_STATE_COMPLETED => return Ok(Outcome::Completed { detail: reason }),
                JOB_STATE_ABORTED | JOB_STATE_CANCELED => return Ok(Outcome::Failed { reason }),
                _ => tokio::time::sleep(self.poll_interval).await,
            }
        }
    }
}

fn keyword(name: &str, value: &str) -> Result<IppAttribute, DeviceError> {
    let value = IppValue::new_keyword(value)
        .map_err(|error| DeviceError::Refused(format!("{name} {value:?}: {error}")))?;
    attribute(name, value)
}

fn attribute(name: &str, value: IppValue) -> Result<IppAttribute, DeviceError> {
    IppAttribute::with_name(name, value)
        .map_err(|error| DeviceError::Refused(format!("attribute {name}: {error}")))
}

fn job_attribute<'a>(response: &'a IppRequestResponse, name: &str) -> Option<&'a IppValue> {
    response
        .attributes()
        .groups_of(DelimiterTag::JobAttributes)
        .next()
        .and_then(|group| group.get(name))
        .map(|attribute| attribute.value())
}

#[async_trait]
impl Device for IppPrinter {
    fn describe(&self) -> String {
        self.uri.to_string()
    }

    async fn find(&self, job: &JobSpec) -> Result<Found, DeviceError> {
        let jobs = self.jobs_by_name().await?;
        let device_jobs = (0..job.files.len())
            .map(|index| jobs.get(&device_job_name(job, index)).map(|(id, _)| *id))
            .collect();
        Ok(Found { device_jobs })
    }

    async fn submit(
        &self,
        job: &JobSpec,
        found: &Found,
        images: Vec<Image>,
    ) -> Result<Found, DeviceError> {
        let mut found = found.clone();
        for (index, image) in found.missing().into_iter().zip(images) {
            let device_job = self
                .print_one(job, &device_job_name(job, index), image)
                .await?;
            found.device_jobs[index] = Some(device_job);
        }
        Ok(found)
    }

    async fn wait(&self, _job: &JobSpec, found: &Found) -> Result<Outcome, DeviceError> {
        let mut details = Vec::new();
        for device_job in found.device_jobs.iter().flatten() {
            match self.wait_one(*device_job).await? {
                Outcome::Completed { detail } => details.push(detail),
                failed @ Outcome::Failed { .. } => return Ok(failed),
            }
        }
        Ok(Outcome::Completed {
            detail: details.join("; "),
        })
    }
}
