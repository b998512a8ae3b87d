//! The CPU the benchmarks ran on, which both benchmark binaries print with their figures.
//! `import-bench` includes this file with `#[path]`, because the two binaries share no
//! library.

/// Describes the CPU: its model, from `/proc/cpuinfo` where it exists, and the number of
/// CPUs this process may use.
pub fn describe() -> String {
    let cpus = std::thread::available_parallelism().map(|count| count.get()).unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{model}, {cpus} CPUs available")
}
