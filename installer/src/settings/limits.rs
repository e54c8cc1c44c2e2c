//! The numeric settings: retries, timeouts and size caps, read from the
//! environment only, each checked and reported, never silently replaced.

use super::{EnvLookup, Invalid, Origin};
use crate::env_vars as ev;
use std::time::Duration;

/// The numeric settings, read from the environment only.
pub(super) struct Limits {
    pub retries: u32,
    pub stall_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_unpacked_size: u64,
    pub max_download_size: u64,
}

impl Limits {
    pub fn resolve(env: EnvLookup<'_>, invalid: &mut Vec<Invalid>) -> Self {
        let mut number = |name: &str, parse: fn(&str) -> Result<f64, &'static str>, default| {
            number(env, invalid, name, parse, default)
        };
        let retries = number(ev::POSTBIN_RETRIES, parse_retries, 3.0) as u32;
        let stall_timeout = number(ev::POSTBIN_STALL_TIMEOUT, parse_seconds, 30.0);
        let connect_timeout = number(ev::POSTBIN_CONNECT_TIMEOUT, parse_seconds, 15.0);
        let max_unpacked_size = number(
            ev::POSTBIN_MAX_UNPACKED_SIZE,
            parse_positive_size,
            crate::limits::DEFAULT_MAX_UNPACKED_SIZE as f64,
        ) as u64;
        let max_download_size = number(
            ev::POSTBIN_MAX_DOWNLOAD_SIZE,
            parse_positive_size,
            crate::limits::DEFAULT_MAX_DOWNLOAD_SIZE as f64,
        ) as u64;
        Limits {
            retries,
            stall_timeout: Duration::from_secs_f64(stall_timeout),
            connect_timeout: Duration::from_secs_f64(connect_timeout),
            max_unpacked_size,
            max_download_size,
        }
    }
}

/// The variable `name` parsed, else `default`. An unusable value is
/// reported in `invalid`, never silently replaced: `default` only stands in
/// so that `doctor` can go on.
fn number(
    env: EnvLookup<'_>,
    invalid: &mut Vec<Invalid>,
    name: &str,
    parse: fn(&str) -> Result<f64, &'static str>,
    default: f64,
) -> f64 {
    let Some(text) = (env)(name) else {
        return default;
    };
    parse(&text).unwrap_or_else(|problem| {
        invalid.push(Invalid {
            name: name.to_string(),
            origin: Origin::Env(name.to_string()),
            value: text.trim().to_string(),
            problem: problem.to_string(),
        });
        default
    })
}

/// `POSTBIN_RETRIES`: a whole number, 0 to 20.
fn parse_retries(text: &str) -> Result<f64, &'static str> {
    match text.trim().parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(f64::from(n)),
        _ => Err("it must be a whole number of retries from 0 to 20"),
    }
}
const MAX_RETRIES: u32 = 20;

/// Timeouts: seconds, above 0 and at most a day; fractions allowed.
fn parse_seconds(text: &str) -> Result<f64, &'static str> {
    match text.trim().parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err("it must be a number of seconds above 0 and at most 86400, such as 30 or 2.5"),
    }
}

/// `POSTBIN_MAX_UNPACKED_SIZE`, `POSTBIN_MAX_DOWNLOAD_SIZE`: a size above 0
/// (see `parse_size`).
fn parse_positive_size(text: &str) -> Result<f64, &'static str> {
    match parse_size(text) {
        Some(n) if n > 0 => Ok(n as f64),
        _ => Err(
            "it must be a size above 0 in bytes, or with a binary unit: 512M, 8G, 1.5GiB (K, M, G, T are powers of 1024)",
        ),
    }
}

/// A size: a number of bytes, or a number with a unit `K`, `M`, `G` or
/// `T`, optionally followed by `B` or `iB`, in any case. Units are binary
/// whichever way they are spelt (`1G` = `1GB` = `1GiB` = 1073741824 bytes),
/// as for `postbin cache prune --max-size`: what the OS and npm's users
/// mean by a gigabyte of disk is 1024³ more often than 1000³, and one
/// meaning for every spelling leaves nothing to guess.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix("ib")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (number, shift) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 10),
        'm' => (&t[..t.len() - 1], 20),
        'g' => (&t[..t.len() - 1], 30),
        't' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let number = number.trim();
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let bytes = value * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_in_binary_units_whatever_the_spelling() {
        for (text, bytes) in [
            ("1G", 1u64 << 30),
            ("1GB", 1 << 30),
            ("1gib", 1 << 30),
            ("2g", 2 << 30),
            ("1.5G", 3 << 29),
            ("1.5GiB", 3 << 29),
            ("512M", 512 << 20),
            ("100k", 100 << 10),
            ("100KB", 100 << 10),
            ("2T", 2 << 40),
            ("1048576", 1 << 20),
            ("64b", 64),
            ("0", 0),
        ] {
            assert_eq!(parse_size(text), Some(bytes), "{text}");
        }
        for bad in ["", "M", "-1G", "12X", "lots"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
