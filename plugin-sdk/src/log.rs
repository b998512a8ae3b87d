//! Messages to the host's log, tagged with the importer's slug by the host.
//!
//! Outside the host (in native tests) the messages go to standard error.

use crate::bindings::ingest::importer::host::LogLevel;

pub fn debug(message: &str) {
    write(LogLevel::Debug, message);
}

pub fn info(message: &str) {
    write(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    write(LogLevel::Warn, message);
}

pub fn error(message: &str) {
    write(LogLevel::Error, message);
}

pub(crate) fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::ingest::importer::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let level = match level {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        };
        eprintln!("{level} {message}");
    }
}
