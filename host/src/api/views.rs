//! JSON shapes of the API, as Laravel Ingest's resources render them.

use serde_json::{Value, json};

use crate::store::rows::StoredRow;
use crate::store::runs::Run;

/// Renders a run as the `data` of a response, with `rows` only when they are given.
pub fn run(run: &Run, rows: Option<&[StoredRow]>) -> Value {
    let summary = run.summary.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok());
    let mut view = json!({
        "id": run.id,
        "importer": run.importer,
        "importer_version": run.importer_version,
        "status": run.status,
        "user_id": run.user_id,
        "original_filename": run.original_filename,
        "dry_run": run.dry_run,
        "retried_from_run_id": run.retried_from_run_id,
        "progress": {
            // Laravel's total_rows starts at 0 until the file has been counted.
            "total": run.total_rows.unwrap_or(0),
            "processed": run.processed_rows,
            "successful": run.successful_rows,
            "failed": run.failed_rows,
            "skipped": run.skipped_rows,
        },
        "summary": summary,
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
    });
    if let Some(rows) = rows {
        view["rows"] = rows.iter().map(row).collect();
    }
    view
}

pub fn row(row: &StoredRow) -> Value {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    json!({
        "row_number": row.row_number,
        "status": row.status,
        "data": parse(&row.data),
        "errors": row.errors.as_deref().map(parse),
    })
}

/// Wraps `data` in the shape of Laravel's length-aware paginator. `path` is the list's
/// URL without a query, and `url` returns the URL of a page.
pub fn page(data: Vec<Value>, path: &str, url: impl Fn(i64) -> String, current: i64, per_page: i64, total: i64) -> Value {
    let last = ((total + per_page - 1) / per_page).max(1);
    let from = if data.is_empty() { Value::Null } else { ((current - 1) * per_page + 1).into() };
    let to = if data.is_empty() { Value::Null } else { ((current - 1) * per_page + data.len() as i64).into() };
    let previous = (current > 1).then(|| url(current - 1));
    let next = (current < last).then(|| url(current + 1));

    let mut links = vec![json!({ "url": previous, "label": "&laquo; Previous", "active": false })];
    links.extend((1..=last).map(|page| json!({ "url": url(page), "label": page.to_string(), "active": page == current })));
    links.push(json!({ "url": next, "label": "Next &raquo;", "active": false }));

    json!({
        "data": data,
        "links": { "first": url(1), "last": url(last), "prev": previous, "next": next },
        "meta": {
            "current_page": current,
            "from": from,
            "last_page": last,
            "links": links,
            "path": path,
            "per_page": per_page,
            "to": to,
            "total": total,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_follow_laravel() {
        let view = page(vec![json!(1), json!(2)], "http://h/api", |page| format!("http://h/api?page={page}"), 2, 2, 5);
        assert_eq!(view["links"]["prev"], "http://h/api?page=1");
        assert_eq!(view["links"]["next"], "http://h/api?page=3");
        assert_eq!(view["links"]["last"], "http://h/api?page=3");
        assert_eq!(view["meta"]["from"], 3);
        assert_eq!(view["meta"]["to"], 4);
        assert_eq!(view["meta"]["last_page"], 3);
        assert_eq!(view["meta"]["links"].as_array().unwrap().len(), 5);
        assert_eq!(view["meta"]["links"][2]["active"], true);
    }

    #[test]
    fn empty_page_has_null_bounds() {
        let view = page(vec![], "http://h/api", |page| format!("http://h/api?page={page}"), 1, 15, 0);
        assert_eq!(view["meta"]["from"], Value::Null);
        assert_eq!(view["links"]["next"], Value::Null);
        assert_eq!(view["meta"]["last_page"], 1);
    }
}
