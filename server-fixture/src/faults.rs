//! Scripted faults: the [`Fault`] kinds, the per-path table of pending
//! faults with their remaining counts, and the split between faults that
//! replace a response ("head" faults: a status, a redirect) and faults that
//! change how a body is sent (cut short, corrupted, throttled, no ranges).
//!
//! Entries for a path are kept in the order they were set and consumed
//! first-in first-out, so a test can script a sequence ("503 once, then 429
//! once, then succeed"). An entry with no count never expires, so entries of
//! the same class queued behind it never apply; `clear_faults` resets.

use std::collections::HashMap;
use std::sync::Mutex;

/// Something to go wrong when a given asset path is requested.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer this status with a short text body.
    Status(u16),
    /// 429 with `Retry-After: retry_after_secs`.
    TooManyRequests { retry_after_secs: u32 },
    /// Send the head (full Content-Length) and `after_bytes` of body, go
    /// silent for `secs` seconds, then close.
    Stall { after_bytes: u64, secs: u32 },
    /// Send the head and `after_bytes` of body, then reset the connection
    /// (the client sees ECONNRESET).
    ResetMidBody { after_bytes: u64 },
    /// Send the head (full Content-Length) and `after_bytes` of body, then
    /// close cleanly.
    Truncate { after_bytes: u64 },
    /// Send a body of the right length whose every byte is wrong (XOR 0xFF).
    WrongBytes,
    /// Send the body with one byte wrong: the one at this offset of the file
    /// (XOR 0xFF); a range that does not cover it is sent intact.
    FlipByteAt { offset: u64 },
    /// Redirect to the same URL with `loop=N+1` in the query, forever.
    RedirectLoop,
    /// 302 to this absolute URL.
    RedirectTo(String),
    /// Throttle the body to about this many bytes per second.
    Slow { bytes_per_sec: u64 },
    /// Ignore `Range` headers: always send the full body with 200.
    NoRange,
    /// Wait this long before answering (a round trip on a slow link); each
    /// hop of a redirect waits again.
    Latency { ms: u64 },
    /// Answer 200 with no `Content-Length` and stream bytes until the client
    /// hangs up (a broken mirror that never ends).
    Endless,
}

/// Which part of a response a fault acts on. Faults of different classes
/// combine (e.g. `NoRange` + `Truncate`); within a class the first pending
/// entry wins.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Head,
    Cut,
    WrongBytes,
    Slow,
    NoRange,
    Latency,
}

fn class(fault: &Fault) -> Class {
    match fault {
        Fault::Status(_)
        | Fault::TooManyRequests { .. }
        | Fault::RedirectLoop
        | Fault::RedirectTo(_)
        | Fault::Endless => Class::Head,
        Fault::Stall { .. } | Fault::ResetMidBody { .. } | Fault::Truncate { .. } => Class::Cut,
        Fault::WrongBytes | Fault::FlipByteAt { .. } => Class::WrongBytes,
        Fault::Slow { .. } => Class::Slow,
        Fault::NoRange => Class::NoRange,
        Fault::Latency { .. } => Class::Latency,
    }
}

/// How a body is cut short, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    Stall { after_bytes: u64, secs: u32 },
    Reset { after_bytes: u64 },
    Truncate { after_bytes: u64 },
}

impl Cut {
    pub fn after_bytes(self) -> u64 {
        match self {
            Cut::Stall { after_bytes, .. }
            | Cut::Reset { after_bytes }
            | Cut::Truncate { after_bytes } => after_bytes,
        }
    }
}

/// The body faults that apply to one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyPlan {
    pub no_range: bool,
    pub wrong_bytes: bool,
    /// The file offset of the one byte to flip.
    pub flip_at: Option<u64>,
    pub slow: Option<u64>,
    pub cut: Option<Cut>,
}

struct Entry {
    fault: Fault,
    /// None: forever. Some(n): n more matching requests.
    remaining: Option<u32>,
}

#[derive(Default)]
pub(crate) struct FaultTable {
    by_path: Mutex<HashMap<String, Vec<Entry>>>,
}

impl FaultTable {
    /// Queues a fault for a path (already normalised with `http::fault_key`).
    pub fn set(&self, key: String, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        let mut map = self.by_path.lock().unwrap();
        map.entry(key).or_default().push(Entry {
            fault,
            remaining: times,
        });
    }

    pub fn clear(&self) {
        self.by_path.lock().unwrap().clear();
    }

