//! package.json with its `postbin` section: never a panic, and whatever is
//! accepted has the shape the rest of the installer relies on (a name and a
//! version, at least one target, no empty strings in the `bin` maps).
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::manifest::{Error, Manifest};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/package.json");
    match Manifest::parse(text, path) {
        Ok(m) => {
            assert!(!m.name.trim().is_empty());
            assert!(!m.version.trim().is_empty());
            assert!(!m.postbin.targets.is_empty());
            let bins = m
                .bin
                .values()
                .chain(m.postbin.bin.iter().flat_map(|b| b.values()));
            let target_bins = m
                .postbin
                .targets
                .values()
                .flat_map(|t| t.bin.iter().flat_map(|b| b.values()));
            for v in bins.chain(target_bins) {
                assert!(!v.trim().is_empty(), "an empty bin path was accepted");
            }
            for s in [
                &m.postbin.url,
                &m.postbin.format,
                &m.postbin.version,
                &m.postbin.checksums,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!s.trim().is_empty(), "an empty string was accepted");
            }
        }
        Err(e) => {
            // Invalid JSON is reported as such, and every message renders.
            if serde_json::from_str::<serde_json::Value>(text).is_err() {
                assert!(matches!(e, Error::Json { .. }), "{e:?}");
            }
            let _ = e.to_string();
        }
    }
});
