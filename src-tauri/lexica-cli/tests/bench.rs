//! `lexica bench` on the built-in sample source: the JSON shape, and a bad line skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use serde_json::Value;

fn bench(home: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("lexica")
        .unwrap()
        .env_remove("LEXICA_HOME")
        .arg("--home")
        .arg(home)
        .arg("bench")
        .args(args)
        .assert()
}

#[test]
fn bench_json_has_one_entry_per_query_with_per_source_figures() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("queries.txt");
    // A plain query, a JSON line in the corpus's format, a connector query.
    std::fs::write(
        &file,
        "hearsay\n{\"query\": \"\\\"due process\\\"\", \"topic_text\": \"x\"}\n\ncourt /s jurisdiction\n",
    )
    .unwrap();
    let out = bench(home.path(), &[file.to_str().unwrap(), "--repeat", "1", "--json"]).success().get_output().clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
    let queries = report["queries"].as_array().unwrap();
    let texts: Vec<&str> = queries.iter().map(|q| q["query"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hearsay", "\"due process\"", "court /s jurisdiction"]);
    assert_eq!(queries.iter().map(|q| q["line"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 4]);
    for q in queries {
        let (median, p95) = (q["median_ms"].as_f64().unwrap(), q["p95_ms"].as_f64().unwrap());
        assert!(median > 0.0 && p95 >= median, "{q}");
        assert_eq!(q["runs"], 1);
        let sources = q["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 1, "{q}");
        let s = &sources[0];
        assert_eq!(s["name"], "sample_opinions");
        assert_eq!(s["status"], "completed", "{s}");
        assert!(s["median_ms"].as_f64().unwrap() >= 0.0);
        // Filled by the search core when it counts matches; null until then.
        assert!(s["matches"].is_null() || s["matches"].is_u64(), "{s}");
        assert!(s["matches_estimated"].is_null() || s["matches_estimated"].is_boolean(), "{s}");
        // No --baseline: none.
        assert!(s["baseline"].is_null(), "{s}");
    }
    assert_eq!(report["skipped"], Value::Array(vec![]));
    assert_eq!(report["summary"]["queries"], 3);
    assert!(report["summary"]["median_ms"].as_f64().unwrap() > 0.0);
    assert!(report["summary"]["baseline"].is_null());
}

#[test]
fn a_malformed_line_is_reported_and_skipped_and_the_table_has_the_rest() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("queries.txt");
    std::fs::write(&file, "hearsay /p (object!\n{not json\nhearsay\n").unwrap();
    let out = bench(home.path(), &[file.to_str().unwrap(), "--repeat", "2", "--baseline", "ts-rank-cd"])
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("skipped line 1:") && stdout.contains("skipped line 2: malformed JSON"), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.contains("sample_opinions")).collect();
    assert_eq!(rows.len(), 1, "{stdout}");
    // An SQLite source has no ts_rank_cd baseline.
    assert!(rows[0].contains("hearsay") && rows[0].contains("completed") && rows[0].contains("n/a"), "{stdout}");
    assert!(stdout.contains("1 quer(ies), 2 timed run(s) each"), "{stdout}");
}
