//! Fixture tests on real PostgreSQL and SQLite: every operator returns exactly the opinions
//! the exact checker (the reference) says, on both backends.
//!
//! PostgreSQL comes from `LEXICA_TEST_PG_URL` (a superuser URL; the test creates and drops its
//! own database). Unset: the test fails under `CI`, and skips with a notice elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Read;

use lexica_query::{BindValue, Document, Filters, Mode, Plan, Query, check, parse, postgres, sqlite, text};
use sqlx::{AssertSqlSafe, PgPool, Row, SqlitePool};

const PG_SCHEMA: &str = include_str!("../../../migrations/source-postgres/0001_opinions.sql");
const SQLITE_SCHEMA: &str = include_str!("../../../migrations/source-sqlite/0001_opinions.sql");

#[derive(Debug, Clone)]
struct Opinion {
    id: i64,
    case_name: String,
    citation: Option<String>,
    court: String,
    decided_on: Option<String>,
    body: String,
}

fn op(id: i64, case_name: &str, court: &str, decided_on: &str, body: &str) -> Opinion {
    Opinion {
        id,
        case_name: case_name.into(),
        citation: None,
        court: court.into(),
        decided_on: Some(decided_on.into()),
        body: body.into(),
    }
}

/// Small opinions where the right answer is known by construction.
fn fixtures() -> Vec<Opinion> {
    let mut v = vec![
        op(1, "Alpha v. One", "Supreme Court", "2001-01-01", "alpha one two beta stop."),
        op(2, "Beta v. Two", "Supreme Court", "2002-01-01", "beta one two alpha stop."),
        op(3, "Gap v. Four", "Supreme Court", "2003-01-01", "alpha one two three beta stop."),
        op(4, "Para v. Split", "First Circuit", "2011-06-01", "The gamma rule here.\n\nThe delta rule there."),
        op(5, "Sent v. Split", "First Circuit", "2012-06-01", "The gamma rule here. The delta rule there."),
        op(6, "Same v. Sentence", "First Circuit", "2013-06-01", "Both gamma and delta are in one sentence."),
        op(7, "Obj v. Tion", "Second Circuit", "2014-01-01", "Counsel made an objection at trial."),
        op(8, "Obj v. Ting", "Second Circuit", "2015-01-01", "The objecting party was heard."),
        op(9, "Plain v. Object", "Second Circuit", "2016-01-01", "The object of the contract was plain."),
        op(
            10,
            "Smith v. Jones",
            "Court of Appeals of New York",
            "2009-03-03",
            "A dispute over the breach of contract and the parties.",
        ),
        op(
            11,
            "Doe v. Roe",
            "Supreme Court",
            "2010-12-31",
            "Smith testified about the breach of the contracts by each party.",
        ),
        op(12, "Excl v. Usion", "Supreme Court", "2008-01-01", "alpha appears here with epsilon."),
        op(
            13,
            "Due v. Process",
            "Supreme Court",
            "2018-01-01",
            "The due process clause protects a party. Due process of law.",
        ),
    ];
    v[9].citation = Some("347 U.S. 483".into());
    v
}

fn paragraphs(o: &Opinion) -> Vec<String> {
    text::paragraphs(&o.body)
}

fn reference(q: &Query, ops: &[Opinion]) -> BTreeSet<i64> {
    ops.iter()
        .filter(|o| {
            let paras = paragraphs(o);
            let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
            check(&q_ref(q), &doc(o, &refs))
        })
        .map(|o| o.id)
        .collect()
}

fn q_ref(q: &Query) -> Query {
    q.clone()
}

fn doc<'a>(o: &'a Opinion, paras: &'a [&'a str]) -> Document<'a> {
    Document {
        case_name: &o.case_name,
        citation: o.citation.as_deref(),
        court: &o.court,
        decided_on: o.decided_on.as_deref(),
        paragraphs: paras,
    }
}

