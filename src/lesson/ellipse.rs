//! The ellipse of a 2-D Gaussian: what a plot draws for two chosen factors of z_n.

use nalgebra::{DMatrix, Matrix2};

use super::LessonError;

/// The one-standard-deviation ellipse {x : (x - c)^T S^-1 (x - c) = 1} of a 2-D Gaussian
/// N(c, S); scale the semi-axes by [`Ellipse::radius_for_probability`] for a region that
/// holds a given probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Ellipse {
    /// The two factors shown (horizontal, vertical).
    pub factors: (usize, usize),
    /// The mean of the two factors.
    pub centre: [f64; 2],
    /// Semi-axis lengths, major first: the square roots of the eigenvalues of S.
    pub semi_axes: [f64; 2],
    /// Angle of the major axis from the horizontal (first factor) axis, radians in
    /// (-pi/2, pi/2].
    pub angle: f64,
}

impl Ellipse {
    /// The ellipse of factors `factors` of N(mean, cov) (M-dimensional; the marginal of the
    /// two factors is N(mean[a, b], cov[[a, b], [a, b]])).
    pub fn of_marginal(
        mean: &[f64],
        cov: &DMatrix<f64>,
        factors: (usize, usize),
    ) -> Result<Ellipse, LessonError> {
        let (a, b) = factors;
        let m = mean.len();
        if a == b || a >= m || b >= m || cov.shape() != (m, m) {
            return Err(LessonError::BadFactorPair { a, b, m });
        }
        let s = Matrix2::new(cov[(a, a)], cov[(a, b)], cov[(b, a)], cov[(b, b)]);
        Ellipse::from_covariance([mean[a], mean[b]], &s, factors)
    }

    /// The ellipse of N(centre, s) for a 2 x 2 symmetric positive semi-definite `s`.
    pub fn from_covariance(
        centre: [f64; 2],
        s: &Matrix2<f64>,
        factors: (usize, usize),
    ) -> Result<Ellipse, LessonError> {
        let (p, q, r) = (s[(0, 0)], 0.5 * (s[(0, 1)] + s[(1, 0)]), s[(1, 1)]);
        if !(p.is_finite() && q.is_finite() && r.is_finite()) || p < 0.0 || r < 0.0 {
            return Err(LessonError::NotPositiveDefinite {
                what: "the 2 x 2 covariance",
            });
        }
        let half_trace = 0.5 * (p + r);
        let radius = (0.25 * (p - r) * (p - r) + q * q).sqrt();
        let major = half_trace + radius;
        let minor = (half_trace - radius).max(0.0);
        let angle = 0.5 * (2.0 * q).atan2(p - r);
        Ok(Ellipse {
            factors,
            centre,
            semi_axes: [major.sqrt(), minor.sqrt()],
            angle,
        })
    }

    /// The radius (in standard deviations) of the ellipse that holds probability `p` of a 2-D
    /// Gaussian: sqrt(-2 ln(1 - p)) (the chi-square with 2 degrees of freedom). 0.393 for 1,
    /// 0.95 for 2.448.
    pub fn radius_for_probability(p: f64) -> f64 {
        (-2.0 * (1.0 - p.clamp(0.0, 1.0)).ln()).sqrt()
    }

