//! The `file` field of `POST /upload/{slug}`: which multipart bodies carry exactly one
//! uploaded file, and the status and message of each that does not.
//!
//! The messages of a missing or wrong file follow Laravel's validation messages, and
//! every rejection except a body over the size limit is a 422 with `errors.file`, as
//! Laravel's validator responds. PHP reads a multipart body that ends early as a failed
//! upload, which Laravel also reports as a 422 on `file`.

use std::path::Path;

use rocket::data::Limits;
use rocket::form::error::ErrorKind;
use rocket::form::{DataField, Errors, FromFormField, ValueField};
use rocket::fs::FileName;
use tempfile::{NamedTempFile, TempPath};
use tokio::io::BufWriter;

use super::errors::ApiError;

/// One multipart part named `file`.
pub enum UploadPart<'r> {
    File(UploadedFile<'r>),
    /// A text field, which carries no file even when its value names one.
    Text,
}

/// An uploaded file in Rocket's `temp_dir`, which is removed when the value is dropped
/// unless it was moved into storage first.
pub struct UploadedFile<'r> {
    name: Option<&'r FileName>,
    path: TempPath,
    len: u64,
}

/// Bytes written to the file at a time. Rocket's `TempFile` writes through an 8 KiB
/// buffer, and tokio hands each write of a file to its blocking pool, so a 140 MB upload
/// took about 17,000 trips between threads and 0.64 s on loopback.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

impl UploadedFile<'_> {
    /// Returns the file name the client sent, as it sent it.
    pub fn raw_name(&self) -> Option<&FileName> {
        self.name
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Moves the file to `destination`, which must be on the file system of `temp_dir`.
    pub async fn persist_to(self, destination: &Path) -> std::io::Result<()> {
        let (path, destination) = (self.path, destination.to_owned());
        tokio::task::spawn_blocking(move || path.persist(destination).map_err(|error| error.error))
            .await
            .map_err(std::io::Error::other)?
    }
}

#[rocket::async_trait]
impl<'r> FromFormField<'r> for UploadPart<'r> {
    fn from_value(_field: ValueField<'r>) -> rocket::form::Result<'r, Self> {
        Ok(UploadPart::Text)
    }

    /// Streams the part into a new file of `temp_dir`, as Rocket's `TempFile` does,
    /// with the same size limit and the same errors.
    async fn from_data(field: DataField<'r, '_>) -> rocket::form::Result<'r, Self> {
        let limit = field.request.limits().get("file").unwrap_or(Limits::FILE);
        let temp_dir = field.request.rocket().config().temp_dir.relative();
        let created = tokio::task::spawn_blocking(move || NamedTempFile::new_in(temp_dir))
            .await
            .map_err(std::io::Error::other)??;
        let (file, path) = created.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let written = field.data.open(limit).stream_to(BufWriter::with_capacity(WRITE_BUFFER_BYTES, &mut file)).await?;
        if !written.complete {
            Err((None, Some(written.written)))?;
        }
        Ok(UploadPart::File(UploadedFile { name: field.file_name, path, len: written.written }))
    }
}

