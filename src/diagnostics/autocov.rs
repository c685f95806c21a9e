//! Autocovariance of a chain at every lag, through a zero-padded FFT (as ArviZ's `autocov`):
//! O(n log n), so diagnostics of long runs stay cheap enough to refresh live.

/// acov[t] = (1/n) sum_{i < n - t} (x_i - mean)(x_{i+t} - mean), for t = 0..n-1.
pub fn autocovariance(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    // Padding to at least 2n keeps the circular correlation from wrapping onto real lags.
    let size = (2 * n).next_power_of_two();
    let mut re = vec![0.0; size];
    let mut im = vec![0.0; size];
    for (r, &v) in re.iter_mut().zip(x) {
        *r = v - mean;
    }
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    re.truncate(n);
    // The inverse transform is unnormalised: divide by `size`, then by n as ArviZ does.
    let scale = 1.0 / (size as f64 * n as f64);
    re.iter_mut().for_each(|v| *v *= scale);
    re
}

/// In-place iterative radix-2 FFT (length a power of two); `inverse` flips the sign of the
/// exponent and does not scale.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * 2.0 * std::f64::consts::PI / len as f64;
        let (w_im, w_re) = angle.sin_cos();
        for start in (0..n).step_by(len) {
            let (mut c_re, mut c_im) = (1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (start + k, start + k + len / 2);
                let t_re = re[b] * c_re - im[b] * c_im;
                let t_im = re[b] * c_im + im[b] * c_re;
                re[b] = re[a] - t_re;
                im[b] = im[a] - t_im;
                re[a] += t_re;
                im[a] += t_im;
                let next = c_re * w_re - c_im * w_im;
                c_im = c_re * w_im + c_im * w_re;
                c_re = next;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::autocovariance;

    #[test]
    fn matches_the_direct_sum() {
        let x: Vec<f64> = (0..37)
            .map(|i| ((i * 7919) % 101) as f64 * 0.3 - 4.0)
            .collect();
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        let fast = autocovariance(&x);
        for t in 0..n {
            let direct: f64 = (0..n - t)
                .map(|i| (x[i] - mean) * (x[i + t] - mean))
                .sum::<f64>()
                / n as f64;
            assert!(
                (fast[t] - direct).abs() < 1e-9,
                "lag {t}: {} vs {direct}",
                fast[t]
            );
        }
    }
}
