//! Command-line parsing and dispatch. Parsing yields a `Command` (what the
//! user typed, validated); running it is the commands' job; printing errors
//! and choosing the exit code happen here, once.

use crate::commands::{self, cache_cmd, doctor, init, install, pin, prefill, which};
use crate::error::{Error, exit};
use lexopt::prelude::*;
use std::path::PathBuf;

pub const USAGE: &str = "\
postbin: installs a tool's native executable from its release archive, verified against a pinned SHA-256

Usage:
  postbin install [--package DIR] [--target TRIPLE] [--offline] [--cache-only]
  postbin which [--package DIR] [NAME]
  postbin init [--package DIR]
  postbin pin [--package DIR] [--checksums FILE|URL] [--download]
  postbin prefill [PKG_DIR|PKG.tgz]... [--node-modules DIR]... [--targets all|T,T] [--out DIR]
  postbin cache dir|list|verify|prune|clean|import [--older-than DAYS] [--max-size SIZE] [DIR]
  postbin doctor [--package DIR] [--check]
  postbin --version | --help

Commands:
  install   download (or take from the cache), verify and place the package's executables;
            --cache-only places nothing and prints the executables' paths in the cache
  which     print the absolute path of an installed executable (installs nothing; exit 1 if absent)
  init      publisher: write the bin launchers, the postinstall script and the postbin dependency
  pin       publisher: write each target's sha256 from a checksums file and/or by downloading
  prefill   fill the cache (or, with --out, a portable mirror tree) for offline installs
  cache     show, verify, prune, clean or import into the cache
  doctor    show the platform, URLs, mirror/proxy/CA settings in force and the cache state

Options:
  --package DIR     the npm package directory holding package.json (default: current directory)
  --target TRIPLE   use this Rust target triple instead of detecting the host (also POSTBIN_TARGET)
  --offline         never open a network connection (also POSTBIN_OFFLINE=1)

Environment: see docs/configuration.md (mirrors, proxies, CA files, cache, offline).
Exit codes: 0 ok, 1 failure/not installed, 2 usage, 3 package config, 4 unsupported platform,
5 network, 6 integrity (SHA-256 mismatch), 7 unsafe or malformed archive, 8 file system, 9 offline cache miss.
";

#[derive(Debug, PartialEq)]
pub enum Command {
    Install {
        package: Option<PathBuf>,
        target: Option<String>,
        offline: bool,
        cache_only: bool,
    },
    Init {
        package: Option<PathBuf>,
    },
    Pin {
        package: Option<PathBuf>,
        checksums: Option<String>,
        download: bool,
    },
    Prefill {
        inputs: Vec<PathBuf>,
        node_modules: Vec<PathBuf>,
        targets: Option<String>,
        out: Option<PathBuf>,
        offline: bool,
    },
    Cache {
        action: String,
        older_than_days: Option<u64>,
        max_size: Option<String>,
        path: Option<PathBuf>,
    },
    Doctor {
        package: Option<PathBuf>,
        check: bool,
    },
    Which {
        package: Option<PathBuf>,
        name: Option<String>,
    },
    Help,
    Version,
}

pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Command, Error> {
    parse_inner(lexopt::Parser::from_args(args)).map_err(|e| Error::Usage(e.to_string()))
}