async fn load_pg(pool: &PgPool, ops: &[Opinion]) {
    sqlx::raw_sql(PG_SCHEMA).execute(pool).await.unwrap();
    for o in ops {
        sqlx::query(
            "INSERT INTO opinions (id, source_id, case_name, citation, court, jurisdiction, decided_on, body, search_vector) \
             OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, 'federal', $6::date, $7, \
             setweight(to_tsvector('simple', $8), 'A') || setweight(to_tsvector('simple', $9), 'B') || \
             setweight(to_tsvector('simple', $10), 'C') || setweight(to_tsvector('simple', $11), 'D'))",
        )
        .bind(o.id)
        .bind(format!("fixture:{}", o.id))
        .bind(&o.case_name)
        .bind(&o.citation)
        .bind(&o.court)
        .bind(&o.decided_on)
        .bind(&o.body)
        .bind(text::normalize(&o.case_name))
        .bind(text::normalize(o.citation.as_deref().unwrap_or("")))
        .bind(text::normalize(&o.court))
        .bind(text::normalize(&o.body))
        .execute(pool)
        .await
        .unwrap();
        for (i, p) in paragraphs(o).iter().enumerate() {
            sqlx::query(
                "INSERT INTO opinion_paragraphs (opinion_id, paragraph_no, body, search_vector) VALUES ($1, $2, $3, to_tsvector('simple', $4))",
            )
            .bind(o.id)
            .bind(i as i32)
            .bind(p)
            .bind(text::normalize(p))
            .execute(pool)
            .await
            .unwrap();
        }
    }
}

async fn load_sqlite(pool: &SqlitePool, ops: &[Opinion]) {
    sqlx::raw_sql(SQLITE_SCHEMA).execute(pool).await.unwrap();
    for o in ops {
        sqlx::query(
            "INSERT INTO opinions (id, source_id, case_name, citation, court, jurisdiction, decided_on, body) VALUES (?1, ?2, ?3, ?4, ?5, 'federal', ?6, ?7)",
        )
        .bind(o.id)
        .bind(format!("fixture:{}", o.id))
        .bind(&o.case_name)
        .bind(&o.citation)
        .bind(&o.court)
        .bind(&o.decided_on)
        .bind(&o.body)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO opinions_fts (rowid, case_name, citation, court, body) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(o.id)
            .bind(text::normalize(&o.case_name))
            .bind(text::normalize(o.citation.as_deref().unwrap_or("")))
            .bind(text::normalize(&o.court))
            .bind(text::normalize(&o.body))
            .execute(pool)
            .await
            .unwrap();
        for (i, p) in paragraphs(o).iter().enumerate() {
            let id: i64 = sqlx::query(
                "INSERT INTO opinion_paragraphs (opinion_id, paragraph_no, body) VALUES (?1, ?2, ?3) RETURNING id",
            )
            .bind(o.id)
            .bind(i as i64)
            .bind(p)
            .fetch_one(pool)
            .await
            .unwrap()
            .get(0);
            sqlx::query("INSERT INTO paragraphs_fts (rowid, body) VALUES (?1, ?2)")
                .bind(id)
                .bind(text::normalize(p))
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                BindValue::Text(s) => q.bind(s.clone()),
                BindValue::Int(n) => q.bind(*n),
            };
        }
        q
    }};
}

const PARAGRAPHS_PG: &str = "SELECT body FROM opinion_paragraphs WHERE opinion_id = $1 ORDER BY paragraph_no";
const PARAGRAPHS_SQLITE: &str = "SELECT body FROM opinion_paragraphs WHERE opinion_id = ?1 ORDER BY paragraph_no";

/// A candidate row: id, the checker's fields, and the clause flags of a near-miss plan.
struct Row_ {
    id: i64,
    case_name: String,
    citation: Option<String>,
    court: String,
    decided_on: Option<String>,
    flags: Vec<bool>,
}

fn row_of<R: Row>(r: &R, clauses: usize) -> Row_
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Row_ {
        id: r.get(0),
        case_name: r.get(1),
        citation: r.get(2),
        court: r.get(3),
        decided_on: r.get(5),
        flags: (0..clauses).map(|i| r.get::<i32, _>(7 + i) != 0).collect(),
    }
}

/// The tier of a candidate (0 exact, k = clauses missing) by the plan's rules, or `None` when
/// the checker drops it.
fn tier(q: &Query, plan: &Plan, row: &Row_, paras: &[String]) -> Option<usize> {
    let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
    let document = Document {
        case_name: &row.case_name,
        citation: row.citation.as_deref(),
        court: &row.court,
        decided_on: row.decided_on.as_deref(),
        paragraphs: &refs,
    };
    if plan.clauses.is_empty() {
        return (!plan.needs_check || check(q, &document)).then_some(0);
    }
    let j = q.conjunction().unwrap();
    if plan.exclusion_needs_check && j.exclude.as_ref().is_some_and(|x| check(x, &document)) {
        return None;
    }
    let missing = (0..j.clauses.len())
        .filter(|&i| !(row.flags[i] && (!plan.clauses[i].needs_check || check(&j.clauses[i], &document))))
        .count();
    Some(missing)
}

