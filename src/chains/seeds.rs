//! Seeds of the chains of one run: chain 1 keeps the run's seed (so one chain reproduces a
//! single-chain run exactly), chain c > 1 gets a seed hashed from (run seed, c).

/// The seed of chain `chain` (0-based) of a run seeded with `run_seed`.
pub fn chain_seed(run_seed: u64, chain: usize) -> u64 {
    if chain == 0 {
        return run_seed;
    }
    splitmix64(splitmix64(run_seed ^ 0xC4A1_5EED_0000_0000) ^ chain as u64)
}

/// The seed of the random perturbation of a chain's starting point (independent of every
/// stream the sampler draws from its own seed).
pub(crate) fn start_seed(chain_seed: u64) -> u64 {
    splitmix64(chain_seed ^ 0x5747_A127_D15B_E25E)
}

/// SplitMix64 finaliser: nearby inputs give unrelated outputs.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::chain_seed;

    #[test]
    fn first_chain_keeps_the_run_seed_and_the_others_differ() {
        assert_eq!(chain_seed(42, 0), 42);
        let seeds: Vec<u64> = (0..8).map(|c| chain_seed(42, c)).collect();
        for i in 0..8 {
            for j in 0..i {
                assert_ne!(seeds[i], seeds[j]);
            }
        }
        assert_ne!(chain_seed(42, 1), chain_seed(43, 1));
    }
}
