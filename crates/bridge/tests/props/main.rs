//! Seeded property tests of every decoder that reads a caller's input, and the regressions they found.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod decoders;
mod regressions;
