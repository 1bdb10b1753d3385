//! Parse + compile (both backends) of the 195 real research queries; prints µs per query.
//! `cargo run --release -p lexica-query --example bench_parse [QUERY]` (with a QUERY argument
//! it prints that query's check report instead).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use lexica_query::{Filters, Mode, check_report, parse, postgres, sqlite};

fn main() {
    if let Some(q) = std::env::args().nth(1) {
        match check_report(&q, Mode::Boolean) {
            Ok(r) => println!("{r}"),
            Err(e) => println!("{e}"),
        }
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/legal_boolean_queries.jsonl");
    let text = std::fs::read_to_string(path).expect("read queries");
    let queries: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["query"].as_str().expect("query").to_string()
        })
        .collect();
    let filters = Filters::default();
    let rounds = 200;
    let (mut parse_ns, mut total_ns) = (0u128, 0u128);
    let mut all = Vec::with_capacity(rounds * queries.len());
    for _ in 0..rounds {
        for q in &queries {
            let t0 = Instant::now();
            let parsed = parse(q, Mode::Boolean);
            let t1 = Instant::now();
            if let Ok(parsed) = parsed {
                std::hint::black_box(postgres::compile(&parsed, &filters));
                std::hint::black_box(sqlite::compile(&parsed, &filters));
            }
            let t2 = Instant::now();
            parse_ns += (t1 - t0).as_nanos();
            let one = (t2 - t0).as_nanos();
            total_ns += one;
            all.push(one);
        }
    }
    let n = (rounds * queries.len()) as f64;
    all.sort_unstable();
    let p99 = all[all.len() * 99 / 100];
    let worst = all[all.len() - 1];
    println!(
        "{} queries x {rounds} rounds: parse {:.1} µs/query, parse + compile (PostgreSQL and SQLite) {:.1} µs/query, p99 {:.1} µs, worst single {:.1} µs (scheduler noise on a shared machine)",
        queries.len(),
        parse_ns as f64 / n / 1000.0,
        total_ns as f64 / n / 1000.0,
        p99 as f64 / 1000.0,
        worst as f64 / 1000.0
    );
}