    /// `count` points on the ellipse scaled by `radius`, then the first again, so a line drawn
    /// through them closes (a plot line does not join its ends: the lesson's rings had a gap).
    pub fn points(&self, radius: f64, count: usize) -> Vec<[f64; 2]> {
        let (c, s) = (self.angle.cos(), self.angle.sin());
        (0..=count)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / count.max(1) as f64;
                let (u, v) = (
                    radius * self.semi_axes[0] * t.cos(),
                    radius * self.semi_axes[1] * t.sin(),
                );
                [
                    self.centre[0] + c * u - s * v,
                    self.centre[1] + s * u + c * v,
                ]
            })
            .collect()
    }

    /// The covariance this ellipse describes: R diag(axes^2) R^T.
    pub fn covariance(&self) -> Matrix2<f64> {
        let (c, s) = (self.angle.cos(), self.angle.sin());
        let rot = Matrix2::new(c, -s, s, c);
        let d = Matrix2::new(
            self.semi_axes[0].powi(2),
            0.0,
            0.0,
            self.semi_axes[1].powi(2),
        );
        rot * d * rot.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn the_ellipse_gives_back_its_covariance() {
        for s in [
            Matrix2::new(4.0, 1.5, 1.5, 1.0),
            Matrix2::new(1.0, -0.9, -0.9, 2.0),
            Matrix2::new(2.0, 0.0, 0.0, 3.0),
        ] {
            let e = Ellipse::from_covariance([1.0, -2.0], &s, (0, 1)).unwrap();
            assert!(e.semi_axes.iter().all(|v| v.is_finite()) && e.angle.is_finite());
            assert!(e.semi_axes[0] >= e.semi_axes[1]);
            assert!(
                (e.covariance() - s).abs().max() < 1e-12,
                "{s} vs {}",
                e.covariance()
            );
        }
        // Major axis along the vertical factor: angle pi/2.
        let e =
            Ellipse::from_covariance([0.0; 2], &Matrix2::new(1.0, 0.0, 0.0, 9.0), (2, 5)).unwrap();
        assert_eq!(e.semi_axes, [3.0, 1.0]);
        assert!((e.angle - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!(
            Ellipse::from_covariance([0.0; 2], &Matrix2::new(-1.0, 0.0, 0.0, 1.0), (0, 1)).is_err()
        );
    }

    #[test]
    fn the_95_percent_ellipse_holds_95_percent_of_draws() {
        let s = Matrix2::new(3.0, 1.2, 1.2, 1.0);
        let centre = [0.5, -1.0];
        let e = Ellipse::from_covariance(centre, &s, (0, 1)).unwrap();
        let l = s.cholesky().unwrap().l();
        let radius = Ellipse::radius_for_probability(0.95);
        let (c, sn) = (e.angle.cos(), e.angle.sin());
        let mut rng = SmallRng::seed_from_u64(9);
        let draws = 20_000;
        let mut inside = 0usize;
        for _ in 0..draws {
            let g = nalgebra::Vector2::new(
                StandardNormal.sample(&mut rng),
                StandardNormal.sample(&mut rng),
            );
            let x = l * g;
            // Coordinates along the ellipse's axes, in units of its semi-axes.
            let u = (c * x[0] + sn * x[1]) / e.semi_axes[0];
            let v = (-sn * x[0] + c * x[1]) / e.semi_axes[1];
            if u * u + v * v <= radius * radius {
                inside += 1;
            }
        }
        let frac = inside as f64 / draws as f64;
        let se = (0.95f64 * 0.05 / draws as f64).sqrt();
        assert!((frac - 0.95).abs() < 4.0 * se, "{frac}");
        // Points lie on the scaled ellipse, and the ring closes.
        let ring = e.points(radius, 16);
        assert_eq!(ring.len(), 17);
        let (first, last) = (ring[0], ring[16]);
        assert!((first[0] - last[0]).abs() < 1e-12 && (first[1] - last[1]).abs() < 1e-12);
        for p in ring {
            let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
            let u = (c * x + sn * y) / e.semi_axes[0];
            let v = (-sn * x + c * y) / e.semi_axes[1];
            assert!(((u * u + v * v).sqrt() - radius).abs() < 1e-9);
        }
    }

    #[test]
    fn a_marginal_needs_two_different_factors() {
        let cov = DMatrix::<f64>::identity(3, 3);
        let mean = [1.0, 2.0, 3.0];
        let e = Ellipse::of_marginal(&mean, &cov, (2, 0)).unwrap();
        assert_eq!(e.centre, [3.0, 1.0]);
        assert!(Ellipse::of_marginal(&mean, &cov, (1, 1)).is_err());
        assert!(Ellipse::of_marginal(&mean, &cov, (0, 3)).is_err());
    }
}
