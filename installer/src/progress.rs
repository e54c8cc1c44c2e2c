//! Progress on stderr, drawn only when stderr is a terminal: a download's
//! bar (only for downloads big enough to be worth watching), and a status
//! line for commands that go through many items (`prefill`, `cache`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: String,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
    drew: bool,
}

impl Progress {
    pub fn new(label: &str, total: Option<u64>) -> Self {
        let enabled = std::io::stderr().is_terminal()
            && crate::log::enabled(crate::log::Level::Info)
            && total.is_none_or(|t| t > 1 << 20);
        Self {
            label: label.to_string(),
            total,
            started: Instant::now(),
            last_draw: None,
            enabled,
            drew: false,
        }
    }

    pub fn update(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last_draw = Some(now);
        self.drew = true;
        eprint!(
            "\r\x1b[2K{}",
            render(&self.label, done, self.total, now - self.started)
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(&mut self) {
        if self.drew {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
            self.drew = false;
        }
    }
}

/// One redrawn line on a terminal (`verify 3/10 hello ...`); silent otherwise.
/// Notes are printed on their own lines either way.
pub struct Status {
    verb: &'static str,
    total: usize,
    done: usize,
    tty: bool,
}

impl Status {
    pub fn new(verb: &'static str, total: usize) -> Status {
        Status {
            verb,
            total,
            done: 0,
            tty: std::io::stderr().is_terminal() && crate::log::enabled(crate::log::Level::Info),
        }
    }

    pub fn step(&mut self, what: &str) {
        self.done += 1;
        if self.tty {
            eprint!(
                "\r\x1b[2Kpostbin: {} {}/{} {what}",
                self.verb, self.done, self.total
            );
        }
    }

    pub fn note(&self, text: &str) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("postbin: {text}");
    }

    pub fn finish(&self) {
        if self.tty && self.done > 0 {
            eprint!("\r\x1b[2K");
        }
    }
}

/// `512 B`, `3.0 MiB`: sizes for people, in binary units.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `hello 12.0/48.0 MiB [#####-----] 6.0 MiB/s ETA 6s`
pub fn render(label: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    match total {
        Some(total) if total > 0 => {
            let frac = (done as f64 / total as f64).min(1.0);
            let filled = (frac * 20.0) as usize;
            let eta = if rate > 0.0 {
                (total.saturating_sub(done)) as f64 / rate
            } else {
                0.0
            };
            format!(
                "postbin: {label} {:.1}/{:.1} MiB [{}{}] {:.1} MiB/s ETA {:.0}s",
                mib(done),
                mib(total),
                "#".repeat(filled),
                "-".repeat(20 - filled),
                rate / (1024.0 * 1024.0),
                eta
            )
        }
        _ => format!(
            "postbin: {label} {:.1} MiB {:.1} MiB/s",
            mib(done),
            rate / (1024.0 * 1024.0)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_for_people() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
    }

    #[test]
    fn renders_bytes_rate_and_eta() {
        let line = render("hello", 12 << 20, Some(48 << 20), Duration::from_secs(2));
        assert_eq!(
            line,
            "postbin: hello 12.0/48.0 MiB [#####---------------] 6.0 MiB/s ETA 6s"
        );
        assert!(render("x", 1 << 20, None, Duration::from_secs(1)).contains("1.0 MiB/s"));
    }
}