/// Runs a plan, then (if the plan says so) the exact check on each candidate. Returns
/// (id, tier) in result order; an exact-only plan gives tier 0 throughout.
async fn run_pg_tiers(pool: &PgPool, q: &Query, plan: &Plan) -> Vec<(i64, usize)> {
    let rows = bind_all!(sqlx::query(AssertSqlSafe(plan.sql.clone())), &plan.binds)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{plan}"));
    let mut out = Vec::new();
    for r in rows {
        let row = row_of(&r, plan.clauses.len());
        let paras: Vec<String> = sqlx::query_scalar(PARAGRAPHS_PG).bind(row.id).fetch_all(pool).await.unwrap();
        if let Some(t) = tier(q, plan, &row, &paras) {
            out.push((row.id, t));
        }
    }
    out
}

async fn run_sqlite_tiers(pool: &SqlitePool, q: &Query, plan: &Plan) -> Vec<(i64, usize)> {
    let rows = bind_all!(sqlx::query(AssertSqlSafe(plan.sql.clone())), &plan.binds)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{plan}"));
    let mut out = Vec::new();
    for r in rows {
        let row = row_of(&r, plan.clauses.len());
        let paras: Vec<String> = sqlx::query_scalar(PARAGRAPHS_SQLITE).bind(row.id).fetch_all(pool).await.unwrap();
        if let Some(t) = tier(q, plan, &row, &paras) {
            out.push((row.id, t));
        }
    }
    out
}

async fn run_pg(pool: &PgPool, q: &Query, plan: &Plan) -> Vec<i64> {
    run_pg_tiers(pool, q, plan).await.into_iter().filter(|(_, t)| *t == 0).map(|(id, _)| id).collect()
}

async fn run_sqlite(pool: &SqlitePool, q: &Query, plan: &Plan) -> Vec<i64> {
    run_sqlite_tiers(pool, q, plan).await.into_iter().filter(|(_, t)| *t == 0).map(|(id, _)| id).collect()
}

struct Backends {
    pg: PgPool,
    sqlite: SqlitePool,
    admin: PgPool,
    db: String,
}

async fn setup(ops: &[Opinion]) -> Option<Backends> {
    let Ok(url) = std::env::var("LEXICA_TEST_PG_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "LEXICA_TEST_PG_URL must be set in CI (tests/support/pg-cluster.sh start)"
        );
        eprintln!("NOTICE: LEXICA_TEST_PG_URL is not set: skipping the PostgreSQL/SQLite backend tests");
        return None;
    };
    let admin = PgPool::connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = format!("lexica_query_test_{}_{}", std::process::id(), nanos % 1_000_000_000);
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&admin).await.unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let pg = PgPool::connect(&format!("{base}/{db}")).await.unwrap();
    let sqlite = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
    load_pg(&pg, ops).await;
    load_sqlite(&sqlite, ops).await;
    Some(Backends { pg, sqlite, admin, db })
}

async fn teardown(b: Backends) {
    b.pg.close().await;
    b.sqlite.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", b.db)))
        .execute(&b.admin)
        .await
        .unwrap();
    b.admin.close().await;
}

/// Runs `query` on both backends; both must equal the reference and `expected`.
async fn assert_query(b: &Backends, ops: &[Opinion], query: &str, expected: &[i64]) -> (Plan, Plan) {
    let q = parse(query, Mode::Boolean).unwrap_or_else(|e| panic!("{e}"));
    let filters = Filters { limit: 1000, ..Filters::default() };
    let (pp, sp) = (postgres::compile(&q, &filters), sqlite::compile(&q, &filters));
    let pg: BTreeSet<i64> = run_pg(&b.pg, &q, &pp).await.into_iter().collect();
    let sl: BTreeSet<i64> = run_sqlite(&b.sqlite, &q, &sp).await.into_iter().collect();
    let want: BTreeSet<i64> = expected.iter().copied().collect();
    let reference = reference(&q, ops);
    assert_eq!(reference, want, "reference checker disagrees with the expected answer for `{query}`");
    assert_eq!(pg, want, "PostgreSQL wrong for `{query}`\n{pp}");
    assert_eq!(sl, want, "SQLite wrong for `{query}`\n{sp}");
    (pp, sp)
}