/// Returns the one uploaded file of the `file` parts, or the 422 for no file, several
/// parts, a text field, or an empty file.
///
/// A part without a file name is a text field to PHP, whatever its content type, so it
/// is rejected as Laravel would reject it.
pub fn single_file(parts: Vec<UploadPart<'_>>) -> Result<UploadedFile<'_>, ApiError> {
    let count = parts.len();
    let mut parts = parts.into_iter();
    let part = match (parts.next(), count) {
        (None, _) => return Err(ApiError::invalid("file", "The file field is required.")),
        (Some(part), 1) => part,
        (Some(_), count) => {
            return Err(ApiError::invalid(
                "file",
                format!("The file field must be a single file, but the request has {count} parts named file; send one."),
            ));
        }
    };
    match part {
        UploadPart::File(file) if file.raw_name().is_none() => Err(must_be_a_file()),
        UploadPart::Text => Err(must_be_a_file()),
        UploadPart::File(file) if file.len() == 0 => Err(ApiError::invalid(
            "file",
            "The uploaded file is empty; upload a file whose first line names the columns.",
        )),
        UploadPart::File(file) => Ok(file),
    }
}

fn must_be_a_file() -> ApiError {
    ApiError::invalid("file", "The file field must be a file.")
}

/// Maps the errors of the form or of its file field to responses. A size limit gives
/// 413. A body that ends before its closing boundary, or is not valid multipart, gives a
/// 422 with that reason. A missing field gives the 422 Laravel gives, and anything else a
/// 422 that quotes Rocket's errors.
pub fn form_error(errors: Errors<'_>) -> ApiError {
    // Rocket turns multer's field and stream size limits into a length error with a
    // maximum, and an incomplete body into one without bounds. Rocket's own status for
    // both is 413, which is wrong for the second.
    if errors.iter().any(|error| matches!(error.kind, ErrorKind::InvalidLength { max: Some(_), .. })) {
        return ApiError::TooLarge(
            "The uploaded file is larger than the server accepts; split it or ask the operator to raise INGEST_MAX_UPLOAD_BYTES."
                .into(),
        );
    }
    if errors.iter().any(|error| matches!(error.kind, ErrorKind::InvalidLength { min: None, max: None })) {
        return ApiError::invalid(
            "file",
            "The upload is incomplete: the multipart body ends before its closing boundary; send the file again.",
        );
    }
    if let Some(error) = errors.iter().find(|error| matches!(error.kind, ErrorKind::Multipart(_))) {
        return ApiError::invalid(
            "file",
            format!("The upload is not a valid multipart/form-data body ({error}); send the file again as a form upload."),
        );
    }
    if !errors.is_empty() && errors.iter().all(|error| matches!(error.kind, ErrorKind::Missing)) {
        return ApiError::invalid("file", "The file field is required.");
    }
    ApiError::invalid("file", format!("The upload could not be read: {errors}."))
}

#[cfg(test)]
mod tests {
    use rocket::form::error::Error;

    use super::*;

    fn message(error: ApiError) -> (u16, String) {
        let status = match &error {
            ApiError::TooLarge(_) => 413,
            ApiError::Invalid { field: "file", .. } => 422,
            other => panic!("unexpected error {other:?}"),
        };
        (status, error.to_string())
    }

    #[test]
    fn size_limit_is_too_large() {
        let errors = Errors::from(Error::from((None, Some(1024u64))));
        let (status, text) = message(form_error(errors));

        assert_eq!(status, 413);
        assert!(text.contains("INGEST_MAX_UPLOAD_BYTES"), "{text}");
    }

    #[test]
    fn incomplete_body_is_unprocessable() {
        // Rocket turns multer's incomplete-stream error into a length error without
        // bounds.
        let errors = Errors::from(Error::from(ErrorKind::InvalidLength { min: None, max: None }));
        let (status, text) = message(form_error(errors));

        assert_eq!(status, 422);
        assert!(text.contains("incomplete"), "{text}");
        assert!(text.contains("closing boundary"), "{text}");
    }

    #[test]
    fn missing_field_is_required() {
        let (status, text) = message(form_error(Errors::from(Error::from(ErrorKind::Missing))));

        assert_eq!(status, 422);
        assert_eq!(text, "The file field is required.");
    }

    #[test]
    fn no_part_is_required() {
        let (status, text) = message(single_file(Vec::new()).err().unwrap());

        assert_eq!(status, 422);
        assert_eq!(text, "The file field is required.");
    }

    #[test]
    fn text_part_is_not_a_file() {
        let (status, text) = message(single_file(vec![UploadPart::Text]).err().unwrap());

        assert_eq!(status, 422);
        assert_eq!(text, "The file field must be a file.");
    }

    #[test]
    fn two_parts_are_rejected() {
        let (status, text) = message(single_file(vec![UploadPart::Text, UploadPart::Text]).err().unwrap());

        assert_eq!(status, 422);
        assert!(text.contains("2 parts named file"), "{text}");
    }
}
