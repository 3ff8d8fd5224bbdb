//! End-to-end tests of the real `comptoir` binary: one test binary, shared helpers.

mod api;
mod commerce;
mod coupons;
mod openapi;
mod packs;
mod print_jobs;
mod reports;
mod scheduled_reports;
mod serve;
mod support;
mod time_zones;
mod verify;
