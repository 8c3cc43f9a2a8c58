//! The release pipeline: plan, check everything up front, run the steps,
//! summarise.

pub mod summary;
pub mod versions;
