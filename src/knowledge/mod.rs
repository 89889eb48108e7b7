//! Facts about the world, loaded from `data/`: the image catalog (and, later, what each image
//! ships and which packages provide which libraries).

pub mod build;
pub mod catalog;
pub mod libc;
pub mod system;
pub mod twins;

/// Everything `data/` tells, loaded once per run.
pub struct Knowledge {
    pub catalog: catalog::Catalog,
    pub system: system::SystemData,
    pub build: build::BuildKnowledge,
    pub twins: twins::BinaryTwins,
}
