//! Device and API outages.
