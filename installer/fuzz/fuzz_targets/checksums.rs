//! Checksums files (`<hex>  <name>`, `SHA256 (name) = <hex>`), as fetched
//! from a release: every pair found is a real 64-digit hex hash written in
//! the text, names are base names, `find` agrees with `parse`, and a pair
//! written back in sha256sum style parses to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::checksums;
use postbin::hash::Sha256Hash;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs = checksums::parse(text);
    assert!(pairs.len() <= text.lines().count());
    let lower = text.to_ascii_lowercase();
    for (name, hash) in &pairs {
        let hex = hash.hex();
        assert!(
            lower.contains(&hex),
            "hash {hex} is not written in the text (name `{name}`)"
        );
        assert_eq!(Sha256Hash::parse(&hex).as_ref(), Some(hash));
        assert!(!name.contains('/'), "`{name}` is not a base name");
        // `find` returns the first pair of that name.
        let first = pairs.iter().find(|(n, _)| n == name).map(|(_, h)| *h);
        assert_eq!(checksums::find(text, name), first);
        if !name.is_empty() && name.trim() == name && !name.starts_with('*') {
            let line = format!("{hex}  {name}\n");
            assert_eq!(checksums::parse(&line), [(name.clone(), *hash)], "{line:?}");
        }
    }
});
