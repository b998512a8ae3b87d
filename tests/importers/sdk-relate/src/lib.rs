//! Relations to one and to many rows of other tables, on a posts file:
//! - `Author` names a row of `sdk_authors` by e-mail, and its id is stored; an unknown
//!   author fails the row;
//! - `Tags` lists tag names separated by `|`, stored as the JSON array of their ids in
//!   `sdk_tags`, whose missing rows are created;
//! - `Reviewers` lists author e-mails separated by `|`, stored the same way, and an
//!   unknown reviewer fails the row.
//!
//! The related tables must exist: the host creates missing rows, not missing tables.

use ingest_importer_sdk::{Column, Importer, IngestConfig, Relation};

pub struct SdkRelate;

impl Importer for SdkRelate {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-relate")
            .name("SDK relations")
            .target("sdk_posts")
            .keyed_by("title")
            .column(Column::text("title").from("Title"))
            .column(
                Column::integer("author_id")
                    .from("Author")
                    .required()
                    .relate(Relation::new("sdk_authors", "email")),
            )
            .column(
                Column::text("tag_ids")
                    .from("Tags")
                    .relate_many(Relation::new("sdk_tags", "name").create_missing(), "|"),
            )
            .column(
                Column::text("reviewer_ids")
                    .from("Reviewers")
                    .relate_many(Relation::new("sdk_authors", "email"), "|"),
            )
    }
}

ingest_importer_sdk::export_importer!(SdkRelate);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::{Harness, RelateRequest};
    use ingest_importer_sdk::Value;

    const POSTS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/posts.csv");

    /// Stands in for the host: authors 1 and 2 exist, and tags are created with ids from
    /// 1 in the order requested, as the host does for an empty `sdk_tags` table.
    fn relate(request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
        let ids = match request.table.as_str() {
            "sdk_authors" => request
                .values
                .iter()
                .map(|email| match email.as_str() {
                    "ada@example.org" => Some(1),
                    "grace@example.org" => Some(2),
                    _ => None,
                })
                .collect(),
            _ => (1..=request.values.len() as i64).map(Some).collect(),
        };
        Ok(ids)
    }

    #[test]
    fn posts_relate_to_authors_and_tags() {
        let harness = Harness::new(SdkRelate::config()).with_relate(relate);
        let report = harness.run_csv(POSTS_CSV).unwrap();

        assert_eq!(report.get(0, "author_id"), Some(&Value::Integer(1)));
        assert_eq!(report.get(0, "tag_ids"), Some(&Value::text("[1,3]")));
        assert_eq!(report.get(0, "reviewer_ids"), Some(&Value::text("[2]")));
        assert_eq!(report.get(1, "tag_ids"), Some(&Value::text("[3,2]")));
        assert_eq!(report.get(1, "reviewer_ids"), Some(&Value::text("[1,2]")));

        assert_eq!(
            report.failure(2).unwrap().messages("author_id"),
            ["The selected author id is invalid."]
        );
        assert_eq!(
            report.failure(3).unwrap().messages("reviewer_ids"),
            ["The selected reviewer ids is invalid: \"zed@example.org\" not found."]
        );

        let tags = harness
            .relate_requests()
            .into_iter()
            .find(|request| request.table == "sdk_tags")
            .unwrap();
        assert_eq!(tags.values, ["intro", "rust", "welcome"], "no tags for the rows that failed");
        assert!(tags.create_missing);
    }
}
