//! From a paid order to the jobs that print it: which lines print, on which media, how many
//! copies of which files, under which job id.

use uuid::Uuid;

use crate::config::PrintRule;
use crate::limits::{COPIES_MAX, IMAGES_PER_JOB_MAX};
use crate::model::{OrderLine, OrderView};

/// Namespace of job ids. Fixed forever: changing it would make every past job look new and
/// print it again after an upgrade.
pub const JOB_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c0d_1a3e_8f4b_4e1d_9a57_3c2b_7e10_f00d);

/// One device job: one order line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    pub job_id: Uuid,
    pub order_id: Uuid,
    pub line: u32,
    /// IPP media keyword.
    pub media: String,
    /// Copies of each image.
    pub copies: u32,
    /// Order file names, in order.
    pub files: Vec<String>,
}

/// Why a line cannot become a job; reported as the job's failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("line {line} has no file to print")]
    NoFiles { line: u32 },
    #[error("line {line} has {count} files, more than {IMAGES_PER_JOB_MAX}")]
    TooManyFiles { line: u32, count: usize },
    #[error("line {line} needs {copies} copies, more than {COPIES_MAX}")]
    TooManyCopies { line: u32, copies: u64 },
    #[error("line {line} names file {name}, which the order does not have")]
    UnknownFile { line: u32, name: String },
}

/// The job id of an order line: the same on every run, so that a restart finds the job again
/// instead of making a new one.
pub fn job_id(order_id: Uuid, line: u32) -> Uuid {
    Uuid::new_v5(&JOB_ID_NAMESPACE, format!("{order_id}/{line}").as_bytes())
}

/// The rule for a line: by SKU first, then by category (its key or its id).
pub fn rule_for<'a>(rules: &'a [PrintRule], line: &OrderLine) -> Option<&'a PrintRule> {
    let category_id = line.category_id.map(|id| id.to_string());
    let matches_category = |category: &str| {
        (!line.category_key.is_empty() && category == line.category_key)
            || category_id.as_deref() == Some(category)
    };
    rules
        .iter()
        .find(|rule| rule.sku.as_deref() == Some(line.sku.as_str()))
        .or_else(|| {
            rules
                .iter()
                .find(|rule| rule.category.as_deref().is_some_and(matches_category))
        })
}

/// The job of line `index` under `job_id`, or `None` when the line is not a print (no rule).
pub fn plan_line(
    rules: &[PrintRule],
    order: &OrderView,
    index: u32,
    job_id: Uuid,
) -> Option<Result<JobSpec, PlanError>> {
    let line = order.lines.get(index as usize)?;
    let rule = rule_for(rules, line)?;
    Some(build_job(rule, order, line, index, job_id))
}

fn build_job(
    rule: &PrintRule,
    order: &OrderView,
    line: &OrderLine,
    index: u32,
    job_id: Uuid,
) -> Result<JobSpec, PlanError> {
    let files = if line.files.is_empty() {
        order.files.clone()
    } else {
        line.files.clone()
    };
    if files.is_empty() {
        return Err(PlanError::NoFiles { line: index });
    }
    if files.len() > IMAGES_PER_JOB_MAX {
        return Err(PlanError::TooManyFiles {
            line: index,
            count: files.len(),
        });
    }
    if let Some(name) = files.iter().find(|name| !order.files.contains(name)) {
        return Err(PlanError::UnknownFile {
            line: index,
            name: name.clone(),
        });
    }
    let copies = u64::from(line.quantity) * u64::from(rule.copies_per_unit);
    if copies == 0 || copies > u64::from(COPIES_MAX) {
        return Err(PlanError::TooManyCopies {
            line: index,
            copies,
        });
    }
    Ok(JobSpec {
        job_id,
        order_id: order.order_id,
        line: index,
        media: rule.media.clone(),
        copies: copies as u32,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<PrintRule> {
        vec![
            PrintRule {
                sku: Some("PRINT-13X18".into()),
                category: None,
                media: "na_5x7_5x7in".into(),
                copies_per_unit: 1,
            },
            PrintRule {
                sku: None,
                category: Some("tirages".into()),
                media: "photo_4x6_4x6in".into(),
                copies_per_unit: 2,
            },
        ]
    }

    fn line(sku: &str, category: &str, quantity: u32, files: &[&str]) -> OrderLine {
        OrderLine {
            sku: sku.into(),
            product_name: String::new(),
            category_key: category.into(),
            category_id: None,
            quantity,
            files: files.iter().map(|name| name.to_string()).collect(),
        }
    }

    fn order(lines: Vec<OrderLine>) -> OrderView {
        OrderView {
            order_id: Uuid::from_u128(7),
            lines,
            files: vec!["a.jpg".into(), "b.jpg".into()],
        }
    }

    #[test]
    fn job_ids_are_stable_and_distinct_per_line() {
        // Proves a restart derives the same job id for the same line, and lines never share one.
        let order_id = Uuid::from_u128(7);
        assert_eq!(job_id(order_id, 0), job_id(order_id, 0));
        assert_ne!(job_id(order_id, 0), job_id(order_id, 1));
        assert_ne!(job_id(order_id, 0), job_id(Uuid::from_u128(8), 0));
    }

    #[test]
    fn sku_rules_win_over_categories_and_quantity_scales_copies() {
        // Proves the mapping: SKU first, then category; copies = quantity x copies_per_unit.
        let order = order(vec![
            line("PRINT-13X18", "tirages", 3, &["a.jpg"]),
            line("PRINT-10X15", "tirages", 3, &[]),
            line("GUIDE", "livres", 1, &[]),
        ]);
        let first = plan_line(&rules(), &order, 0, job_id(order.order_id, 0));
        let first = first.expect("printable").expect("valid");
        assert_eq!((first.media.as_str(), first.copies), ("na_5x7_5x7in", 3));
        assert_eq!(first.files, vec!["a.jpg".to_string()]);
        let second = plan_line(&rules(), &order, 1, job_id(order.order_id, 1));
        let second = second.expect("printable").expect("valid");
        assert_eq!(
            (second.media.as_str(), second.copies),
            ("photo_4x6_4x6in", 6)
        );
        assert_eq!(
            second.files.len(),
            2,
            "a line without files prints all of them"
        );
        assert!(plan_line(&rules(), &order, 2, Uuid::nil()).is_none());
        assert!(plan_line(&rules(), &order, 3, Uuid::nil()).is_none());
    }

    #[test]
    fn impossible_lines_are_errors_not_panics() {
        // Proves unknown files and copy counts beyond three digits become plan errors.
        let order = order(vec![
            line("PRINT-13X18", "", 1, &["missing.jpg"]),
            line("PRINT-13X18", "", 1_000, &[]),
        ]);
        let unknown = plan_line(&rules(), &order, 0, Uuid::nil()).expect("printable");
        assert!(matches!(unknown, Err(PlanError::UnknownFile { .. })));
        let copies = plan_line(&rules(), &order, 1, Uuid::nil()).expect("printable");
        assert!(matches!(copies, Err(PlanError::TooManyCopies { .. })));
    }
}
