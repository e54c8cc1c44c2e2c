//! The npm registry as a transport for release archives: each target's
//! archive, byte for byte, in an npm package of its own (`postbin
//! pack-targets` makes them), found by name and verified by the sha512
//! integrity pinned next to the archive's sha256. See docs/design-notes.md,
//! "The npm registry as a source".

pub mod integrity;
pub mod wrapper;