fn parse_inner(mut p: lexopt::Parser) -> Result<Command, lexopt::Error> {
    let sub = match p.next()? {
        None => return Ok(Command::Help),
        Some(Long("help") | Short('h')) => return Ok(Command::Help),
        Some(Long("version") | Short('V')) => return Ok(Command::Version),
        Some(Value(v)) => v.string()?,
        Some(other) => return Err(other.unexpected()),
    };
    let mut package = None;
    let mut target = None;
    let mut offline = false;
    let mut cache_only = false;
    let mut checksums = None;
    let mut download = false;
    let mut check = false;
    let mut node_modules = Vec::new();
    let mut targets = None;
    let mut out = None;
    let mut older_than_days = None;
    let mut max_size = None;
    let mut positional: Vec<String> = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => package = Some(PathBuf::from(p.value()?)),
            Long("target") if sub == "install" => target = Some(p.value()?.string()?),
            Long("offline") if sub == "install" => offline = true,
            Long("cache-only") if sub == "install" => cache_only = true,
            Long("checksums") if sub == "pin" => checksums = Some(p.value()?.string()?),
            Long("download") if sub == "pin" => download = true,
            Long("check") if sub == "doctor" => check = true,
            Long("node-modules") if sub == "prefill" => {
                node_modules.push(PathBuf::from(p.value()?))
            }
            Long("targets") if sub == "prefill" => targets = Some(p.value()?.string()?),
            Long("out") if sub == "prefill" => out = Some(PathBuf::from(p.value()?)),
            Long("offline") if sub == "prefill" => offline = true,
            Long("older-than") if sub == "cache" => older_than_days = Some(p.value()?.parse()?),
            Long("max-size") if sub == "cache" => max_size = Some(p.value()?.string()?),
            Value(v) if sub == "prefill" || (sub == "cache" && positional.len() < 2) => {
                positional.push(v.string()?)
            }
            Long("help") | Short('h') => return Ok(Command::Help),
            Value(v) if sub == "which" && positional.is_empty() => positional.push(v.string()?),
            other => return Err(other.unexpected()),
        }
    }
    match sub.as_str() {
        "install" => Ok(Command::Install {
            package,
            target,
            offline,
            cache_only,
        }),
        "init" => Ok(Command::Init { package }),
        "doctor" => Ok(Command::Doctor { package, check }),
        "prefill" => Ok(Command::Prefill {
            inputs: positional.into_iter().map(PathBuf::from).collect(),
            node_modules,
            targets,
            out,
            offline,
        }),
        "cache" => {
            let mut rest = positional.into_iter();
            let action = rest.next().ok_or_else(|| {
                lexopt::Error::Custom(
                    "cache needs an action: dir, list, verify, prune, clean or import".into(),
                )
            })?;
            Ok(Command::Cache {
                action,
                older_than_days,
                max_size,
                path: rest.next().map(PathBuf::from),
            })
        }
        "pin" => Ok(Command::Pin {
            package,
            checksums,
            download,
        }),
        "which" => Ok(Command::Which {
            package,
            name: positional.pop(),
        }),
        "help" => Ok(Command::Help),
        other => Err(lexopt::Error::Custom(
            format!("unknown command `{other}`").into(),
        )),
    }
}

/// Runs the program; returns the exit code.
pub fn main() -> i32 {
    crate::log::init();
    let result = parse(std::env::args_os().skip(1)).and_then(run);
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            e.exit_code()
        }
    }
}

