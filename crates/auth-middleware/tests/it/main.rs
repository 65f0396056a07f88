//! Integration tests of the middleware against real servers.
