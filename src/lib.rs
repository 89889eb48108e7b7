//! wheelcheck: which files pip would install for a requirements file on each official Python
//! image, and what those files need from the image.
//!
//! The modules follow the data's path: [`requirements`] → [`index`] → [`tags`]/[`target`] →
//! [`resolve`] → [`inspect`] → [`report`].

pub mod diag;
pub mod index;
pub mod inspect;
pub mod metadata;