fn run(command: Command) -> Result<i32, Error> {
    match command {
        Command::Help => print!("{USAGE}"),
        Command::Version => println!("postbin {}", env!("CARGO_PKG_VERSION")),
        Command::Install {
            package,
            target,
            offline,
            cache_only,
        } => {
            let report = install::run(&install::Options {
                package_dir: commands::package_dir(package),
                target,
                offline,
                cache_only,
            })?;
            if cache_only {
                for path in &report.placed {
                    println!("{}", path.display());
                }
            }
            let what = match &report.outcome {
                install::Outcome::AlreadyInstalled => "already installed".to_string(),
                install::Outcome::FromCache => "installed from the cache".to_string(),
                install::Outcome::Downloaded { bytes } => format!(
                    "downloaded {:.1} MiB and installed",
                    *bytes as f64 / 1048576.0
                ),
                install::Outcome::Override(p) => format!("using {}", p.display()),
            };
            crate::info!(
                "{} {} ({}): {what} in {:.2}s",
                report.plan.name,
                report.plan.version,
                report.plan.target,
                report.elapsed.as_secs_f64()
            );
        }
        Command::Init { package } => {
            let dir = commands::package_dir(package);
            let report = init::run(&dir)?;
            for path in &report.launchers_written {
                println!("wrote launcher {}", path.display());
            }
            if report.package_json_changed {
                println!(
                    "updated {} (postinstall script, dependency on postbin)",
                    dir.join("package.json").display()
                );
            }
            if report.launchers_written.is_empty() && !report.package_json_changed {
                println!("{} is already set up", dir.display());
            }
        }
        Command::Pin {
            package,
            checksums,
            download,
        } => {
            let dir = commands::package_dir(package);
            let report = pin::run(&pin::Options {
                package_dir: &dir,
                checksums,
                download,
            })?;
            for (target, sha, how) in &report.pinned {
                println!("pinned {target} {sha} from {how}");
            }
            for (target, old) in &report.changed {
                crate::warn!(
                    "{target}: the pinned sha256 changed (was {old}); was the release asset re-uploaded?"
                );
            }
            for (target, why) in &report.unpinned {
                eprintln!("postbin: not pinned: {target}: {why}");
            }
            if !report.unpinned.is_empty() {
                return Ok(exit::FAILURE);
            }
        }
        Command::Doctor { package, check } => {
            return doctor::run(&doctor::Options { package, check });
        }
        Command::Prefill {
            inputs,
            node_modules,
            targets,
            out,
            offline,
        } => {
            return prefill::run(&prefill::Options {
                inputs,
                node_modules,
                targets,
                out,
                offline,
            });
        }
        Command::Cache {
            action,
            older_than_days,
            max_size,
            path,
        } => {
            return cache_cmd::run(&cache_cmd::Options {
                action,
                older_than_days,
                max_size,
                path,
            });
        }
        Command::Which { package, name } => {
            let path = which::run(&commands::package_dir(package), name.as_deref())?;
            println!("{}", path.display());
        }
    }
    Ok(exit::OK)
}

/// One short paragraph: the message, then each cause on its own line.
pub fn print_error(e: &Error) {
    let mut text = format!("postbin: error: {e}");
    let mut source = std::error::Error::source(e);
    let mut disk_full = false;
    while let Some(s) = source {
        text.push_str(&format!("\n  caused by: {s}"));
        disk_full |= s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull);
        source = s.source();
    }
    if disk_full {
        // Which directory filled up is in the message; the way out is not.
        text.push_str(
            "\n  hint: the disk is full. Free some space, or set POSTBIN_CACHE_DIR to a \
             directory on a disk with room; nothing half-written was kept.",
        );
    }
    eprintln!("{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, Error> {
        parse(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            p(&[
                "install",
                "--package",
                "d",
                "--target",
                "t",
                "--offline",
                "--cache-only"
            ])
            .unwrap(),
            Command::Install {
                package: Some("d".into()),
                target: Some("t".into()),
                offline: true,
                cache_only: true,
            }
        );
        assert_eq!(
            p(&["which", "hello"]).unwrap(),
            Command::Which {
                package: None,
                name: Some("hello".into())
            }
        );
        assert_eq!(p(&["--version"]).unwrap(), Command::Version);
        assert_eq!(p(&[]).unwrap(), Command::Help);
        assert_eq!(
            p(&["pin", "--checksums", "sums.txt", "--download"]).unwrap(),
            Command::Pin {
                package: None,
                checksums: Some("sums.txt".into()),
                download: true
            }
        );
        assert_eq!(
            p(&["init", "-p", "x"]).unwrap(),
            Command::Init {
                package: Some("x".into())
            }
        );
    }

    #[test]
    fn bad_usage_is_exit_2_with_a_pointer_to_help() {
        for args in [
            &["frobnicate"][..],
            &["install", "--bogus"],
            &["which", "a", "b"],
            &["install", "--package"],
        ] {
            let e = p(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert!(e.to_string().contains("postbin --help"));
        }
    }
}
