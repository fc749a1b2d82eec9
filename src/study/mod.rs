//! The study's sections as functions: each runs one section's protocol on the data and returns
//! everything its tables and figures need. The command line, the notebooks and `reproduce` call
//! these, so they cannot drift apart.

pub mod knn;
pub mod table1;
