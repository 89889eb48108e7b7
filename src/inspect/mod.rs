//! Reading distribution archives: zip central directories, wheels and sdists.

pub mod analysis;
pub mod elf;
pub mod needs;
pub mod sdist;
pub mod wheel;
pub mod zipdir;
