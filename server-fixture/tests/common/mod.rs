//! Helpers shared by the integration tests: a small release tree in a temp
//! dir, and a raw HTTP/1.1 client over TcpStream that keeps whatever it got
//! when a connection fails, so faults can be observed byte for byte.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

pub const ASSET: &str = "/acme/hello/releases/download/v1.0.0/hello.tar.gz";
pub const ASSET_LEN: usize = 200_000;
pub const CHECKSUMS: &[u8] = b"abc123  hello.tar.gz\n";

pub fn asset_bytes() -> Vec<u8> {
    (0..ASSET_LEN).map(|i| (i * 31 + i / 7) as u8).collect()
}

/// A release tree: one release asset, a checksum file at the root and a
/// nested mirror file.
pub fn release_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, data: &[u8]| {
        let path = dir.path().join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    write(ASSET, &asset_bytes());
    write("/checksums.txt", CHECKSUMS);
    write("/x/y/SHA256SUMS", b"sums\n");
    dir
}

/// The release tree served by a fresh fixture: the tree (kept while it
/// serves) and the fixture.
pub fn serving() -> (tempfile::TempDir, server_fixture::Fixture) {
    let tree = release_tree();
    let fx = server_fixture::Fixture::start(tree.path()).unwrap();
    (tree, fx)
}

pub fn root_file(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel.trim_start_matches('/'))).unwrap()
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Set when reading stopped on an error rather than EOF.
    pub error: Option<io::ErrorKind>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        server_fixture::header_in(&self.headers, name)
    }

    pub fn content_length(&self) -> usize {
        self.header("content-length").unwrap().parse().unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `http://127.0.0.1:PORT/...` → the socket address.
pub fn addr_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    rest.split('/').next().unwrap().parse().unwrap()
}

/// The path-and-query part of an absolute URL.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

pub fn connect(base: &str) -> TcpStream {
    let tcp = TcpStream::connect(addr_of(base)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp
}

/// Sends one request with extra headers and reads the response.
pub fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", addr_of(base));
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    exchange(connect(base), raw.as_bytes())
}

pub fn get(base: &str, path: &str) -> Response {
    request(base, "GET", path, &[])
}

/// Writes `raw` and reads until EOF or an error.
pub fn exchange<S: Read + Write>(mut stream: S, raw: &[u8]) -> Response {
    stream.write_all(raw).unwrap();
    stream.flush().unwrap();
    let (bytes, error) = read_all(&mut stream);
    parse_response(&bytes, error)
}

pub fn read_all(stream: &mut impl Read) -> (Vec<u8>, Option<io::ErrorKind>) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (bytes, None),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (bytes, Some(e.kind())),
        }
    }
}

pub fn parse_response(bytes: &[u8], error: Option<io::ErrorKind>) -> Response {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no response head in {:?} (error {error:?})",
                String::from_utf8_lossy(bytes)
            )
        });
    let head = std::str::from_utf8(&bytes[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_string(), v.trim().to_string())
        })
        .collect();
    Response {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
        error,
    }
}
