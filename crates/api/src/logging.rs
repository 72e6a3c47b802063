//! Logging for every shell: `tracing` to stderr, filtered by `SHOEBOX_LOG`
//! (default `warn`), so the CLI, the server and the app log alike.

/// Installs the subscriber; call once, first thing in `main`.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOEBOX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
