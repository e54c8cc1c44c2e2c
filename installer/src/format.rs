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

/// Every spelling of a format: what package.json's `format` accepts and,
/// with a dot before it, the file name endings release assets use. One
/// table, so the two never drift. The first of each format is the one
/// postbin writes (`as_str`).
const SPELLINGS: &[(&str, Format)] = &[
    ("tar.gz", Format::TarGz),
    ("tgz", Format::TarGz),
    ("tar.xz", Format::TarXz),
    ("txz", Format::TarXz),
    ("tar.zst", Format::TarZst),
    ("tar.zstd", Format::TarZst),
    ("tzst", Format::TarZst),
    ("tzstd", Format::TarZst),
    ("zip", Format::Zip),
    ("raw", Format::Raw),
    ("binary", Format::Raw),
];

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        let text = text.trim().to_ascii_lowercase();
        SPELLINGS.iter().find(|(s, _)| *s == text).map(|(_, f)| *f)
    }

    /// Every spelling `parse` accepts, for messages: the ones postbin
    /// writes, then the others (`tar.gz, ..., raw (also tgz, ...)`).
    pub fn spellings() -> String {
        let written = |(s, f): &&(&str, Format)| f.as_str() == *s;
        let first: Vec<&str> = SPELLINGS.iter().filter(written).map(|(s, _)| *s).collect();
        let also: Vec<&str> = SPELLINGS
            .iter()
            .filter(|e| !written(e))
            .map(|(s, _)| *s)
            .collect();
        format!("{} (also {})", first.join(", "), also.join(", "))
    }

    /// The format a file name's ending says, with the ending's length: an
    /// archive extension (`.tar.gz`, `.tgz`, ...), or `.exe`, a bare
    /// executable. Any case.
    pub fn of_file_name(name: &str) -> Option<(Format, usize)> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".exe") {
            return Some((Format::Raw, 4));
        }
        SPELLINGS
            .iter()
            .filter(|(_, f)| *f != Format::Raw)
            .find(|(s, _)| {
                lower.len() > s.len() + 1
                    && lower.ends_with(s)
                    && lower.as_bytes()[lower.len() - s.len() - 1] == b'.'
            })
            .map(|(s, f)| (*f, s.len() + 1))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_for_spellings_and_file_names() {
        for (text, want) in [
            ("TGZ", Format::TarGz),
            (" tar.zstd ", Format::TarZst),
            ("binary", Format::Raw),
        ] {
            assert_eq!(Format::parse(text), Some(want), "{text}");
        }
        assert_eq!(Format::parse("tar.bz2"), None);
        assert_eq!(
            Format::spellings(),
            "tar.gz, tar.xz, tar.zst, zip, raw (also tgz, txz, tar.zstd, tzst, tzstd, binary)"
        );
        assert_eq!(Format::of_file_name("a.TAR.GZ"), Some((Format::TarGz, 7)));
        assert_eq!(Format::of_file_name("a.tzstd"), Some((Format::TarZst, 6)));
        assert_eq!(Format::of_file_name("a.exe"), Some((Format::Raw, 4)));
        assert_eq!(Format::of_file_name("tgz"), None);
        assert_eq!(Format::of_file_name("hello-linux"), None);
        for f in [
            Format::TarGz,
            Format::TarXz,
            Format::TarZst,
            Format::Zip,
            Format::Raw,
        ] {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
    }
}
