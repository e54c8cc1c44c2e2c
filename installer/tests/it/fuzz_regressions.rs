//! Inputs that fuzzing (installer/fuzz, docs/fuzzing.md) found to break an
//! invariant, kept as tests once fixed.

use postbin::checksums;
use postbin::hash::Sha256Hash;

/// fuzz target `checksums`: `u8::from_str_radix` takes a leading `+`, so a
/// "hash" with `+` signs in it (`e3+0c4...`) parsed as a different hash
/// (`e300c4...`) instead of being refused as not hex.
#[test]
fn a_hash_with_plus_signs_is_not_hex() {
    let text = "# comment\n\ne3+0c44298fc1c149afbf4c8996fb9242B161E5C1FA7425E73043362938B9824  UPPER.tgz\n";
    assert!(checksums::parse(text).is_empty());
    assert_eq!(Sha256Hash::parse(&"+f".repeat(32)), None);
    assert_eq!(Sha256Hash::parse(&"-0".repeat(32)), None);
    // Both cases of real hex still parse.
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let upper = hex.to_uppercase();
    assert_eq!(
        Sha256Hash::parse(&upper).map(|h| h.hex()).as_deref(),
        Some(hex)
    );
}
