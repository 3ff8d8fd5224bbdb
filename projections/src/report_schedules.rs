//! Read models of scheduled reports: each shop's schedules and the periods each one sent.
//!
//! Deleted schedules keep their row (marked `deleted_at`) so their deliveries stay readable;
//! the queries leave them out of the list.

use crate::error::ProjectionResult;
use crate::keys::{id_key, shop_prefix, Table};
use crate::paging::{Page, PageRequest};
use crate::store::{self, decode_value, ListRange};
use crate::Projections;
use chrono::{DateTime, Utc};
use comptoir_domain::report_schedule::{ReportPeriod, ReportSettings};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Schedules the scheduler reads in one pass, over every shop: a bound on one pass's work.
pub const REPORT_SCHEDULES_SCAN_MAX: usize = 10_000;

/// A schedule as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportScheduleView {
    pub shop_id: Uuid,
    pub schedule_id: Uuid,
    #[serde(flatten)]
    pub settings: ReportSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once deleted; such rows are left out of the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One period a schedule sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDeliveryView {
    pub schedule_id: Uuid,
    #[serde(flatten)]
    pub period: ReportPeriod,
    pub recipients: Vec<String>,
    pub sent_at: DateTime<Utc>,
}

/// The key suffix of a delivery: schedule, then the period's days (so they list oldest first).
pub(crate) fn delivery_suffix(schedule_id: Uuid, period: &ReportPeriod) -> Vec<u8> {
    let mut suffix = schedule_id.as_bytes().to_vec();
    suffix.extend_from_slice(&crate::usage::day_bytes(period.starts_on));
    suffix.extend_from_slice(&crate::usage::day_bytes(period.ends_before));
    suffix
}

impl Projections {
    /// The shop's schedules that are not deleted, by id.
    pub fn report_schedules(
        &self,
        shop_id: Uuid,
        page: &PageRequest,
    ) -> ProjectionResult<Page<ReportScheduleView>> {
        let range = ListRange {
            list_tag: Table::ReportSchedule as u8,
            prefix: shop_prefix(Table::ReportSchedule, shop_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, |view: ReportScheduleView| {
            view.deleted_at.is_none().then_some(view)
        })
    }

    /// One schedule of the shop, deleted ones included (check `deleted_at`).
    pub fn report_schedule(
        &self,
        shop_id: Uuid,
        schedule_id: Uuid,
    ) -> ProjectionResult<Option<ReportScheduleView>> {
        store::get(
            &self.tree(),
            &id_key(Table::ReportSchedule, shop_id, schedule_id),
        )
    }

    /// The periods one schedule sent, oldest first.
    pub fn report_deliveries(
        &self,
        shop_id: Uuid,
        schedule_id: Uuid,
        page: &PageRequest,
    ) -> ProjectionResult<Page<ReportDeliveryView>> {
        let range = ListRange {
            list_tag: Table::ReportDelivery as u8,
            prefix: id_key(Table::ReportDelivery, shop_id, schedule_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, Some)
    }

    /// (shop, schedule) of every live schedule of every shop, at most
    /// [`REPORT_SCHEDULES_SCAN_MAX`]: what the scheduler walks.
    pub fn live_report_schedules(&self) -> ProjectionResult<Vec<(Uuid, Uuid)>> {
        let mut live = Vec::new();
        for entry in self
            .tree()
            .scan_prefix([Table::ReportSchedule as u8])
            .take(REPORT_SCHEDULES_SCAN_MAX)
        {
            let (key, value) = entry?;
            let view: ReportScheduleView = decode_value(&key, &value)?;
            if view.deleted_at.is_none() {
                live.push((view.shop_id, view.schedule_id));
            }
        }
        Ok(live)
    }
}
