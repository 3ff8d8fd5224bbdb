//! End-to-end tests of the bridge binary: against the real `comptoir serve` (`real_server.rs`), and
//! against real devices (ippeveprinter, a hot folder) with a stand-in of the comptoir API
//! (`stand_in.rs`) until the real one serves order files.

mod crash;
mod hot_folder;
mod ipp;
mod outages;
mod real_api;
mod real_server;
mod stand_in;
mod support;
