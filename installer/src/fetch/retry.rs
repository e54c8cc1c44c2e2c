//! When to try a source again: backoff with jitter, and a server's
//! `Retry-After`, capped.

use super::Error;
use std::time::Duration;

pub(super) fn error_retry_after(e: &Error) -> Option<Duration> {
    match e {
        Error::Net(n) => n.retry_after(),
        _ => None,
    }
}

/// Cap on how long a server's `Retry-After` can make postbin wait.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Exponential backoff from 500 ms, capped at 8 s, with ±25% jitter so that
/// many installs behind one NAT do not retry in lockstep; `Retry-After` wins
/// up to `MAX_RETRY_AFTER`.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_RETRY_AFTER);
    }
    let base = Duration::from_millis(500)
        .saturating_mul(1 << attempt.min(4))
        .min(Duration::from_secs(8));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = 0.75 + (nanos % 1000) as f64 / 2000.0;
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let a0 = backoff(0, None);
        let a3 = backoff(3, None);
        assert!(
            a0 >= Duration::from_millis(375) && a0 <= Duration::from_millis(625),
            "{a0:?}"
        );
        assert!(
            a3 >= Duration::from_secs(3) && a3 <= Duration::from_secs(5),
            "{a3:?}"
        );
        assert!(backoff(30, None) <= Duration::from_secs(10));
        assert_eq!(
            backoff(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
    }
}
