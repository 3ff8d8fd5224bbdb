//! Scheduled reports: the schedule list and the sent periods.

use crate::error::ProjectionResult;
use crate::keys::{id_key, key, Table};
use crate::report_schedules::{delivery_suffix, ReportDeliveryView, ReportScheduleView};
use crate::store::WriteSet;
use comptoir_domain::report_schedule::ReportScheduleEvent;

pub(crate) fn apply(writes: &mut WriteSet, event: &ReportScheduleEvent) -> ProjectionResult<()> {
    match event {
        ReportScheduleEvent::ReportScheduleCreated {
            shop_id,
            schedule_id,
            settings,
            created_at,
        } => {
            let view = ReportScheduleView {
                shop_id: *shop_id,
                schedule_id: *schedule_id,
                settings: settings.clone(),
                created_at: *created_at,
                updated_at: *created_at,
                deleted_at: None,
            };
            writes.put(id_key(Table::ReportSchedule, *shop_id, *schedule_id), &view)
        }
        ReportScheduleEvent::ReportScheduleUpdated {
            shop_id,
            schedule_id,
            settings,
            updated_at,
        } => {
            let row = id_key(Table::ReportSchedule, *shop_id, *schedule_id);
            let Some(mut view) = writes.get::<ReportScheduleView>(&row)? else {
                return Ok(());
            };
            view.settings = settings.clone();
            view.updated_at = *updated_at;
            writes.put(row, &view)
        }
        ReportScheduleEvent::ReportScheduleDeleted {
            shop_id,
            schedule_id,
            deleted_at,
        } => {
            let row = id_key(Table::ReportSchedule, *shop_id, *schedule_id);
            let Some(mut view) = writes.get::<ReportScheduleView>(&row)? else {
                return Ok(());
            };
            view.deleted_at = Some(*deleted_at);
            view.updated_at = *deleted_at;
            writes.put(row, &view)
        }
        ReportScheduleEvent::ScheduledReportSent {
            shop_id,
            schedule_id,
            period,
            recipients,
            sent_at,
        } => {
            let view = ReportDeliveryView {
                schedule_id: *schedule_id,
                period: *period,
                recipients: recipients.clone(),
                sent_at: *sent_at,
            };
            let row = key(
                Table::ReportDelivery,
                *shop_id,
                &delivery_suffix(*schedule_id, period),
            );
            writes.put(row, &view)
        }
    }
}
