//! Response headers read by the retry and resume logic: `Retry-After`
//! (delta-seconds or an IMF-fixdate HTTP-date) and `Content-Range`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::net::{parse_content_range_start, parse_retry_after};
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    if let Ok(text) = std::str::from_utf8(data) {
        let wait = parse_retry_after(text, now);
        if let Ok(secs) = text.trim().parse::<u64>() {
            assert_eq!(wait, Some(Duration::from_secs(secs)));
        }
        if let Some(start) = parse_content_range_start(text) {
            assert!(text.trim().starts_with("bytes "), "{text:?} -> {start}");
        }
    }
    // Any date from 1970 to 9999, written as servers write it, parses to
    // the exact wait from now (zero for a date in the past).
    if data.len() >= 8 {
        let at = u64::from_le_bytes(data[..8].try_into().unwrap()) % 253_402_300_800;
        let date = imf_fixdate(at);
        assert_eq!(
            parse_retry_after(&date, now),
            Some(Duration::from_secs(at.saturating_sub(NOW))),
            "{date}"
        );
    }
});

/// `Sun, 06 Nov 1994 08:49:37 GMT` for seconds since the epoch.
fn imf_fixdate(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
