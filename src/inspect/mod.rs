//! Reading distribution archives: zip central directories, wheels and sdists.

pub mod sdist;
pub mod wheel;
pub mod zipdir;
