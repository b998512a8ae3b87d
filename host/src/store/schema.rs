//! Diesel's view of the host's tables; it mirrors `migrations/sqlite` and
//! `migrations/postgres`, which define the same columns.

diesel::table! {
    ingest_runs (id) {
        id -> BigInt,
        importer -> Text,
        importer_version -> Nullable<Text>,
        status -> Text,
        user_id -> Nullable<BigInt>,
        original_filename -> Nullable<Text>,
        stored_path -> Nullable<Text>,
        dry_run -> Bool,
        retried_from_run_id -> Nullable<BigInt>,
        headers -> Nullable<Text>,
        total_rows -> Nullable<BigInt>,
        processed_rows -> BigInt,
        successful_rows -> BigInt,
        failed_rows -> BigInt,
        skipped_rows -> BigInt,
        next_row -> BigInt,
        cancel_requested -> Bool,
        error -> Nullable<Text>,
        summary -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Text>,
        created_at -> Text,
        started_at -> Nullable<Text>,
        completed_at -> Nullable<Text>,
        claims -> BigInt,
    }
}

diesel::table! {
    ingest_rows (id) {
        id -> BigInt,
        run_id -> BigInt,
        row_number -> BigInt,
        status -> Text,
        data -> Text,
        errors -> Nullable<Text>,
    }
}

diesel::table! {
    ingest_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Nullable<Text>,
        token_hash -> Text,
        created_at -> Text,
        last_used_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::joinable!(ingest_rows -> ingest_runs (run_id));
diesel::allow_tables_to_appear_in_same_query!(ingest_runs, ingest_rows, ingest_tokens);
