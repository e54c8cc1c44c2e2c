//! The archive formats postbin unpacks, and how package.json spells them.
//! A leaf: the plan, the unpacker and the release readers all name formats.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    TarGz,
    TarXz,
    TarZst,
    Zip,
    /// The asset is the executable itself.
    Raw,
}

impl Format {
    pub const ALL: [&'static str; 6] = ["tar.gz", "tgz", "tar.xz", "tar.zst", "zip", "raw"];

    pub fn parse(text: &str) -> Option<Format> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "tar.gz" | "tgz" => Format::TarGz,
            "tar.xz" | "txz" => Format::TarXz,
            "tar.zst" | "tar.zstd" | "tzst" => Format::TarZst,
            "zip" => Format::Zip,
            "raw" | "binary" => Format::Raw,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::TarGz => "tar.gz",
            Format::TarXz => "tar.xz",
            Format::TarZst => "tar.zst",
            Format::Zip => "zip",
            Format::Raw => "raw",
        }
    }
}
