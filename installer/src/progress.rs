//! Progress, drawn only for a person to see: a download's bar, on stderr
//! when it is a terminal (for downloads big enough to be worth watching), or
//! else on the controlling terminal once a download outlasts a second (npm
//! hides install scripts' output; a silent download reads as a hang); and a
//! status line on a terminal stderr for commands that go through many items
//! (`prefill`, `cache`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: String,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    screen: Screen,
    drew: bool,
}

/// Where the bar is drawn.
enum Screen {
    /// stderr, a terminal.
    Stderr,
    /// The controlling terminal, opened once the download has run past
    /// `TTY_AFTER` (`Tty(None)` until then): npm 7+ hides an install
    /// script's output, and a long silent download reads as a hang.
    Tty(Option<std::fs::File>),
    Off,
}

/// How long a download runs before the controlling terminal gets a bar.
const TTY_AFTER: Duration = Duration::from_secs(1);
/// At most this often on the controlling terminal (npm draws there too).
const TTY_EVERY: Duration = Duration::from_millis(250);
const STDERR_EVERY: Duration = Duration::from_millis(100);

impl Progress {
    pub fn new(label: &str, total: Option<u64>) -> Self {
        // On stderr only a big download is worth a bar; the controlling
        // terminal gets one for any download that outlasts `TTY_AFTER`.
        let worth_it = total.is_none_or(|t| t > 1 << 20);
        let screen = if std::io::stderr().is_terminal() {
            if worth_it && crate::log::enabled(crate::log::Level::Info) {
                Screen::Stderr
            } else {
                Screen::Off
            }
        } else if tty_allowed(&|name| crate::env_vars::get(name)) {
            Screen::Tty(None)
        } else {
            Screen::Off
        };
        Self {
            label: label.to_string(),
            total,
            started: Instant::now(),
            last_draw: None,
            screen,
            drew: false,
        }
    }

    pub fn update(&mut self, done: u64) {
        let now = Instant::now();
        let every = match &mut self.screen {
            Screen::Off => return,
            Screen::Stderr => STDERR_EVERY,
            Screen::Tty(file) => {
                if file.is_none() {
                    if now - self.started < TTY_AFTER {
                        return;
                    }
                    match open_tty() {
                        Some(f) => *file = Some(f),
                        None => {
                            self.screen = Screen::Off;
                            return;
                        }
                    }
                }
                TTY_EVERY
            }
        };
        if self.last_draw.is_some_and(|t| now - t < every) {
            return;
        }
        self.last_draw = Some(now);
        let line = render(&self.label, done, self.total, now - self.started);
        self.draw(&format!("\r\x1b[2K{line}"));
        self.drew = true;
    }

    pub fn finish(&mut self) {
        if self.drew {
            self.draw("\r\x1b[2K");
            self.drew = false;
        }
    }

    fn draw(&mut self, text: &str) {
        match &mut self.screen {
            Screen::Stderr => {
                eprint!("{text}");
                let _ = std::io::stderr().flush();
            }
            Screen::Tty(Some(file)) => {
                // A terminal that went away is no reason to fail an install.
                let _ = file.write_all(text.as_bytes()).and_then(|()| file.flush());
            }
            Screen::Tty(None) | Screen::Off => {}
        }
    }
}

/// Whether the controlling terminal may get a bar: not in CI, not asked
/// off (`POSTBIN_PROGRESS=0`), not under `npm --silent`.
fn tty_allowed(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let off = |v: Option<String>| {
        v.is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "off" | "no"
            )
        })
    };
    let in_ci = env(crate::env_vars::CI).is_some_and(|v| !matches!(v.trim(), "false" | "0"));
    let silent = env(crate::env_vars::NPM_CONFIG_LOGLEVEL).is_some_and(|v| v.trim() == "silent");
    cfg!(unix) && !in_ci && !silent && !off(env(crate::env_vars::POSTBIN_PROGRESS))
}

/// The controlling terminal, if the process has one.
fn open_tty() -> Option<std::fs::File> {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/tty")
            .ok()
    }
    #[cfg(not(unix))]
    None
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

/// `512 B`, `3.0 MiB`: sizes for people, in binary units. The one way
/// postbin prints a size in words (messages, reports, the progress line).
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
    fn the_controlling_terminal_gets_a_bar_unless_ci_silent_or_asked_off() {
        let with = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            tty_allowed(&move |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
        };
        assert_eq!(with(&[]), cfg!(unix));
        assert!(!with(&[("CI", "true")]));
        assert!(!with(&[("CI", "1")]));
        assert_eq!(with(&[("CI", "false")]), cfg!(unix));
        assert!(!with(&[("npm_config_loglevel", "silent")]));
        assert_eq!(with(&[("npm_config_loglevel", "warn")]), cfg!(unix));
        for off in ["0", "false", "OFF", "no"] {
            assert!(!with(&[("POSTBIN_PROGRESS", off)]), "{off}");
        }
        assert_eq!(with(&[("POSTBIN_PROGRESS", "1")]), cfg!(unix));
    }

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
