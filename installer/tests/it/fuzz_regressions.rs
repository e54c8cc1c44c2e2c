//! Inputs that fuzzing (installer/fuzz, docs/fuzzing.md) found to break an
//! invariant, kept as tests once fixed.

use postbin::checksums;
use postbin::hash::Sha256Hash;
use postbin::net::parse_retry_after;
use std::time::{Duration, UNIX_EPOCH};

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

/// fuzz target `http_headers`: a `Retry-After` HTTP-date with an absurd
/// year or time overflowed the date arithmetic (a panic in debug builds,
/// a garbage wait in release ones). Out-of-range fields are now refused.
#[test]
fn a_retry_after_date_out_of_range_is_ignored() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for value in [
        "W  1 Oct -57266666666626666666:88:6666666 GMT",
        "Wed, 21 Oct 99999999999999999 07:28:00 GMT",
        "Wed, 99999999999999999 Oct 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 9999999999999999:00:00 GMT",
        "Wed, 21 Oct 2015 07:99:00 GMT",
        "Wed, 32 Oct 2015 07:28:00 GMT",
    ] {
        assert_eq!(parse_retry_after(value, now), None, "{value}");
    }
    // Real dates still work: past ones mean now, future ones the wait.
    let past = "Wed, 21 Oct 2015 07:28:00 GMT";
    assert_eq!(parse_retry_after(past, now), Some(Duration::ZERO));
    let soon = "Tue, 14 Nov 2023 22:13:27 GMT"; // now + 7 s
    assert_eq!(parse_retry_after(soon, now), Some(Duration::from_secs(7)));
}
