//! End-to-end tests: the real `auth` binary in a temporary HOME, no network.

mod aws;
mod cargo;
mod completions;
mod config;
mod decision;
mod docker;
mod env_store;
mod errors;
mod fetch;
mod files;
mod git;
mod help;
mod keyring;
mod keys;
mod leaks;
mod netrc;
mod oauth;
mod oauth_leaks;
mod peers;
mod pixi_config;
mod rattler;
mod redirects;
mod round_trip;
mod special_files;
mod status;
mod terminal;
