//! A fuzzed cache layout (directories, files, symlinks and hard links into
//! a decoy "home", at the names the cache uses), then what installs and
//! `cache clean`/`verify` do to a cache: open it, sweep its temp entries,
//! lock and unlock entries, read archives, trees and metadata, inventory
//! and check every entry, remove them. Nothing outside the cache may
//! change (docs/design-notes.md, "Threat model").
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::cache::Cache;
use postbin::hash::hash_bytes;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(scratch) = tempfile::tempdir() else { return };
    let decoy = scratch.path().join("home");
    postbin_fuzz::cache::make_decoy(&decoy);
    let cache_dir = scratch.path().join("cache");
    let sha = hash_bytes(b"an archive");
    postbin_fuzz::cache::poison(&cache_dir, &decoy, &sha.hex(), data);
    // After poisoning: building the layout writes through its own links.
    let before = postbin_fuzz::cache::snapshot(&decoy);

    if let Ok(cache) = Cache::open(&cache_dir) {
        exercise(&cache, &sha);
    }
    if let Ok(cache) = Cache::open_or_temp(&cache_dir, false) {
        exercise(&cache, &sha);
    }
    assert_eq!(
        postbin_fuzz::cache::snapshot(&decoy),
        before,
        "something outside the cache changed"
    );
});

fn exercise(cache: &Cache, sha: &postbin::hash::Sha256Hash) {
    cache.sweep_temp(Duration::ZERO);
    if let Ok(lock) = cache.lock(sha) {
        let _ = cache.checked_archive(sha);
        let _ = cache.tree(sha);
        let _ = cache.meta(sha);
        cache.touch(sha);
        drop(lock);
    }
    if let Ok(inventory) = cache.inventory() {
        for entry in &inventory.entries {
            let _ = cache.check_entry(&entry.sha);
            if let Ok(Some(lock)) = cache.try_lock(&entry.sha) {
                cache.remove_entry(entry, true, true, &lock);
            }
        }
    }
    cache.sweep_temp(Duration::ZERO);
}
