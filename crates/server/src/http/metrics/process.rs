//! The standard `process_*` metrics (CPU, memory, file descriptors, start time), read from
//! `/proc/self` at each scrape. Linux only; elsewhere they are absent.

use std::fmt::Write;

/// Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture it runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// Append the process metrics, in the Prometheus text format, to `out`.
pub fn render(out: &mut String) {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .as_deref()
        .and_then(|s| s.rsplit_once(')'))
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // `fields[0]` is field 3 of proc(5): utime is field 14, stime 15, starttime 22, vsize 23.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        gauge_line(
            out,
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, in seconds.",
            (utime + stime) / TICKS_PER_SECOND,
        );
    }
    if let (Some(start), Some(boot)) = (field(22), boot_time()) {
        gauge_line(
            out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, in seconds.",
            boot + start / TICKS_PER_SECOND,
        );
    }
    if let Some(vsize) = field(23) {
        gauge_line(
            out,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size, in bytes.",
            vsize,
        );
    }
    if let Some(rss) = status_kib("VmRSS:") {
        gauge_line(
            out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size, in bytes.",
            rss * 1024.0,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge_line(
            out,
            "process_open_fds",
            "gauge",
            "Open file descriptors (sockets and files).",
            fds.count() as f64,
        );
    }
    if let Some(max) = max_open_files() {
        gauge_line(
            out,
            "process_max_fds",
            "gauge",
            "Limit on open file descriptors (LimitNOFILE).",
            max,
        );
    }
}

fn gauge_line(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
    );
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix(key))?;
    line.split_whitespace().next()?.parse().ok()
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

fn max_open_files() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    // Soft limit first, then hard limit and the unit.
    line.split_whitespace().next()?.parse().ok()
}