#[tokio::test]
async fn every_operator_agrees_on_postgres_and_sqlite() {
    let ops = fixtures();
    let Some(b) = setup(&ops).await else { return };
    // /n: within 3 matches at distance 3 and not 4, in both orders (exact on both backends).
    let (pp, sp) = assert_query(&b, &ops, "alpha /3 beta", &[1, 2]).await;
    assert!(!pp.needs_check && !sp.needs_check, "/3 should compile exactly");
    assert_query(&b, &ops, "alpha w/4 beta", &[1, 2, 3]).await;
    assert_query(&b, &ops, "alpha /2 beta", &[]).await;
    // +n: in order only.
    let (pp, _) = assert_query(&b, &ops, "alpha +3 beta", &[1]).await;
    assert!(!pp.needs_check, "+3 is exact in tsquery");
    assert_query(&b, &ops, "alpha pre/4 beta", &[1, 3]).await;
    assert_query(&b, &ops, "beta +3 alpha", &[2]).await;
    // /p not across paragraphs, /s not across sentences.
    assert_query(&b, &ops, "gamma /p delta", &[5, 6]).await;
    assert_query(&b, &ops, "gamma /s delta", &[6]).await;
    assert_query(&b, &ops, "gamma AND delta", &[4, 5, 6]).await;
    assert_query(&b, &ops, "gamma +s delta", &[6]).await;
    assert_query(&b, &ops, "delta +p gamma", &[]).await;
    // Root expander.
    assert_query(&b, &ops, "objecti!", &[7, 8]).await;
    assert_query(&b, &ops, "object!", &[7, 8, 9]).await;
    assert_query(&b, &ops, "object* /3 trial", &[7]).await;
    assert_query(&b, &ops, "object! /2 objection", &[]).await;
    // BUT NOT excludes what follows; AND NOT too.
    assert_query(&b, &ops, "alpha % epsilon", &[1, 2, 3]).await;
    assert_query(&b, &ops, "alpha BUT NOT beta epsilon", &[]).await;
    assert_query(&b, &ops, "alpha AND NOT (alpha /3 beta)", &[3, 12]).await;
    assert_query(&b, &ops, "gamma % (gamma /s delta)", &[4, 5]).await;
    // Field restrictions match only that field.
    assert_query(&b, &ops, "ti(smith)", &[10]).await;
    assert_query(&b, &ops, "smith", &[11]).await;
    assert_query(&b, &ops, "name(smith) OR smith", &[10, 11]).await;
    assert_query(&b, &ops, "co(\"court of appeals\")", &[10]).await;
    assert_query(&b, &ops, "co(circuit) AND objection", &[7]).await;
    assert_query(&b, &ops, "ci(\"347 U.S. 483\")", &[10]).await;
    assert_query(&b, &ops, "ti(obj % ting) AND object!", &[7]).await;
    // Phrases, plurals and possessives.
    assert_query(&b, &ops, "\"breach of contract\"", &[10]).await;
    assert_query(&b, &ops, "breach /3 contract", &[10, 11]).await;
    assert_query(&b, &ops, "party", &[8, 10, 11, 13]).await;
    assert_query(&b, &ops, "\"party\"", &[8, 11, 13]).await;
    assert_query(&b, &ops, "\"due process\" /s party", &[13]).await;
    assert_query(&b, &ops, "(due /1 process) /3 clause", &[13]).await;
    // Dates (bound conditions).
    assert_query(&b, &ops, "gamma AND da(aft 2011)", &[5, 6]).await;
    assert_query(&b, &ops, "smith OR ti(smith) AND da(bef 2010)", &[10]).await;
    assert_query(&b, &ops, "smith OR ti(smith) & da(bet 2010 and 2011)", &[11]).await;
    teardown(b).await;
}

