use clap::Parser;

fn main() -> std::process::ExitCode {
    ingest_host::allocator::limit_arenas();
    let cli = ingest_host::cli::Cli::parse();
    ingest_host::cli::init_tracing(&cli);
    match ingest_host::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            ingest_host::cli::print_error(&error);
            ingest_host::cli::exit_code_of(&error)
        }
    }
}
