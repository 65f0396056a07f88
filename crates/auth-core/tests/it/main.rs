//! auth-core's integration tests: properties of host keys, matching, the index and redaction,
//! checked on generated input against independent oracles (the `url` crate's WHATWG parser, a
//! linear scan).

mod properties;
