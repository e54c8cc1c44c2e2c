//! Command-line parsing and dispatch. Parsing yields a `Command` (what the
//! user typed, validated); running it is the commands' job; printing errors
//! and choosing the exit code happen here, once.

use crate::commands::{
    Report, cache_cmd, check, doctor, init, install, pack_targets, pin, plan_cmd, prefill, which,
};
use crate::error::{Error, exit};
use lexopt::prelude::*;
use std::path::PathBuf;

pub const USAGE: &str = "\
postbin: installs a tool's native executable from its release archive, verified against a pinned SHA-256

Usage:
  postbin install [--package DIR] [--target TRIPLE] [--offline] [--cache-only]
  postbin which [--package DIR] [NAME]
  postbin init [--package DIR] [--from SOURCE [--app NAME]] [--dry-run] [--workflow github [--build]]
  postbin pin [--package DIR] [--checksums FILE|URL]... [--download]
  postbin check [--package DIR]
  postbin pack-targets [--package DIR] [--out DIR] [--targets all|T,T]
  postbin plan [--package DIR] [--targets all|T,T] [--json]
  postbin prefill [PKG_DIR|PKG.tgz]... [--node-modules DIR]... [--targets all|T,T] [--out DIR [--layout path|sha256]]
  postbin cache dir|list|verify|prune|clean|import [--older-than DAYS] [--max-size SIZE] [DIR]
  postbin doctor [--package DIR] [--check]
  postbin --version | --help

Commands:
  install   download (or take from the cache), verify and place the package's executables;
            --cache-only places nothing and prints the executables' paths in the cache
  which     print the absolute path of an installed executable (installs nothing; exit 1 if absent)
  init      publisher: write the bin launchers, the postinstall script and the postbin dependency;
            --from SOURCE writes the whole postbin section from a release (owner/repo@tag, its
            URL, a dist-manifest.json, goreleaser output, a directory of assets) and pins it
  pin       publisher: write each target's sha256 from checksums files and/or by downloading
  check     publisher: fail before `npm pack` on a launcher that is not postbin's, a target
            with no pinned hash, or a .postbin/ directory that would be packed
  pack-targets
            publisher: wrap each pinned target's archive in an npm package (<name>-<target>) for
            networks that reach only an npm registry, and pin its sha512 integrity
  plan      print the fetch plan (URLs in order, sha256, size, format, bins) without
            downloading; --json for tools (stable shape, docs/cli.md)
  prefill   fill the cache (or, with --out, a portable mirror tree) for offline installs
  cache     show, verify, prune, clean or import into the cache
  doctor    show the platform, URLs, mirror/proxy/CA settings in force and the cache state

Options:
  -p, --package DIR the npm package directory holding package.json (default: current directory)
  --target TRIPLE   use this Rust target triple instead of detecting the host (also POSTBIN_TARGET)
  --offline         never open a network connection (also POSTBIN_OFFLINE=1)

Environment: see docs/configuration.md (mirrors, proxies, CA files, cache, offline).
Exit codes: 0 ok, 1 failure/not installed, 2 usage, 3 package config, 4 unsupported platform,
5 network, 6 integrity (SHA-256 mismatch), 7 unsafe or malformed archive, 8 file system, 9 offline cache miss.
";

#[derive(Debug, PartialEq)]
pub enum Command {
    Install(install::Options),
    Which(which::Options),
    Init(init::Options),
    Pin(pin::Options),
    Prefill(prefill::Options),
    Cache(cache_cmd::Action),
    Doctor(doctor::Options),
    Check(check::Options),
    PackTargets(pack_targets::Options),
    Plan(plan_cmd::Options),
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
    let command = match sub.as_str() {
        "install" => parse_install(&mut p)?.map(Command::Install),
        "which" => parse_which(&mut p)?.map(Command::Which),
        "init" => parse_init(&mut p)?.map(Command::Init),
        "pin" => parse_pin(&mut p)?.map(Command::Pin),
        "prefill" => parse_prefill(&mut p)?.map(Command::Prefill),
        "cache" => parse_cache(&mut p)?.map(Command::Cache),
        "doctor" => parse_doctor(&mut p)?.map(Command::Doctor),
        "check" => parse_check(&mut p)?.map(Command::Check),
        "pack-targets" => parse_pack_targets(&mut p)?.map(Command::PackTargets),
        "plan" => parse_plan(&mut p)?.map(Command::Plan),
        "help" => None,
        other => {
            return Err(lexopt::Error::Custom(
                format!("unknown command `{other}`").into(),
            ));
        }
    };
    Ok(command.unwrap_or(Command::Help))
}

/// Each `parse_*` takes only its command's options (anything else is a
/// usage error, exit 2) and yields `None` for `--help`.
type Parsed<T> = Result<Option<T>, lexopt::Error>;

