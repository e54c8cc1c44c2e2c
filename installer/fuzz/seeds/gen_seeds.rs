//! Writes the seed corpora: `gen_seeds DIR` creates `DIR/<target>/<seed>`
//! for every fuzz target. The archives are built the way the integration
//! tests build theirs (installer/tests/it/archives.rs): the usual release
//! layouts plus the hostile entries the extractor must refuse (`..`,
//! absolute paths, links out of the tree, devices, duplicates), each in
//! every format. Everything is small: the whole corpus is a few tens of KB.

use std::fs;
use std::io::{Cursor, Write};
use std::path::Path;
use tar::{EntryType, Header};
use zip::write::SimpleFileOptions;

const SCRIPT: &[u8] = b"#!/bin/sh\necho hello\n";

fn main() {
    let out = std::env::args().nth(1).expect("usage: gen_seeds DIR");
    let out = Path::new(&out);

    for (name, tar) in tars() {
        // The plain-tar target gets no 300 KiB seed: libFuzzer's -max_len
        // follows the largest seed, and short inputs run faster.
        if name != "big" {
            put(out, "archive_tar", name, &tar);
        }
        put(out, "archive_targz", name, &gzip(&tar));
        put(out, "archive_tarxz", name, &xz(&tar));
        put(out, "archive_tarzst", name, &zstd(&tar));
    }
    for (name, zip) in zips() {
        put(out, "archive_zip", name, &zip);
    }

    let a = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let b = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    put(
        out,
        "checksums",
        "sha256sum",
        format!("{a}  hello-x86_64-unknown-linux-musl.tar.gz\n{b} *dist/hello.zip\n").as_bytes(),
    );
    put(
        out,
        "checksums",
        "bsd",
        format!("SHA256 (hello.tar.xz) = {a}\nSHA256 (./dist/b.zip) = {b}\n").as_bytes(),
    );
    put(
        out,
        "checksums",
        "mixed",
        format!(
            "# comment\n\n{a}\thello.tgz\r\nbad line\n{}  UPPER.tgz\n",
            b.to_uppercase()
        )
        .as_bytes(),
    );

    put(out, "manifest", "full", br#"{
  "name": "@acme/hello",
  "version": "1.2.3",
  "bin": { "hello": "bin/hello.js" },
  "postbin": {
    "url": "https://github.com/acme/hello/releases/download/v{version}/hello-{target}.{format}",
    "format": "tar.gz",
    "bin": { "hello": "hello-{target}/hello{exe}" },
    "checksums": "https://github.com/acme/hello/releases/download/v{version}/checksums.txt",
    "envPrefix": "HELLO",
    "targets": {
      "x86_64-unknown-linux-gnu": { "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "glibc": "2.28", "size": 1234 },
      "x86_64-unknown-linux-musl": { "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
      "x86_64-pc-windows-msvc": { "format": "zip", "url": "https://example.com/{name}-{os}-{arch}.zip", "bin": { "hello": "hello.exe" } }
    }
  }
}"#);
    put(out, "manifest", "minimal", br#"{"name":"hello","version":"0.1.0","bin":"cli.js","postbin":{"url":"https://h/{version}","targets":{"aarch64-apple-darwin":{"sha256":null}}}}"#);
    put(out, "manifest", "bad_types", br#"{"name":"x","version":"1","postbin":{"targets":{"x86_64-unknown-linux-gnu":{"glibc":2.3,"size":0}},"bin":{"a":""}}}"#);

    put(out, "npmrc", "typical", b"; comment\n# other\n[section]\nproxy = http://${CORP}:3128\npostbin-mirror=\"https://m/${MISSING}x\"\nstrict-ssl=false\nproxy=http://second\nliteral=\\${CORP}\nnovalue\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n");
    put(out, "npmrc", "quotes", b"cafile='/etc/ssl/corp.pem'\nhttps-proxy = \"http://u:p@proxy:8080\"\r\nno-proxy=localhost,.corp,10.0.0.0/8\n=empty-key\nunterminated=${OPEN\n");

    put(out, "url_template", "release", b"https://github.com/o/r/releases/download/v{version}/hello-{target}.{format}\x001.2.3\x00x86_64-unknown-linux-musl\x00tar.gz\x00\x00hello\x00linux\x00amd64");
    put(
        out,
        "url_template",
        "escapes",
        b"{{literal}} {name}-{os}_{arch}{exe} {{{version}}}\x00v\x00t\x00f\x00.exe\x00{name}",
    );
    put(out, "url_template", "unknown", b"https://h/{verison}/{\x00");

    // cache_layout: (name index, kind) pairs, see installer/fuzz/src/cache.rs.
    put(out, "cache_layout", "tmp-link-home", &[1, 2]);
    put(out, "cache_layout", "partial-links", &[6, 3, 11, 4, 12, 5]);
    put(out, "cache_layout", "layout-dirs-linked", &[2, 2, 3, 2, 4, 2, 5, 2, 9, 2]);
    put(out, "cache_layout", "tree-file-out", &[13, 0, 16, 0, 17, 3, 14, 1]);

    put(out, "url_parse", "github", b"https://github.com/o/r/releases/download/v1/a.tgz\x00https://objects.githubusercontent.com/x?sig=1");
    put(
        out,
        "url_parse",
        "creds",
        b"HTTP://user:p%40ss@Mirror.Corp:8080/gh/a.tgz?x=1#frag\x00../other/b.tgz",
    );
    put(
        out,
        "url_parse",
        "ipv6",
        b"http://[::1]:3000/a\x00//[::1]:4000/b",
    );
    put(
        out,
        "url_parse",
        "file",
        b"file:///C:/mirror/a%20b.tgz\x00https://m.corp/gh/",
    );
    put(
        out,
        "url_parse",
        "unc",
        b"file://server/share/x.zip\x00/abs",
    );

    put(out, "http_headers", "seconds", b"120");
    put(
        out,
        "http_headers",
        "date",
        b"Wed, 21 Oct 2015 07:28:00 GMT",
    );
    put(
        out,
        "http_headers",
        "future_date",
        b"Fri, 01 Jan 2100 00:00:00 GMT",
    );
    put(out, "http_headers", "range", b"bytes 100-199/1000");
    put(out, "http_headers", "range_unknown_total", b"bytes 0-0/*");
}

fn put(out: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = out.join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

/// A tar stream, entry by entry, with no checks on names or link targets.
struct Tar(tar::Builder<Vec<u8>>);

impl Tar {
    fn new() -> Tar {
        Tar(tar::Builder::new(Vec::new()))
    }

    fn raw(
        mut self,
        name: &str,
        kind: EntryType,
        mode: u32,
        link: Option<&str>,
        data: &[u8],
    ) -> Tar {
        let mut header = Header::new_gnu();
        {
            let old = header.as_old_mut();
            old.name = [0; 100];
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                old.linkname = [0; 100];
                old.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(data.len() as u64);
        header.set_cksum();
        self.0.append(&header, data).unwrap();
        self
    }

    fn file(self, name: &str, mode: u32, data: &[u8]) -> Tar {
        self.raw(name, EntryType::Regular, mode, None, data)
    }

    fn dir(self, name: &str) -> Tar {
        self.raw(name, EntryType::Directory, 0o755, None, b"")
    }

    fn symlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, EntryType::Symlink, 0o777, Some(target), b"")
    }

    fn hardlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, EntryType::Link, 0o755, Some(target), b"")
    }

    /// A long name through the tar crate's own GNU long-name support.
    fn long(mut self, name: &str, data: &[u8]) -> Tar {
        let mut header = Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(EntryType::Regular);
        self.0.append_data(&mut header, name, data).unwrap();
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn tars() -> Vec<(&'static str, Vec<u8>)> {
    let t = "x86_64-unknown-linux-musl";
    vec![
        (
            "nested",
            Tar::new()
                .dir(&format!("hello-{t}/"))
                .file(&format!("hello-{t}/hello"), 0o755, SCRIPT)
                .file(&format!("hello-{t}/README.md"), 0o644, b"# hello\n")
                .finish(),
        ),
        (
            "flat",
            Tar::new()
                .file("hello", 0o755, SCRIPT)
                .file("README.md", 0o644, b"# hello\n")
                .finish(),
        ),
        (
            "links",
            Tar::new()
                .dir("./")
                .file("bin/real", 0o755, SCRIPT)
                .symlink("bin/alias", "real")
                .symlink("top", "bin/./alias")
                .hardlink("copy", "bin/real")
                .symlink("up/../x", "../bin/real")
                .finish(),
        ),
        (
            "escape_parent",
            Tar::new().file("../evil", 0o644, b"x").finish(),
        ),
        (
            "escape_absolute",
            Tar::new().file("/tmp/evil", 0o644, b"x").finish(),
        ),
        (
            "escape_symlink",
            Tar::new()
                .symlink("out", "../../outside")
                .symlink("abs", "/etc/passwd")
                .finish(),
        ),
        (
            "write_through_link",
            Tar::new()
                .symlink("dir", "..")
                .file("dir/evil", 0o644, b"x")
                .finish(),
        ),
        (
            "duplicate",
            Tar::new()
                .file("a", 0o644, b"1")
                .file("./a", 0o644, b"2")
                .finish(),
        ),
        (
            "device",
            Tar::new()
                .raw("dev", EntryType::Char, 0o644, None, b"")
                .raw("fifo", EntryType::Fifo, 0o644, None, b"")
                .finish(),
        ),
        (
            "long_name",
            Tar::new()
                .long(&format!("{}/{}", "d".repeat(120), "f".repeat(120)), b"long")
                .finish(),
        ),
        (
            "dir_then_file",
            Tar::new()
                .dir("a/")
                .file("a", 0o644, b"x")
                .file("b/c", 0o644, b"y")
                .finish(),
        ),
        (
            "big",
            Tar::new()
                .file("zeros", 0o644, &vec![0u8; 300 * 1024])
                .finish(),
        ),
    ]
}

fn zips() -> Vec<(&'static str, Vec<u8>)> {
    let t = "x86_64-pc-windows-msvc";
    vec![
        (
            "nested",
            Zip::new()
                .file(&format!("hello-{t}/hello.exe"), 0o755, SCRIPT)
                .file(&format!("hello-{t}/README.md"), 0o644, b"# hello\n")
                .finish(),
        ),
        (
            "links",
            Zip::new()
                .file("bin/real", 0o755, SCRIPT)
                .symlink("bin/alias", "real")
                .symlink("out", "../outside")
                .finish(),
        ),
        (
            "hostile_names",
            Zip::new()
                .file("../evil", 0o644, b"x")
                .file("a\\..\\..\\evil", 0o644, b"x")
                .file("C:/evil", 0o644, b"x")
                .finish(),
        ),
        (
            "stored_and_dirs",
            Zip::new().dir("d/").stored("d/f", b"stored bytes").finish(),
        ),
    ]
}

struct Zip(zip::ZipWriter<Cursor<Vec<u8>>>);

impl Zip {
    fn new() -> Zip {
        Zip(zip::ZipWriter::new(Cursor::new(Vec::new())))
    }

    fn file(mut self, name: &str, mode: u32, data: &[u8]) -> Zip {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        self.0.start_file(name, options).unwrap();
        self.0.write_all(data).unwrap();
        self
    }

    fn stored(mut self, name: &str, data: &[u8]) -> Zip {
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        self.0.start_file(name, options).unwrap();
        self.0.write_all(data).unwrap();
        self
    }

    fn dir(mut self, name: &str) -> Zip {
        self.0
            .add_directory(name, SimpleFileOptions::default())
            .unwrap();
        self
    }

    fn symlink(mut self, name: &str, target: &str) -> Zip {
        self.0
            .add_symlink(name, target, SimpleFileOptions::default())
            .unwrap();
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0.finish().unwrap().into_inner()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}
