//! Integration tests of the `postbin` installer: the real binary, run as a
//! subprocess against the release server fixture on 127.0.0.1, with every
//! test in its own temp dirs (cache, HOME, package, release tree).

mod archives;
mod bad_input;
mod formats;
mod install;
mod network;
mod support;
mod unsafe_archives;
