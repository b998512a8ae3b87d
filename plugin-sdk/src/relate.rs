//! Batched lookups of related rows: one `relate` host call per relation and chunk.

use std::collections::BTreeMap;

use crate::bindings::ingest::importer::host::RelateRequest;
use crate::host::Host;
use crate::mapping::{RowState, fill_attribute};
use crate::pipeline::Pipeline;
use crate::value::Value;

const UNKNOWN_MESSAGE: &str = "The selected :attribute is invalid.";

/// Replaces the value of every relation column with the id of the row it names.
///
/// Only rows without validation errors are looked up, so that a relation that creates
/// missing rows creates none for a row that already failed. Failed rows get null. A
/// record hook runs later and can still fail a row whose related rows were created.
/// A value that matches no row fails its row with "The selected … is invalid."
pub(crate) fn relate_values(pipeline: &Pipeline, host: &dyn Host, states: &mut [RowState<'_>]) -> Result<(), String> {
    // Plain lookups go first: a row they fail is then left out of the lookups that create
    // rows.
    let mut relations: Vec<_> = pipeline
        .columns()
        .iter()
        .enumerate()
        .filter_map(|(index, column)| column.relation.as_ref().map(|relation| (index, column, relation)))
        .collect();
    relations.sort_by_key(|(_, _, relation)| relation.create_missing);

    for (index, column, relation) in relations {
        let mut ids: BTreeMap<String, Option<i64>> = BTreeMap::new();
        for state in states.iter().filter(|state| state.is_clean()) {
            if let RowState::Mapped { values, .. } = state
                && let Some(text) = values[index].to_text()
            {
                ids.entry(text.into_owned()).or_insert(None);
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
            let RowState::Mapped { values, errors } = state else {
                continue;
            };
            if !clean {
                values[index] = Value::Null;
                continue;
            }
            let Some(found) = values[index]
                .to_text()
                .map(|text| ids.get(text.as_ref()).copied().flatten())
            else {
                continue;
            };
            match found {
                Some(id) => values[index] = Value::Integer(id),
                None => {
                    values[index] = Value::Null;
                    errors.add(column.name(), fill_attribute(UNKNOWN_MESSAGE, &column.label()));
                }
            }
        }
    }
    Ok(())
}
