//! End-to-end tests of the real `comptoir` binary: one test binary, shared helpers.

mod api;
mod cancel_refunds;
mod catalog;
mod closures;
mod commerce;
mod conditional_updates;
mod coupons;
mod crash;
mod customer_space;
mod fiscal_year;
mod ledger_reads;
mod legal_mentions;
mod message_notifications;
mod online_rebuild;
mod openapi;
mod packs;
mod print_jobs;
mod quotes;
mod reports;
mod scheduled_reports;
mod serve;
mod shop_profile;
mod smtp_sink;
mod support;
mod time_zones;
mod verify;
