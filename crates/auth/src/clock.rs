//! Where token verification reads the time (`exp`, `nbf`, `iat`; spec
//! envelope §2.7 step 8): the system clock, unless a test or a tool injects
//! another through [`V3AuthConfig::clock`](crate::V3AuthConfig::clock). Never
//! a global: each verifier holds its own.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock stopped at one instant: verifies a recorded token (the spec's
/// test vector) as of the moment it was valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_unix(&self) -> u64 {
        self.0
    }
}

/// The clock a verifier reads, as held by its configuration: the system
/// clock by default, or an injected one (shared, cheap to clone).
#[derive(Clone, Default)]
pub enum ClockSource {
    #[default]
    System,
    Injected(Arc<dyn Clock>),
}

impl ClockSource {
    pub fn new(clock: impl Clock + 'static) -> ClockSource {
        ClockSource::Injected(Arc::new(clock))
    }

    pub fn now_unix(&self) -> u64 {
        match self {
            ClockSource::System => SystemClock.now_unix(),
            ClockSource::Injected(clock) => clock.now_unix(),
        }
    }
}

impl fmt::Debug for ClockSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockSource::System => f.write_str("System"),
            ClockSource::Injected(clock) => clock.fmt(f),
        }
    }
}

// Two configurations are equal when they read the same clock.
impl PartialEq for ClockSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ClockSource::System, ClockSource::System) => true,
            (ClockSource::Injected(a), ClockSource::Injected(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ClockSource {}

#[cfg(test)]
mod tests;
