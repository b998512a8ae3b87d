// The guide in README.md is the crate's documentation, so that `cargo test` compiles
// and runs its examples.
#![doc = include_str!("../README.md")]

#[doc(hidden)]
pub mod bindings;
mod config;
mod convert;
pub mod date;
mod date_format;
mod headers;
mod host;
pub mod log;
mod mapping;
mod packing;
mod pipeline;
mod problems;
mod relate;
mod row;
mod target;
pub mod testing;
pub mod transform;
pub mod validate;
mod value;

pub use bindings::ingest::importer::types::{ColumnType, DuplicateStrategy, SourceKind};
pub use config::{Column, DEFAULT_CHUNK_SIZE, IngestConfig, IntoNames, Relation};
pub use date::{Date, DateTime};
pub use pipeline::{ConfigError, Pipeline, SDK_VERSION};
pub use problems::{MAX_CHUNK_SIZE, MAX_TARGETS};
pub use row::{Record, Row, RowError};
pub use target::Target;
pub use transform::Transform;
pub use validate::Validator;
pub use value::{Cell, Value};

/// An importer: a type whose [`Importer::config`] describes it. Export it from the crate
/// with [`export_importer!`].
pub trait Importer {
    /// Describes the importer. The SDK calls this once per component instance and keeps
    /// the result for every chunk.
    fn config() -> IngestConfig;
}

/// Exports an [`Importer`] as the component's `importer` interface.
///
/// Use it once, in the importer's `cdylib` crate. The importer's version defaults to that
/// crate's `CARGO_PKG_VERSION`.
#[macro_export]
macro_rules! export_importer {
    ($importer:ty) => {
        const _: () = {
            struct IngestGuest;

            static PIPELINE: ::std::sync::OnceLock<$crate::__private::BuiltPipeline> = ::std::sync::OnceLock::new();

            fn pipeline() -> &'static $crate::__private::BuiltPipeline {
                PIPELINE.get_or_init(|| {
                    let config = <$importer as $crate::Importer>::config();
                    $crate::__private::build(config, ::core::env!("CARGO_PKG_VERSION"))
                })
            }

            impl $crate::__private::Guest for IngestGuest {
                fn describe() -> ::core::result::Result<$crate::__private::Description, ::std::string::String> {
                    $crate::__private::describe(pipeline())
                }

                fn check_headers(
                    headers: ::std::vec::Vec<::std::string::String>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::check_headers(pipeline(), &headers)
                }

                fn process(
                    chunk: $crate::__private::Chunk,
                ) -> ::core::result::Result<$crate::__private::ChunkResult, ::std::string::String> {
                    $crate::__private::process(pipeline(), &chunk)
                }
            }

            $crate::bindings::export_guest!(IngestGuest with_types_in $crate::bindings);
        };
    };
}

/// Support code for the expansion of [`export_importer!`], not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::exports::ingest::importer::importer::Guest;
    pub use crate::bindings::ingest::importer::types::{Chunk, ChunkResult, Description};

    use crate::IngestConfig;
    use crate::host::ComponentHost;
    use crate::pipeline::Pipeline;

    /// The importer's pipeline, or the message of its invalid description.
    pub type BuiltPipeline = Result<Pipeline, String>;

    pub fn build(config: IngestConfig, crate_version: &str) -> BuiltPipeline {
        config
            .default_version(crate_version)
            .build()
            .map_err(|error| error.to_string())
    }

    /// Returns the description, or the message of an invalid configuration, which keeps
    /// the host from registering the importer.
    pub fn describe(pipeline: &BuiltPipeline) -> Result<Description, String> {
        pipeline.as_ref().map(|pipeline| pipeline.description()).map_err(Clone::clone)
    }

    pub fn check_headers(pipeline: &BuiltPipeline, headers: &[String]) -> Result<(), String> {
        pipeline
            .as_ref()
            .map_err(Clone::clone)?
            .check_headers(headers, &ComponentHost)
    }

    pub fn process(pipeline: &BuiltPipeline, chunk: &Chunk) -> Result<ChunkResult, String> {
        pipeline.as_ref().map_err(Clone::clone)?.process(chunk, &ComponentHost)
    }
}
