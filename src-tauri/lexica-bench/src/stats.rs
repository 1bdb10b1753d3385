//! Order statistics of timings.
//!
//! The median is the middle value (the mean of the two middle ones for an even count); p95 is
//! the nearest-rank percentile (the smallest sample with at least 95% of samples at or below
//! it), so it is always a time that was actually measured. With 5 runs p95 is the slowest run:
//! stated, not hidden, because a small `--repeat` cannot say more.

/// The percentile reported beside the median.
pub const P95: f64 = 0.95;

/// The median of `samples` (`None` when empty).
pub fn median(samples: &[f64]) -> Option<f64> {
    let sorted = sorted(samples);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The nearest-rank `p` percentile (`0 < p <= 1`) of `samples` (`None` when empty).
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let sorted = sorted(samples);
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Milliseconds rounded to 0.1 ms, the resolution worth printing.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p95() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&hundred, P95), Some(95.0));
        assert_eq!(percentile(&[5.0, 1.0, 4.0, 2.0, 3.0], P95), Some(5.0));
        assert_eq!(percentile(&[7.0], P95), Some(7.0));
        assert_eq!(percentile(&[], P95), None);
        assert_eq!(round_ms(12.345), 12.3);
    }
}
