//! URLs (package.json templates rendered, mirrors, redirect `Location`s):
//! a parsed URL is normalized (lowercase scheme and, but for file:, host;
//! path from `/`, without fragment but for file:) and prints back to
//! itself; `Display` and `redact` hide the credentials and keep the rest; a
//! redirect resolves to a path from `/`; file: URLs and mirrors never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::url::{self, Url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `url \0 location-or-mirror`
    let (text, other) = text.split_once('\0').unwrap_or((text, "/x"));
    let _ = url::file_url_path_for(text, false);
    let _ = url::file_url_path_for(text, true);
    let _ = url::apply_mirror(text, other);
    let redacted = url::redact(text);
    let Ok(u) = Url::parse(text) else {
        return;
    };
    assert_eq!(u.scheme, u.scheme.to_ascii_lowercase());
    if u.scheme != "file" {
        assert_eq!(u.host, u.host.to_ascii_lowercase());
    }
    assert!(u.path.starts_with('/'), "{u:?}");
    // A file: URL's path is a local path, `#` included.
    assert!(u.scheme == "file" || !u.path.contains('#'), "{u:?}");
    let _ = (u.is_loopback(), u.file_name(), u.port_or_default());

    // What is sent prints back to the same URL.
    let sent = u.to_string_with_credentials();
    match Url::parse(&sent) {
        Ok(again) => assert!(again == u, "{text:?} -> {sent:?} -> {again:?}"),
        Err(_) => panic!("{text:?} prints as {sent:?}, which does not parse"),
    }
    // The shown form never carries the credentials.
    assert!(!u.host.contains('@'), "{u:?}");
    if u.userinfo.is_some() {
        let shown = u.to_string();
        assert!(
            shown.starts_with(&format!("{}://***@", u.scheme)),
            "{shown:?}"
        );
        let again = Url::parse(&redacted).expect("a redacted URL parses");
        assert_eq!(again.userinfo.as_deref(), Some("***"), "{redacted:?}");
        assert_eq!(
            (&again.host, again.port, &again.path),
            (&u.host, u.port, &u.path)
        );
    }
    // A redirect's Location resolves to an absolute path.
    if let Ok(next) = u.join(other) {
        assert!(next.path.starts_with('/'), "{u:?} + {other:?} = {next:?}");
    }
});
