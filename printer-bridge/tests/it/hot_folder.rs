//! The hot-folder driver.
