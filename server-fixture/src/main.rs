//! The `server-fixture` command: runs a [`server_fixture::Fixture`] for demos,
//! benchmarks and tests written in JS or shell. It prints the main base URL
//! as the first line of stdout (flushed at once, so a parent process can read
//! it and go), `objects: <url>` as the second, and then serves until
//! `--lifetime` seconds have passed or a signal ends it. The lifetime has a
//! default because an orphaned test server must never run unbounded.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use server_fixture::{Fixture, Options};

const USAGE: &str = "\
usage: server-fixture --root DIR [--https] [--ca-out FILE] [--lifetime SECS] [--port N]

  --root DIR        release tree to serve (required)
  --https           serve HTTPS with a freshly generated CA
  --ca-out FILE     write the CA certificate (PEM) to FILE (needs --https)
  --lifetime SECS   exit after SECS seconds (default 1800)
  --port N          port of the main host on 127.0.0.1 (default 0: random)

Prints the main base URL on the first line of stdout, `objects: URL` on the
second. Control endpoint: /__fixture/requests, /__fixture/reset,
/__fixture/fault?path=..&kind=.. on either host.";

struct Args {
    root: PathBuf,
    https: bool,
    ca_out: Option<PathBuf>,
    lifetime: u64,
    port: u16,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("server-fixture: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("server-fixture: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let options = Options {
        root: args.root,
        https: args.https,
    };
    let fixture = Fixture::start_on_port(options, args.port).map_err(|e| e.to_string())?;
    // Write the CA before printing the URL: whoever waits for the first line
    // may use the CA file straight away.
    if let Some(path) = &args.ca_out {
        fixture
            .write_ca_pem(path)
            .map_err(|e| format!("writing the CA to {}: {e}", path.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", fixture.base_url())
        .and_then(|()| stdout.flush())
        .and_then(|()| writeln!(stdout, "objects: {}", fixture.objects_url()))
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    drop(stdout);

    // SIGTERM/SIGINT keep their default action (terminate), which is all the
    // cleanup a test server needs.
    std::thread::sleep(Duration::from_secs(args.lifetime));
    Ok(())
}

/// Hand-rolled flag parsing (`--flag VALUE` or `--flag=VALUE`). Ok(None)
/// means help was asked for.
fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut root = None;
    let mut https = false;
    let mut ca_out = None;
    let mut lifetime = 1800;
    let mut port = 0;
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--root" => root = Some(PathBuf::from(value("--root")?)),
            "--https" if inline.is_none() => https = true,
            "--ca-out" => ca_out = Some(PathBuf::from(value("--ca-out")?)),
            "--lifetime" => {
                let v = value("--lifetime")?;
                lifetime = v
                    .parse()
                    .map_err(|_| format!("--lifetime must be a number of seconds, got {v:?}"))?;
            }
            "--port" => {
                let v = value("--port")?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port must be a port number, got {v:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let root = root.ok_or("--root DIR is required")?;
    if ca_out.is_some() && !https {
        return Err("--ca-out needs --https".to_string());
    }
    Ok(Some(Args {
        root,
        https,
        ca_out,
        lifetime,
        port,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let a = parse(&[
            "--root",
            "r",
            "--https",
            "--ca-out=ca.pem",
            "--lifetime",
            "5",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.root, PathBuf::from("r"));
        assert!(a.https);
        assert_eq!(a.ca_out, Some(PathBuf::from("ca.pem")));
        assert_eq!((a.lifetime, a.port), (5, 0));
        let a = parse(&["--root=r", "--port", "8080"]).unwrap().unwrap();
        assert_eq!((a.lifetime, a.port, a.https), (1800, 8080, false));
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_flags() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--root"]).is_err());
        assert!(parse(&["--root", "r", "--bogus"]).is_err());
        assert!(parse(&["--root", "r", "--lifetime", "x"]).is_err());
        assert!(parse(&["--root", "r", "--port", "70000"]).is_err());
        assert!(parse(&["--root", "r", "--ca-out", "f"]).is_err());
        assert!(parse(&["--root", "r", "--https=yes"]).is_err());
    }
}
