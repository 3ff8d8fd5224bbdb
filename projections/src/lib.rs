//! Everything derived from the log: read models, and the one codec that turns domain events into
//! payload bytes and back (here because projections are its main reader; `api` uses it to write).
//!
//! Architecture Invariant: projections never append to the log; they only read it.

pub mod codec;
