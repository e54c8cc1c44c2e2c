//! `.map_err(io_err("write", &path))`: one way for every layer to say which
//! operation on which path failed, into that layer's own error type. A leaf,
//! so the layers below the top-level error need not import it.

use std::io;
use std::path::{Path, PathBuf};

/// An operation on a path that failed: what was being done, to which path,
/// and the OS error. Each layer's error carries one as its `Io` variant and
/// words it for that layer (the cache, the package, an archive).
#[derive(Debug)]
pub struct PathIo {
    pub op: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

/// A layer's error with an `Io(PathIo)` variant.
pub trait FromIo {
    fn from_io(op: &'static str, path: PathBuf, source: io::Error) -> Self;
}

/// `.map_err(io_err("write", &path))`, for every layer's error type.
pub fn io_err<'p, E: FromIo>(op: &'static str, path: &'p Path) -> impl Fn(io::Error) -> E + 'p {
    move |source| E::from_io(op, path.to_path_buf(), source)
}

/// `FromIo` for an error enum whose variant is `Io(PathIo)`.
macro_rules! from_io_variant {
    ($ty:ty) => {
        impl $crate::io_error::FromIo for $ty {
            fn from_io(op: &'static str, path: std::path::PathBuf, source: std::io::Error) -> Self {
                Self::Io($crate::io_error::PathIo { op, path, source })
            }
        }
    };
}
pub(crate) use from_io_variant;