fn parse_install(p: &mut lexopt::Parser) -> Parsed<install::Options> {
    let mut o = install::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("target") => o.target = Some(p.value()?.string()?),
            Long("offline") => o.offline = true,
            Long("cache-only") => o.cache_only = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_which(p: &mut lexopt::Parser) -> Parsed<which::Options> {
    let mut o = which::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Value(v) if o.name.is_none() => o.name = Some(v.string()?),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_init(p: &mut lexopt::Parser) -> Parsed<init::Options> {
    let mut o = init::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("from") => o.from = Some(p.value()?.string()?),
            Long("app") => o.app = Some(p.value()?.string()?),
            Long("dry-run") => o.dry_run = true,
            Long("workflow") => o.workflow = Some(p.value()?.string()?),
            Long("build") => o.build = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_pin(p: &mut lexopt::Parser) -> Parsed<pin::Options> {
    let mut o = pin::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("checksums") => o.checksums.push(p.value()?.string()?),
            Long("download") => o.download = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    if o.checksums.is_empty() && !o.download {
        return Err(lexopt::Error::Custom(
            "pin needs --checksums FILE|URL, --download, or both".into(),
        ));
    }
    Ok(Some(o))
}

fn parse_prefill(p: &mut lexopt::Parser) -> Parsed<prefill::Options> {
    let mut o = prefill::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("node-modules") => o.node_modules.push(p.value()?.into()),
            Long("targets") => o.targets = Some(p.value()?.string()?),
            Long("out") => o.out = Some(p.value()?.into()),
            Long("layout") => {
                o.layout = match p.value()?.string()?.as_str() {
                    "path" => prefill::Layout::Path,
                    "sha256" => prefill::Layout::Sha256,
                    other => {
                        return Err(lexopt::Error::Custom(
                            format!("--layout {other}: use path or sha256").into(),
                        ));
                    }
                }
            }
            Long("offline") => o.offline = true,
            Value(v) => o.inputs.push(v.into()),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    if o.layout != prefill::Layout::Path && o.out.is_none() {
        return Err(lexopt::Error::Custom(
            "--layout goes with --out DIR (the cache has its own layout)".into(),
        ));
    }
    Ok(Some(o))
}

fn parse_doctor(p: &mut lexopt::Parser) -> Parsed<doctor::Options> {
    let mut o = doctor::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("check") => o.check = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_check(p: &mut lexopt::Parser) -> Parsed<check::Options> {
    let mut o = check::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_pack_targets(p: &mut lexopt::Parser) -> Parsed<pack_targets::Options> {
    let mut o = pack_targets::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("out") => o.out = Some(p.value()?.into()),
            Long("targets") => o.targets = Some(p.value()?.string()?),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_plan(p: &mut lexopt::Parser) -> Parsed<plan_cmd::Options> {
    let mut o = plan_cmd::Options::default();
    while let Some(arg) = p.next()? {
        match arg {
            Long("package") | Short('p') => o.package = Some(p.value()?.into()),
            Long("targets") => o.targets = Some(p.value()?.string()?),
            Long("json") => o.json = true,
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    Ok(Some(o))
}

fn parse_cache(p: &mut lexopt::Parser) -> Parsed<cache_cmd::Action> {
    let custom = |text: String| lexopt::Error::Custom(text.into());
    let mut action: Option<String> = None;
    let mut path: Option<PathBuf> = None;
    let mut older_than_days: Option<u64> = None;
    let mut max_size: Option<String> = None;
    while let Some(arg) = p.next()? {
        match arg {
            Long("older-than") => older_than_days = Some(p.value()?.parse()?),
            Long("max-size") => max_size = Some(p.value()?.string()?),
            Value(v) if action.is_none() => action = Some(v.string()?),
            Value(v) if path.is_none() => path = Some(v.into()),
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected()),
        }
    }
    let action = action.ok_or_else(|| {
        custom("cache needs an action: dir, list, verify, prune, clean or import".into())
    })?;
    if action != "prune" && (older_than_days.is_some() || max_size.is_some()) {
        return Err(custom(
            "--older-than and --max-size go with `cache prune`".into(),
        ));
    }
    if action != "import"
        && let Some(path) = &path
    {
        return Err(custom(format!(
            "`cache {action}` takes no directory; only `cache import DIR` does (got {})",
            path.display()
        )));
    }
    let parsed = match action.as_str() {
        "dir" => cache_cmd::Action::Dir,
        "list" => cache_cmd::Action::List,
        "verify" => cache_cmd::Action::Verify,
        "clean" => cache_cmd::Action::Clean,
        "prune" => {
            let max_size = match max_size {
                Some(text) => Some(crate::settings::parse_size(&text).ok_or_else(|| {
                    custom(format!(
                        "--max-size {text}: give a size like 500M, 2G or 1048576 (bytes)"
                    ))
                })?),
                None => None,
            };
            if older_than_days.is_none() && max_size.is_none() {
                return Err(custom(
                    "cache prune needs --older-than DAYS and/or --max-size SIZE".into(),
                ));
            }
            cache_cmd::Action::Prune {
                older_than_days,
                max_size,
            }
        }
        "import" => cache_cmd::Action::Import {
            from: path.ok_or_else(|| {
                custom("cache import needs a directory: `postbin cache import DIR`".into())
            })?,
        },
        other => {
            return Err(custom(format!(
                "unknown cache action `{other}`; use dir, list, verify, prune, clean or import"
            )));
        }
    };
    Ok(Some(parsed))
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

/// Runs the command and prints its report: the one place that writes a
/// command's results and picks the exit code.
fn run(command: Command) -> Result<i32, Error> {
    match command {
        Command::Help => {
            print!("{USAGE}");
            Ok(exit::OK)
        }
        Command::Version => {
            println!("postbin {}", env!("CARGO_PKG_VERSION"));
            Ok(exit::OK)
        }
        Command::Install(o) => {
            let report = install::run(&o)?;
            crate::info!("{}", report.summary());
            Ok(emit(&report))
        }
        Command::Which(o) => Ok(emit(&which::run(&o)?)),
        Command::Init(o) => Ok(emit(&init::run(&o)?)),
        Command::Pin(o) => Ok(emit(&pin::run(&o)?)),
        Command::Prefill(o) => Ok(emit(&prefill::run(&o)?)),
        Command::Cache(action) => Ok(emit(&cache_cmd::run(&action)?)),
        Command::Doctor(o) => Ok(emit(&doctor::run(&o)?)),
        Command::Check(o) => Ok(emit(&check::run(&o)?)),
        Command::PackTargets(o) => Ok(emit(&pack_targets::run(&o)?)),
        Command::Plan(o) => Ok(emit(&plan_cmd::run(&o)?)),
    }
}

/// Prints a report: its text on stdout, then its problems on stderr.
fn emit(report: &dyn Report) -> i32 {
    print!("{report}");
    for line in report.problems() {
        eprintln!("{line}");
    }
    report.exit_code()
}

/// One short paragraph: the message, then each cause on its own line.
fn print_error(e: &Error) {
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
            Command::Install(install::Options {
                package: Some("d".into()),
                target: Some("t".into()),
                offline: true,
                cache_only: true,
            })
        );
        assert_eq!(
            p(&["which", "hello"]).unwrap(),
            Command::Which(which::Options {
                package: None,
                name: Some("hello".into())
            })
        );
        assert_eq!(p(&["--version"]).unwrap(), Command::Version);
        assert_eq!(p(&[]).unwrap(), Command::Help);
        assert_eq!(p(&["install", "--help"]).unwrap(), Command::Help);
        assert_eq!(
            p(&["pin", "--checksums", "sums.txt", "--download"]).unwrap(),
            Command::Pin(pin::Options {
                package: None,
                checksums: vec!["sums.txt".into()],
                download: true
            })
        );
        assert_eq!(
            p(&["init", "-p", "x"]).unwrap(),
            Command::Init(init::Options {
                package: Some("x".into()),
                ..init::Options::default()
            })
        );
        assert_eq!(
            p(&["cache", "prune", "--max-size", "2G"]).unwrap(),
            Command::Cache(cache_cmd::Action::Prune {
                older_than_days: None,
                max_size: Some(2 << 30)
            })
        );
        assert_eq!(
            p(&["cache", "import", "dir"]).unwrap(),
            Command::Cache(cache_cmd::Action::Import { from: "dir".into() })
        );
        assert_eq!(
            p(&["prefill", "a", "b.tgz", "--targets", "all", "--out", "o"]).unwrap(),
            Command::Prefill(prefill::Options {
                inputs: vec!["a".into(), "b.tgz".into()],
                targets: Some("all".into()),
                out: Some("o".into()),
                ..prefill::Options::default()
            })
        );
    }

    #[test]
    fn bad_usage_is_exit_2_with_a_pointer_to_help() {
        for args in [
            &["frobnicate"][..],
            &["install", "--bogus"],
            &["which", "a", "b"],
            &["install", "--package"],
            // Options a command does not take are refused, not ignored.
            &["cache", "list", "--package", "x"],
            &["prefill", "--package", "x"],
            &["install", "--checksums", "x"],
            &["doctor", "--offline"],
            &["cache", "list", "dir"],
            &["cache", "verify", "--older-than", "3"],
            &["cache", "prune"],
            &["cache", "prune", "--max-size", "lots"],
            &["cache", "import"],
            &["cache", "frob"],
            &["pin"],
            &["prefill", "--layout", "sha256"],
            &["prefill", "--out", "o", "--layout", "zip"],
        ] {
            let e = p(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert!(e.to_string().contains("postbin --help"), "{args:?}: {e}");
        }
    }
}
