//! The sample tool of the demo, end-to-end tests and benchmarks: a small
//! native CLI published as release archives and installed through postbin.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--version") {
        println!("hello {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    if let Some(code) = args.first().and_then(|a| a.strip_prefix("--exit=")) {
        std::process::exit(code.parse().unwrap_or(1));
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("hello from a native tool installed by postbin");
    println!("  executable: {exe}");
    println!("  arguments:  {args:?}");
}
