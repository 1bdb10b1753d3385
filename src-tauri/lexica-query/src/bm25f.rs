//! BM25F's per-opinion part, defined once for the two programs that compute it: `lexica ingest`,
//! which orders each term's postings by it (`lexica_postings.impact`), and the search core, which
//! scores with it (lexica-core `search/score.rs`). RANKING.md has the whole formula; this is the
//! term weight without its IDF:
//!
//! ```text
//! tf~(t, d)    = Σ_f W_f · tf_f(t, d) / (1 − B_f + B_f · len_f(d) / avglen_f)
//! weight(t, d) = tf~ · (K1 + 1) / (K1 + tf~)            (0 ≤ weight < K1 + 1)
//! ```

/// Field slots, in tsvector weight order: case name (A), citation (B), court (C), body (D).
pub const FIELDS: usize = 4;
/// The body's slot.
pub const BODY: usize = 3;

/// BM25's term-frequency saturation (Lucene's and Elasticsearch's default).
pub const K1: f64 = 1.2;
/// Field weights W_f (case name, citation, court, body). A word of the case name says more
/// about what an opinion is than one of its body; the court's name is nearly the same on every
/// opinion of a court, so it counts little.
pub const FIELD_WEIGHTS: [f64; FIELDS] = [2.0, 1.0, 0.3, 1.0];
/// Length normalization B_f per field. The body gets BM25's usual 0.75; the short fields less,
/// since their length varies little and says little.
pub const FIELD_B: [f64; FIELDS] = [0.5, 0.3, 0.0, 0.75];

/// Each field's length normalizer `1 − B_f + B_f · len_f / avglen_f` (1 where the average is
/// unknown, or the length is: `known[f]` false).
pub fn norms(lengths: [u32; FIELDS], known: [bool; FIELDS], average: [f64; FIELDS]) -> [f64; FIELDS] {
    let mut norm = [1.0; FIELDS];
    for (f, n) in norm.iter_mut().enumerate() {
        if known[f] && average[f] > 0.0 {
            *n = 1.0 - FIELD_B[f] + FIELD_B[f] * f64::from(lengths[f]) / average[f];
        }
    }
    norm
}

/// `tf~`: the fields' occurrences, weighted and length-normalized, added up (`fields[f]` false:
/// the concept does not count in that field, e.g. `ti(…)` outside the case name).
pub fn pseudo_tf(tf: [u32; FIELDS], norms: [f64; FIELDS], fields: [bool; FIELDS]) -> f64 {
    let mut pseudo = 0.0;
    for f in 0..FIELDS {
        if tf[f] > 0 && fields[f] {
            pseudo += FIELD_WEIGHTS[f] * f64::from(tf[f]) / norms[f].max(f64::EPSILON);
        }
    }
    pseudo
}

/// BM25's saturation of a `tf~`.
pub fn saturate(pseudo: f64) -> f64 {
    if pseudo > 0.0 { pseudo * (K1 + 1.0) / (K1 + pseudo) } else { 0.0 }
}

/// The term weight (no IDF) of occurrences `tf` in an opinion of field lengths `lengths`, in a
/// collection of field averages `average`: what `lexica_postings.impact` stores, computed with
/// the source's own averages when the posting is written.
pub fn weight(tf: [u32; FIELDS], lengths: [u32; FIELDS], average: [f64; FIELDS]) -> f64 {
    saturate(pseudo_tf(tf, norms(lengths, [true; FIELDS], average), [true; FIELDS]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_saturates_below_k1_plus_one_and_prefers_short_bodies() {
        let avg = [5.0, 3.0, 4.0, 3000.0];
        let once = weight([0, 0, 0, 1], [5, 3, 4, 3000], avg);
        let many = weight([0, 0, 0, 50], [5, 3, 4, 3000], avg);
        assert!(once > 0.0 && once < many && many < K1 + 1.0, "{once} {many}");
        assert!(weight([0, 0, 0, 3], [5, 3, 4, 1000], avg) > weight([0, 0, 0, 3], [5, 3, 4, 9000], avg));
        assert!(weight([1, 0, 0, 0], [5, 3, 4, 3000], avg) > once, "a case-name word counts double");
        assert_eq!(weight([0; FIELDS], [5, 3, 4, 3000], avg), 0.0);
    }
}
