//! .npmrc text: keys are unique (the last assignment wins) and trimmed,
//! comment and section lines never yield entries, and `${VAR}` expansion
//! never invents text: with every variable unset, a value is no longer than
//! the raw value it came from, and with variables set it contains them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::npmrc;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("/fuzz/.npmrc");
    let unset = npmrc::parse(text, file, &|_| None);
    let set = npmrc::parse(text, file, &|name| Some(format!("<{name}>")));
    assert_eq!(unset.len(), set.len());
    for (i, e) in unset.iter().enumerate() {
        assert_eq!(e.key, e.key.trim(), "untrimmed key");
        assert!(
            !e.key.starts_with([';', '#', '[']),
            "a comment or section became key `{}`",
            e.key
        );
        assert!(!e.key.contains('='), "key `{}` holds the `=`", e.key);
        assert!(
            !unset[..i].iter().any(|o| o.key == e.key),
            "duplicate key `{}`",
            e.key
        );
        assert_eq!(e.key, set[i].key);
        assert_eq!(e.file, file);
        // The raw value: from the last line assigning this key.
        let raw = text
            .lines()
            .filter_map(|l| l.trim().split_once('='))
            .filter(|(k, _)| k.trim() == e.key)
            .map(|(_, v)| v.trim())
            .last()
            .expect("the key comes from some line");
        assert!(
            e.value.len() <= raw.len(),
            "{:?} expanded to the longer {:?} with no variable set",
            raw,
            e.value
        );
        assert!(!e.value.contains('\n'));
    }
    let rc = npmrc::Npmrc::from_entries(unset.clone());
    for e in &unset {
        assert_eq!(rc.get(&e.key), Some(e));
    }
});
