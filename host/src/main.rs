use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = ingest_host::cli::Cli::parse();
    ingest_host::cli::init_tracing(cli.log_json);
    match ingest_host::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