/// The word indices of a body as the indexes see them.
fn longest_opinion() -> Opinion {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");
    let file = std::fs::File::open(path).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut s).unwrap();
    let mut best: Option<serde_json::Value> = None;
    for line in s.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let len = v["body"].as_str().map_or(0, str::len);
        if best.as_ref().is_none_or(|b| b["body"].as_str().map_or(0, str::len) < len) {
            best = Some(v);
        }
    }
    let v = best.unwrap();
    Opinion {
        id: 100,
        case_name: v["case_name"].as_str().unwrap().to_string(),
        citation: v["citation"].as_str().map(str::to_string),
        court: v["court"].as_str().unwrap().to_string(),
        decided_on: v["decided_on"].as_str().map(str::to_string),
        body: v["body"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn proximity_deep_inside_the_longest_opinion() {
    let long = longest_opinion();
    let words = text::words(&long.body);
    assert!(words.len() > 40_000, "the longest opinion has {} words", words.len());
    // Two words at distance 2 that occur as such a pair only past position 16,383 of the body
    // (where the document-level tsvector has lost positions).
    let paras = paragraphs(&long);
    let (a, b) = {
        let mut found = None;
        'outer: for i in (20_000..words.len() - 3).rev() {
            let (a, b) = (&words[i], &words[i + 2]);
            if a.len() < 5
                || b.len() < 5
                || a == b
                || a.chars().any(char::is_numeric)
                || b.chars().any(char::is_numeric)
            {
                continue;
            }
            for j in 0..i.min(20_000) {
                let near = |x: &String, y: &String| (j + 1..=j + 2).any(|k| words.get(k) == Some(y)) && &words[j] == x;
                if near(a, b) || near(b, a) {
                    continue 'outer;
                }
            }
            found = Some((a.clone(), b.clone()));
            if i < words.len() - 10 {
                break;
            }
        }
        found.unwrap()
    };
    let query = format!("\"{a}\" /2 \"{b}\"");
    let q = parse(&query, Mode::Boolean).unwrap();
    let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
    assert!(check(&q, &doc(&long, &refs)), "the checker must find `{query}`");
    let mut ops = fixtures();
    ops.push(long);
    let Some(be) = setup(&ops).await else { return };
    assert_query(&be, &ops, &query, &[100]).await;
    assert_query(&be, &ops, &format!("\"{a}\" /1 \"{b}\""), &[]).await;
    teardown(be).await;
}

#[tokio::test]
async fn statements_rank_identically_on_both_backends() {
    let ops = fixtures();
    let Some(b) = setup(&ops).await else { return };
    let q = parse("Was there a breach of contract by a party under due process?", Mode::Statements).unwrap();
    let filters = Filters::default();
    let (pp, sp) = (postgres::compile(&q, &filters), sqlite::compile(&q, &filters));
    let pg = run_pg(&b.pg, &q, &pp).await;
    let sl = run_sqlite(&b.sqlite, &q, &sp).await;
    let reference = reference(&q, &ops);
    assert_eq!(pg.iter().copied().collect::<BTreeSet<_>>(), reference);
    assert_eq!(sl.iter().copied().collect::<BTreeSet<_>>(), reference);
    teardown(b).await;
}

/// Near-miss plans: every opinion satisfying all top-level clauses but one (or two) is retrieved
/// with the right tier on both backends, inexact clauses included, and the exclusion holds in
/// every tier.
#[tokio::test]
async fn near_miss_tiers_agree_with_the_checker_on_both_backends() {
    let ops = fixtures();
    let Some(b) = setup(&ops).await else { return };
    for query in [
        "alpha & beta & epsilon",
        "alpha & (one /s two) & stop",
        "gamma /s delta & rule & here",
        "(alpha OR gamma) & beta & stop % epsilon",
        "breach & contract & smith",
    ] {
        let q = parse(query, Mode::Boolean).unwrap();
        let j = q.conjunction().unwrap();
        let filters = Filters { near_misses: 2, limit: 1000, ..Filters::default() };
        let (pp, sp) = (postgres::compile(&q, &filters), sqlite::compile(&q, &filters));
        // Reference: the checker on each clause of every fixture.
        let mut expected: BTreeSet<(i64, usize)> = BTreeSet::new();
        for o in &ops {
            let paras = paragraphs(o);
            let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
            let d = doc(o, &refs);
            if j.exclude.as_ref().is_some_and(|x| check(x, &d)) {
                continue;
            }
            let missing = j.clauses.iter().filter(|c| !check(c, &d)).count();
            if missing < j.clauses.len() && missing <= 2 {
                expected.insert((o.id, missing));
            }
        }
        let pg: BTreeSet<(i64, usize)> = run_pg_tiers(&b.pg, &q, &pp).await.into_iter().collect();
        let sl: BTreeSet<(i64, usize)> = run_sqlite_tiers(&b.sqlite, &q, &sp).await.into_iter().collect();
        assert_eq!(pg, expected, "{query}\n{pp}");
        assert_eq!(sl, expected, "{query}\n{sp}");
        assert!(expected.iter().any(|(_, t)| *t > 0), "{query}: the fixture has near misses");
    }
    teardown(b).await;
}

/// The opinion ids a plan's statement returns.
async fn ids_of(pool: &PgPool, plan: &Plan) -> BTreeSet<i64> {
    let mut q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!("SELECT x.id FROM ({}) x", plan.sql)));
    for bind in &plan.binds {
        q = match bind {
            BindValue::Text(t) => q.bind(t.clone()),
            BindValue::Int(n) => q.bind(*n),
        };
    }
    q.fetch_all(pool).await.unwrap_or_else(|e| panic!("{e}\n{plan}")).into_iter().collect()
}

