//! The reference store: the whole upstream contract on SQLite.
//!
//! STUB: to be written (owner: store).
