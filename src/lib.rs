//! gibbs-fa: Bayesian factor analysis with missing data, fitted by Gibbs sampling.
//!
//! The library holds everything but the front ends: datasets ([`data`]), mask generators
//! ([`masks`]), PCA ([`pca`]), the model and its Gibbs sampler ([`model`]), the background
//! sampler thread that front ends drive ([`sampler`]), several chains with convergence
//! diagnostics ([`chains`], [`diagnostics`]), other imputers to compare with ([`baselines`],
//! [`mfa`]), PNG figures ([`figures`]) and the library half of the lesson view ([`lesson`]:
//! one conditional at a time, the numbers behind a draw, dream digits, experiment presets).
//! With the `gui` feature (on by default) it also holds the desktop app ([`gui`]), which only
//! calls into the modules above; the headless CLI lives in the binary.

pub mod affinity;
pub mod atomic_write;
pub mod baselines;
pub mod chains;
pub mod data;
pub mod diagnostics;
pub mod experiment;
pub mod figures;
#[cfg(feature = "gui")]
pub mod gui;
pub mod hugepages;
pub mod lesson;
pub mod masks;
pub mod mfa;
pub mod model;
pub mod pca;
pub mod prefetch;
pub mod reconstruct;
pub mod sampler;
pub mod session;
