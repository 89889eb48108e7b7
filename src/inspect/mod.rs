//! Reading distribution archives: zip central directories, wheels and sdists.

pub mod analysis;
pub mod elf;
pub mod inflate;
pub mod needs;
pub mod resume;
pub mod sdist;
pub mod sdist_tail;
pub mod sparse;
pub mod sparse_elf;
pub mod spill;
pub mod wheel;
pub mod zipdir;
