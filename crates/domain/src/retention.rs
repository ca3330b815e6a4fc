//! Deleting closed chats: when a failed deletion is tried again.

use crate::time::Millis;

/// How long to wait after the `attempts`-th failed deletion of a chat: `base`, doubled with
/// every further failure, at most `max`. A deletion that keeps failing (a file that cannot be
/// removed) is retried without hammering the store or starving other deletions.
pub fn retry_delay(attempts: u32, base: Millis, max: Millis) -> Millis {
    let base = base.max(1);
    let doublings = attempts.saturating_sub(1).min(62);
    base.checked_mul(1i64 << doublings)
        .map_or(max, |d| d.min(max))
        .max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_base_up_to_max() {
        assert_eq!(retry_delay(1, 1000, 60_000), 1000);
        assert_eq!(retry_delay(2, 1000, 60_000), 2000);
        assert_eq!(retry_delay(3, 1000, 60_000), 4000);
        assert_eq!(retry_delay(7, 1000, 60_000), 60_000);
        assert_eq!(retry_delay(u32::MAX, 1000, 60_000), 60_000);
        assert_eq!(retry_delay(0, 1000, 60_000), 1000);
        assert_eq!(retry_delay(40, i64::MAX / 2, i64::MAX), i64::MAX);
    }
}