/// `Filters::any_field` (the fast path's count on PostgreSQL): the words match in any field, so
/// the statement returns a superset of the query's matches (the ones with the word only in the
/// case name too), carries no field weight (a GIN index answers it without reading vectors back)
/// and says it is inexact.
#[tokio::test]
async fn any_field_plans_count_a_superset_without_weights() {
    let ops = fixtures();
    let Some(b) = setup(&ops).await else { return };
    let any = Filters { limit: 1000, any_field: true, ..Filters::default() };
    for (query, exact, superset) in [
        ("smith", &[11][..], &[10, 11][..]),
        ("ti(smith)", &[10], &[10, 11]),
        ("gamma AND delta", &[4, 5, 6], &[4, 5, 6]),
        ("objecti!", &[7, 8], &[7, 8]),
    ] {
        assert_query(&b, &ops, query, exact).await;
        let q = parse(query, Mode::Boolean).unwrap();
        let plan = postgres::compile(&q, &any);
        assert!(plan.needs_check, "`{query}`: an any-field plan is not exact");
        for bind in &plan.binds {
            if let BindValue::Text(t) = bind {
                assert!(!t.contains(":A") && !t.contains(":D") && !t.contains("*A"), "`{query}`: weight in {t}");
            }
        }
        let got: Vec<i64> = ids_of(&b.pg, &plan).await.into_iter().collect();
        assert_eq!(got, superset, "`{query}`");
    }
    // Exclusions are left out: `ti(smith)` holds in opinion 10, whose body has no `smith`, so an
    // unweighted `!smith` would drop it; the count's plan keeps every true match.
    let q = parse("party AND NOT smith", Mode::Boolean).unwrap();
    let exact: BTreeSet<i64> =
        run_pg(&b.pg, &q, &postgres::compile(&q, &Filters { limit: 1000, ..Filters::default() }))
            .await
            .into_iter()
            .collect();
    let plan = postgres::compile(&q, &any);
    let got = ids_of(&b.pg, &plan).await;
    assert!(exact.contains(&10) && got.is_superset(&exact), "exact {exact:?}, any-field {got:?}");
    teardown(b).await;
}

/// `Filters::defer_positions` with `any_field` (the fast path's exact tier on PostgreSQL): a
/// deferred phrase or proximity keeps its words, all of them in the opinion, so the superset the
/// GIN index answers is not every opinion the rest of the query allows. Each superset holds the
/// query's exact matches and no opinion that lacks one of the included words.
#[tokio::test]
async fn deferred_positions_keep_their_words() {
    let ops = fixtures();
    let Some(b) = setup(&ops).await else { return };
    let deferred = Filters { limit: 1000, any_field: true, defer_positions: true, ..Filters::default() };
    for (query, superset) in [
        // Opinion 6 holds `one` ("in one sentence") but neither `two` nor `beta`.
        ("\"one two beta\"", &[1, 2, 3][..]),
        ("gamma /s delta", &[4, 5, 6]),
        // Opinions 8, 10 and 11 hold `party` but not `due process`'s words.
        ("\"due process\" AND party", &[13]),
        ("(\"due process\" OR \"one two beta\") AND NOT alpha", &[1, 2, 3, 13]),
    ] {
        let q = parse(query, Mode::Boolean).unwrap();
        let plan = postgres::compile(&q, &deferred);
        assert!(plan.needs_check, "`{query}`: a deferred plan is not exact");
        let got = ids_of(&b.pg, &plan).await;
        let want: BTreeSet<i64> = superset.iter().copied().collect();
        assert_eq!(got, want, "`{query}`");
        assert!(got.is_superset(&reference(&q, &ops)), "`{query}`: {got:?} lost a match");
    }
    teardown(b).await;
}
