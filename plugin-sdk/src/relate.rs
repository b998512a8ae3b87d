//! Batched lookups of related rows: one `relate` host call per relation and chunk.

use std::collections::BTreeMap;

use crate::bindings::ingest::importer::host::RelateRequest;
use crate::config::Relation;
use crate::host::Host;
use crate::mapping::{RowState, fill_attribute};
use crate::pipeline::Pipeline;
use crate::value::Value;

const UNKNOWN_MESSAGE: &str = "The selected :attribute is invalid.";

/// Replaces the value of every relation column with the id of the row it names, or, for
/// a [`Column::relate_many`](crate::Column::relate_many) column, with the JSON array of
/// the ids of the rows its parts name.
///
/// Each target's relations look up the values of the rows routed to that target. Only
/// rows without validation errors are looked up, so that a relation that creates
/// missing rows creates none for a row that already failed. Failed rows get null. A
/// record hook runs later and can still fail a row whose related rows were created.
/// A value that matches no row fails its row with "The selected … is invalid."
pub(crate) fn relate_values(pipeline: &Pipeline, host: &dyn Host, states: &mut [RowState<'_>]) -> Result<(), String> {
    // Plain lookups go first: a row they fail is then left out of the lookups that create
    // rows.
    let mut relations: Vec<_> = pipeline
        .targets()
        .iter()
        .enumerate()
        .flat_map(|(target, declared)| {
            declared.columns().iter().enumerate().filter_map(move |(index, column)| {
                column.relation.as_ref().map(|relation| (target, index, column, relation))
            })
        })
        .collect();
    relations.sort_by_key(|(_, _, _, relation)| relation.create_missing);

    for (target, index, column, relation) in relations {
        let mut ids: BTreeMap<String, Option<i64>> = BTreeMap::new();
        for state in states.iter().filter(|state| state.is_clean()) {
            if let RowState::Mapped { target: routed, values, .. } = state
                && *routed == target
            {
                for key in lookup_keys(&values[index], relation) {
                    ids.entry(key).or_insert(None);
                }
            }
        }
        if ids.is_empty() {
            continue;
        }

        let request = RelateRequest {
            table: relation.table.clone(),
            column: relation.column.clone(),
            values: ids.keys().cloned().collect(),
            create_missing: relation.create_missing,
        };
        let found = host.relate(&request).map_err(|error| {
            format!(
                "Looking up {} values in {}.{} failed: {error}",
                column.name(),
                relation.table,
                relation.column
            )
        })?;
        if found.len() != request.values.len() {
            return Err(format!(
                "The host returned {} ids for {} values of {}.{}.",
                found.len(),
                request.values.len(),
                relation.table,
                relation.column
            ));
        }
        for (id, slot) in found.into_iter().zip(ids.values_mut()) {
            *slot = id;
        }

        for state in states.iter_mut() {
            let clean = state.is_clean();
            let RowState::Mapped { target: routed, values, errors } = state else {
                continue;
            };
            if *routed != target {
                continue;
            }
            if !clean {
                values[index] = Value::Null;
                continue;
            }
            if values[index].is_null() {
                continue;
            }
            let keys = lookup_keys(&values[index], relation);
            let related = match &relation.separator {
                None => keys
                    .first()
                    .and_then(|key| ids.get(key).copied().flatten())
                    .map(Value::Integer)
                    .ok_or_else(|| UNKNOWN_MESSAGE.to_owned()),
                Some(_) => related_id_list(&keys, &ids),
            };
            match related {
                Ok(value) => values[index] = value,
                Err(message) => {
                    values[index] = Value::Null;
                    errors.add(column.name(), fill_attribute(&message, &column.label()));
                }
            }
        }
    }
    Ok(())
}

/// Returns the texts a relation column looks up for `value`: its text for a plain
/// relation, and its trimmed, non-empty, distinct parts, in order, for a relation to many.
fn lookup_keys(value: &Value<'_>, relation: &Relation) -> Vec<String> {
    let Some(text) = value.to_text() else {
        return Vec::new();
    };
    let Some(separator) = &relation.separator else {
        return vec![text.into_owned()];
    };
    let mut keys: Vec<String> = Vec::new();
    for part in text.split(separator.as_str()).map(str::trim) {
        if !part.is_empty() && !keys.iter().any(|key| key == part) {
            keys.push(part.to_owned());
        }
    }
    keys
}

/// Returns the ids of the rows `keys` name as a JSON array of integers, or the validation
/// message naming the keys that match no row. Keys without parts give null.
fn related_id_list(keys: &[String], ids: &BTreeMap<String, Option<i64>>) -> Result<Value<'static>, String> {
    if keys.is_empty() {
        return Ok(Value::Null);
    }
    let mut related: Vec<i64> = Vec::with_capacity(keys.len());
    let mut unknown: Vec<String> = Vec::new();
    for key in keys {
        match ids.get(key).copied().flatten() {
            Some(id) if !related.contains(&id) => related.push(id),
            Some(_) => {}
            None => unknown.push(format!("{key:?}")),
        }
    }
    if !unknown.is_empty() {
        return Err(format!("The selected :attribute is invalid: {} not found.", unknown.join(", ")));
    }
    let list: Vec<String> = related.iter().map(i64::to_string).collect();
    Ok(Value::text(format!("[{}]", list.join(","))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many(separator: &str) -> Relation {
        Relation {
            separator: Some(separator.to_owned()),
            ..Relation::new("tags", "name")
        }
    }

    #[test]
    fn keys_of_a_relation_to_many() {
        assert_eq!(lookup_keys(&Value::text(" red, blue,,red ,"), &many(",")), ["red", "blue"]);
        assert_eq!(lookup_keys(&Value::text("a | b"), &many("|")), ["a", "b"]);
        assert!(lookup_keys(&Value::text(" , "), &many(",")).is_empty());
        assert!(lookup_keys(&Value::Null, &many(",")).is_empty());
        assert_eq!(lookup_keys(&Value::text("a, b"), &Relation::new("tags", "name")), ["a, b"]);
        assert_eq!(lookup_keys(&Value::Integer(7), &Relation::new("tags", "id")), ["7"]);
    }

    #[test]
    fn id_lists_are_json_arrays() {
        let ids = BTreeMap::from([
            ("red".to_owned(), Some(3)),
            ("blue".to_owned(), Some(7)),
            ("crimson".to_owned(), Some(3)),
            ("teal".to_owned(), None),
        ]);
        let keys = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        assert_eq!(related_id_list(&keys(&["blue", "red"]), &ids), Ok(Value::text("[7,3]")));
        assert_eq!(related_id_list(&keys(&["red", "crimson"]), &ids), Ok(Value::text("[3]")));
        assert_eq!(related_id_list(&[], &ids), Ok(Value::Null));
        assert_eq!(
            related_id_list(&keys(&["red", "teal", "purple"]), &ids),
            Err("The selected :attribute is invalid: \"teal\", \"purple\" not found.".to_owned())
        );
    }
}
