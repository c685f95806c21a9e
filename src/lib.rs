//! gibbs-fa: Bayesian factor analysis with missing data, fitted by Gibbs sampling.
//!
//! The library holds everything but the front ends: datasets ([`data`]), mask generators
//! ([`masks`]), PCA ([`pca`]), the model and its Gibbs sampler ([`model`]), the background
//! sampler thread that front ends drive ([`sampler`]), several chains with convergence
//! diagnostics ([`chains`], [`diagnostics`]) and PNG figures ([`figures`]).
//! The desktop app and the headless CLI live in the binary and only call into this crate.

pub mod chains;
pub mod data;
pub mod diagnostics;
pub mod experiment;
pub mod figures;
pub mod masks;
pub mod model;
pub mod pca;
pub mod reconstruct;
pub mod sampler;
pub mod session;