    /// Takes the first pending head fault (status or redirect) for `key`.
    pub fn take_head(&self, key: &str) -> Option<Fault> {
        let mut map = self.by_path.lock().unwrap();
        let entries = map.get_mut(key)?;
        take_class(entries, Class::Head, true)
    }

    /// The delay before answering `key`, if one is set (the count is used
    /// up only with `consume`).
    pub fn take_latency(&self, key: &str, consume: bool) -> Option<u64> {
        let mut map = self.by_path.lock().unwrap();
        match take_class(map.get_mut(key)?, Class::Latency, consume)? {
            Fault::Latency { ms } => Some(ms),
            _ => None,
        }
    }

    /// Collects the body faults for one response. With `consume` false (HEAD
    /// requests, which send no body) the counts are left alone, so a HEAD
    /// probe does not use up a fault meant for the download.
    pub fn take_body(&self, key: &str, consume: bool) -> BodyPlan {
        let mut map = self.by_path.lock().unwrap();
        let Some(entries) = map.get_mut(key) else {
            return BodyPlan::default();
        };
        let mut plan = BodyPlan {
            no_range: take_class(entries, Class::NoRange, consume).is_some(),
            ..BodyPlan::default()
        };
        match take_class(entries, Class::WrongBytes, consume) {
            Some(Fault::FlipByteAt { offset }) => plan.flip_at = Some(offset),
            Some(_) => plan.wrong_bytes = true,
            None => {}
        }
        if let Some(Fault::Slow { bytes_per_sec }) = take_class(entries, Class::Slow, consume) {
            plan.slow = Some(bytes_per_sec.max(1));
        }
        plan.cut = match take_class(entries, Class::Cut, consume) {
            Some(Fault::Stall { after_bytes, secs }) => Some(Cut::Stall { after_bytes, secs }),
            Some(Fault::ResetMidBody { after_bytes }) => Some(Cut::Reset { after_bytes }),
            Some(Fault::Truncate { after_bytes }) => Some(Cut::Truncate { after_bytes }),
            _ => None,
        };
        plan
    }
}

/// Returns the first entry of `class`, decrementing (and dropping at zero)
/// its count when `consume` is set.
fn take_class(entries: &mut Vec<Entry>, class_wanted: Class, consume: bool) -> Option<Fault> {
    let i = entries
        .iter()
        .position(|e| class(&e.fault) == class_wanted)?;
    let fault = entries[i].fault.clone();
    if consume && let Some(n) = entries[i].remaining.as_mut() {
        *n -= 1;
        if *n == 0 {
            entries.remove(i);
        }
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_expire_and_queue_in_order() {
        let t = FaultTable::default();
        t.set("/a".into(), Fault::Status(503), Some(1));
        t.set("/a".into(), Fault::Status(500), Some(2));
        assert_eq!(t.take_head("/a"), Some(Fault::Status(503)));
        assert_eq!(t.take_head("/a"), Some(Fault::Status(500)));
        assert_eq!(t.take_head("/a"), Some(Fault::Status(500)));
        assert_eq!(t.take_head("/a"), None);
        assert_eq!(t.take_head("/b"), None);
    }

    #[test]
    fn forever_faults_stay_and_zero_times_is_a_no_op() {
        let t = FaultTable::default();
        t.set("/a".into(), Fault::RedirectLoop, None);
        t.set("/z".into(), Fault::Status(500), Some(0));
        for _ in 0..5 {
            assert_eq!(t.take_head("/a"), Some(Fault::RedirectLoop));
        }
        assert_eq!(t.take_head("/z"), None);
        t.clear();
        assert_eq!(t.take_head("/a"), None);
    }

    #[test]
    fn head_and_body_classes_are_independent() {
        let t = FaultTable::default();
        t.set("/a".into(), Fault::Truncate { after_bytes: 3 }, Some(1));
        t.set("/a".into(), Fault::NoRange, None);
        t.set("/a".into(), Fault::Slow { bytes_per_sec: 0 }, Some(1));
        assert_eq!(t.take_head("/a"), None, "body faults are not head faults");
        // A HEAD request peeks without consuming.
        let peek = t.take_body("/a", false);
        assert_eq!(peek.cut, Some(Cut::Truncate { after_bytes: 3 }));
        let plan = t.take_body("/a", true);
        assert_eq!(
            plan,
            BodyPlan {
                no_range: true,
                wrong_bytes: false,
                flip_at: None,
                slow: Some(1),
                cut: Some(Cut::Truncate { after_bytes: 3 }),
            }
        );
        let plan = t.take_body("/a", true);
        assert_eq!(plan.cut, None);
        assert_eq!(plan.slow, None);
        assert!(plan.no_range);
    }
}
