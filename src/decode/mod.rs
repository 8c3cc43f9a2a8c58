//! Pure decoders: functions of a string, no file, no process, no request.
//! They sit at the bottom so that `settings` can judge a value's shape
//! without importing a subsystem.

pub mod pypi_name;
pub mod pypi_token;
