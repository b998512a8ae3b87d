//! The REST API, wire-compatible with Laravel Ingest's. Handlers parse the request, call
//! the store or the run engine, and shape the response; they never call an importer.

mod auth;
mod errors;
mod failed_rows;
mod health;
pub(crate) mod importers;
mod list_url;
mod methods;
mod openapi;
mod runs;
mod upload;
mod upload_form;
pub(crate) mod views;

use std::sync::Arc;

use rocket::data::{ByteUnit, Limits};
use rocket::{Build, Rocket, catchers, routes};

use crate::config::Config;
use crate::plugins::Registry;
use crate::runs::RunContext;
use crate::store::Store;

/// Shared by every handler.
pub struct AppState {
    pub store: Store,
    pub registry: Arc<Registry>,
    pub runs: Arc<RunContext>,
    pub config: Config,
}

/// Builds the Rocket server for `state`, listening where the configuration says.
pub fn build(state: AppState) -> Rocket<Build> {
    let config = &state.config;
    let upload_limit = ByteUnit::from(config.max_upload_bytes);
    // The form limit leaves room for the multipart framing and the other fields.
    let limits = Limits::default()
        .limit("file", upload_limit)
        .limit("data-form", upload_limit + ByteUnit::Mebibyte(1))
        .limit("json", ByteUnit::Mebibyte(1));
    let temp_dir = config.storage_dir.join("tmp");
    let _ = std::fs::create_dir_all(&temp_dir);
    // `ingest serve` handles SIGTERM and SIGINT itself, so that it stops the run workers
    // with the HTTP server; see `cli::serve`.
    let shutdown = rocket::config::Shutdown { ctrlc: false, signals: Default::default(), ..Default::default() };

    let figment = rocket::Config::figment()
        .merge(("address", config.address.clone()))
        .merge(("port", config.port))
        .merge(("limits", limits))
        .merge(("temp_dir", temp_dir))
        .merge(("shutdown", shutdown))
        .merge(("log_level", rocket::config::LogLevel::Off))
        .merge(("cli_colors", false))
        .merge(("ident", "ingest"));

    let prefix = config.api_prefix.clone();
    rocket::custom(figment)
        .manage(state)
        .mount(
            prefix.as_str(),
            routes![
                runs::list,
                runs::show,
                runs::cancel,
                runs::retry,
                runs::errors_summary,
                upload::upload,
                upload::upload_without_form,
                upload::trigger,
                failed_rows::download,
                importers::list,
                openapi::openapi,
            ],
        )
        .mount("/", routes![health::health, health::metrics])
        .register(
            "/",
            catchers![
                errors::bad_request,
                errors::unauthenticated,
                errors::not_found,
                errors::too_large,
                errors::unprocessable,
                errors::other
            ],
        )
}
