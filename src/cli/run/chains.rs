//! What `gibbs-fa run --chains K` writes besides the single-chain files: `draws.csv` (every
//! sweep of every chain, the layout ArviZ and R's posterior read) and `diagnostics.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gibbs_fa::chains::{ChainsDiagnostics, MultiChain, PooledPosterior};
use serde_json::{Map, Value, json};

use super::outputs::write_text;

/// `draws.csv`: one row per chain and sweep, `chain` from 1, `iteration` from 1 counting
/// burn-in, `warmup` 1 for burn-in sweeps, then one column per scalar quantity.
pub fn write_draws(out: &Path, mc: &MultiChain) -> anyhow::Result<PathBuf> {
    let names: Vec<String> = mc.quantities().iter().map(|q| q.name()).collect();
    let burn_in = mc.settings().burn_in;
    let mut text = format!("chain,iteration,warmup,{}\n", names.join(","));
    for chain in mc.chains() {
        for t in 0..mc.iteration() {
            let _ = write!(
                text,
                "{},{},{}",
                chain.index() + 1,
                t + 1,
                u8::from(t < burn_in)
            );
            for q in 0..names.len() {
                let v = chain.values(q)[t];
                // NaN (an RMSE without truth) is written as an empty field.
                if v.is_finite() {
                    let _ = write!(text, ",{v}");
                } else {
                    text.push(',');
                }
            }
            text.push('\n');
        }
    }
    write_text(out, "draws.csv", &text)
}

/// `diagnostics.json`: for every diagnosed scalar (keyed by its `draws.csv` column) its
/// rank-normalised split-R-hat, bulk-ESS, tail-ESS and MCSE of the mean; the classic
/// per-pixel split-R-hat summaries; the pooled RMSE with its MCSE.
pub fn write_diagnostics(
    out: &Path,
    mc: &MultiChain,
    diagnostics: &ChainsDiagnostics,
    pooled: &PooledPosterior,
) -> anyhow::Result<PathBuf> {
    let mut root = Map::new();
    for (name, d) in &diagnostics.scalars {
        let value = match d {
            Some(d) => serde_json::to_value(d)?,
            None => json!({"rhat": null, "ess_bulk": null, "ess_tail": null, "mcse_mean": null}),
        };
        root.insert(name.clone(), value);
    }
    root.insert(
        "per_pixel".into(),
        json!({
            "method": "classic split-R-hat (not rank-normalised) from running first and \
                       second moments of each half of each chain",
            "split": diagnostics.pixel_split,
            "x_missing": diagnostics.missing,
            "sigmasq": diagnostics.sigmasq,
            "mu": diagnostics.mu,
        }),
    );
    let not_diagnosed: Vec<String> = mc
        .quantities()
        .iter()
        .filter(|q| !q.diagnosed())
        .map(|q| q.name())
        .collect();
    root.insert(
        "run".into(),
        json!({
            "chains": diagnostics.chains,
            "draws_per_chain": diagnostics.draws_per_chain,
            "burn_in": mc.settings().burn_in,
            "seeds": mc.chains().iter().map(|c| c.seed()).collect::<Vec<_>>(),
            "method": "rank-normalised split-R-hat, bulk-ESS, tail-ESS, MCSE of the mean \
                       (Vehtari et al. 2021, as ArviZ 0.23) over the draws after burn-in",
            "not_diagnosed": not_diagnosed,
            "not_diagnosed_why": "raw loadings are identified only up to rotation and sign",
            "chains_agree": diagnostics.chains_agree(),
            "rmse_pooled": pooled.rmse,
            "rmse_pooled_mcse": pooled.rmse_mcse,
            "pooled_draws": pooled.draws,
        }),
    );
    let text = serde_json::to_string_pretty(&Value::Object(root))? + "\n";
    write_text(out, "diagnostics.json", &text)
}
