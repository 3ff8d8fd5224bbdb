//! End-to-end tests of the bridge binary against real devices (ippeveprinter, a hot folder) and a
//! stand-in of the comptoir API (see `stand_in.rs`).

mod crash;
mod hot_folder;
mod ipp;
mod outages;
mod stand_in;
mod support;
