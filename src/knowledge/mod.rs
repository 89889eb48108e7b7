//! Facts about the world, loaded from `data/`: the image catalog (and, later, what each image
//! ships and which packages provide which libraries).

pub mod catalog;
pub mod libc;
pub mod system;
