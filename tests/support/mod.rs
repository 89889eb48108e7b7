//! Test support shared by the integration tests: real distribution files ([`dist`]) and a
//! local fixture package index serving them over HTTP ([`server`]).
//!
//! Each `tests/*.rs` that wants it declares `mod support;`; not every test file uses every
//! helper, hence the allowances.
#![allow(dead_code, unused_imports)]

pub mod browser;
pub mod cli;
pub mod dist;
pub mod elf;
pub mod server;
pub mod world;

pub use cli::{Run, package, target, wheelcheck, wheelcheck_with_env};
pub use dist::{Built, Meta, sdist_tar_gz, sdist_tar_gz_pkg_info_last, sdist_zip, wheel};
pub use server::{Fault, FixtureIndex, IndexFile, Logged, PageFormat};
pub use world::World;
