//! The `postbin` binary: everything lives in the library.

fn main() {
    std::process::exit(postbin::cli::main());
}
