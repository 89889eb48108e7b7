//! wheelcheck: which files pip would install for a requirements file on each official Python
//! image, and what those files need from the image.
//!
//! The modules follow the data's path: [`requirements`] → [`index`] → [`tags`]/[`target`] →
//! [`resolve`] → [`inspect`] → [`knowledge`] → [`report`]. [`app`] runs them in order.

pub mod app;
pub mod cli;
pub mod diag;
pub mod dockerfile_input;
pub mod filename;
pub mod guard;
pub mod index;
pub mod inputs;
pub mod inspect;
pub mod knowledge;
pub mod metadata;
pub mod progress;
pub mod report;
pub mod requirements;
pub mod resolve;
pub mod tags;
pub mod target;
pub mod verdict;
