//! Which tables importers may write.

use super::TargetError;
use crate::store::HOST_TABLES;

#[derive(Debug, Clone, Default)]
pub struct TablePolicy {
    /// Table names or `*` patterns; empty allows every table but the host's own.
    pub allowed: Vec<String>,
    pub create_missing: bool,
}

impl TablePolicy {
    pub fn check(&self, table: &str) -> Result<(), TargetError> {
        let lower = table.to_ascii_lowercase();
        // `sqlite_` and `pg_` name the backends' own catalog tables.
        if HOST_TABLES.contains(&lower.as_str()) || lower.starts_with("sqlite_") || lower.starts_with("pg_") {
            return Err(TargetError::HostTable(table.to_owned()));
        }
        if self.allowed.is_empty() || self.allowed.iter().any(|pattern| matches_pattern(pattern, &lower)) {
            Ok(())
        } else {
            Err(TargetError::NotAllowed(table.to_owned()))
        }
    }
}

/// Matches a table name against a pattern where `*` stands for any run of characters.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_tables_are_refused_whatever_the_list() {
        let policy = TablePolicy { allowed: vec!["*".into()], create_missing: true };
        assert!(matches!(policy.check("ingest_runs"), Err(TargetError::HostTable(_))));
        assert!(matches!(policy.check("INGEST_TOKENS"), Err(TargetError::HostTable(_))));
        assert!(matches!(policy.check("sqlite_master"), Err(TargetError::HostTable(_))));
        assert!(matches!(policy.check("pg_class"), Err(TargetError::HostTable(_))));
    }

    #[test]
    fn empty_list_allows_any_other_table() {
        let policy = TablePolicy::default();
        assert!(policy.check("airports").is_ok());
    }

    #[test]
    fn patterns_match_names() {
        let policy = TablePolicy { allowed: vec!["import_*".into(), "planes".into(), "a*b*c".into()], create_missing: true };
        assert!(policy.check("import_users").is_ok());
        assert!(policy.check("planes").is_ok());
        assert!(policy.check("axxbyyc").is_ok());
        assert!(matches!(policy.check("airports"), Err(TargetError::NotAllowed(_))));
        assert!(matches!(policy.check("acb"), Err(TargetError::NotAllowed(_))));
    }
}
