//! End-to-end tests of the bridge binary against the real `comptoir serve` (`real_api.rs` starts
//! it) and real devices (ippeveprinter, a hot folder). Two restart checks use an in-memory
//! stand-in of the API (`stand_in.rs`) because the real server cannot be made to produce their
//! situation on purpose; each says so.

mod crash;
mod demo;
mod hot_folder;
mod ipp;
mod outages;
mod real_api;
mod real_server;
mod stand_in;
mod support;
