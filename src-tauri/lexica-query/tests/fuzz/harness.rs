//! The fuzz harness shared by `examples/fuzz.rs` (the long run: `--count N --seed S`) and
//! `tests/fuzz_smoke.rs` (100,000 cases in CI).
//!
//! Each case is one query text, made from the case's own random stream (so case `i` of seed `s`
//! is the same on every run and can be replayed alone): generated from the grammar of SPEC.md,
//! a real query (the 195 of `shared/corpus/legal_boolean_queries.jsonl` and the queries written
//! in this crate's tests) mutated one to four times, a soup of the language's tokens, or a
//! statements-mode text. Every case goes through parse, both compilers (with and without near
//! misses) and the exact checker on a real paragraph, each under `catch_unwind`, and must hold:
//!
//! - no panic;
//! - an error's span lies within the input, on character boundaries, its character span agrees
//!   with its byte span, and it has a message and a fix;
//! - every compiled statement (SQL text and binds) stays within [`STATEMENT_BUDGET_BYTES`];
//! - a parsed Boolean query prints to text that parses back to the same tree;
//! - the checker answers (over budget is an answer; it is counted).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use lexica_query::{
    BindValue, Budget, Checked, Document, ErrorKind, Filters, Mode, Plan, check_within, parse, postgres, sqlite,
};

/// The most bytes one compiled statement (SQL text and every bind) may take, on either backend:
/// the bound `tests/pg_budget.rs` holds the PostgreSQL compiler to (its proximity budget is
/// 256 KiB per query; the rest is bounded by the query's length limit).
pub const STATEMENT_BUDGET_BYTES: usize = 320 * 1024;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/legal_boolean_queries.jsonl");
/// This crate's tests and the modules whose unit tests hold queries: their string literals are
/// seeds too (any literal is a fine seed; a non-query one just makes an error case).
const WRITTEN: &[&str] = &[
    include_str!("../spec.rs"),
    include_str!("../backends.rs"),
    include_str!("../pg_budget.rs"),
    include_str!("../parser_props.rs"),
    include_str!("../../src/parser.rs"),
    include_str!("../../src/statements.rs"),
    include_str!("../../src/check.rs"),
    include_str!("../../src/concepts.rs"),
    include_str!("../../src/report.rs"),
];

/// The sample the checker reads: a real paragraph of the corpus (Cooper v. Harris, 2017), and
/// a second one written in the same register with the words the seed queries use most.
const CASE_NAME: &str = "Cooper v. Harris";
const CITATION: &str = "581 U.S. 285";
const COURT: &str = "Supreme Court of the United States";
const PARAGRAPHS: &[&str] = &[
    "That being said, Congressman Watt's testimony was double-hearsay: Congressman Watt testified about what \
     Senator Rucho said someone else said. See App. 1345 (state trial court evidentiary ruling). For unknown \
     reasons, Appellants failed to raise this objection below, but that only means that the testimony was \
     admitted. The weight of that testimony is a different matter, and in general, hearsay should be viewed with \
     great skepticism. Ellicott v. Pearl, 10 Pet. 412, 436 (1836) (majority opinion of Story, J.) (hearsay is \
     \u{201C}exceedingly infirm, unsatisfactory and intrinsically weak in its very nature and character\u{201D}); \
     Queen v. Hepburn, 7 Cranch 290, 296 (1813) (majority opinion of Marshall, C. J.) (\u{201C}Its intrinsic \
     weakness, its incompetency to satisfy the mind of the existence of the fact, and the frauds which might be \
     practiced under its cover, combine to support the rule that hearsay evidence is totally inadmissible\u{201D}); \
     see also Chambers v. Mississippi, 410 U. S. 284, 298 (1973).",
    "The Due Process Clause of the Fourteenth Amendment limits the personal jurisdiction of state courts. A \
     corporation is at home in the State of its incorporation and principal place of business; the contract claim \
     and the breach of warranty claim do not arise from the defendant's contacts with the forum. The motion to \
     suppress the evidence found in the search of the home was denied, and the defendant's objection to the \
     officer's testimony as hearsay was overruled. Summary judgment on the negligence claim was affirmed. \
     The parties' agreement and the statute of limitations, 28 U.S.C. \u{00A7} 1658, are not at issue.",
];

/// Why a case failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub case: u64,
    pub mode: Mode,
    pub query: String,
    pub what: String,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    pub parsed: u64,
    pub rejected: u64,
    pub checked_match: u64,
    pub checked_over_budget: u64,
    /// Queries whose canonical form is longer than the length limit (so it does not parse back).
    pub printed_too_long: u64,
    pub largest_postgres: usize,
    pub largest_sqlite: usize,
    pub slowest_case: Duration,
    /// The slowest case's number, to replay it with `--case`.
    pub slowest_index: u64,
    pub slowest_query: String,
    pub failures: u64,
    /// The first failures, kept to print (every failure is passed to the caller as it happens).
    pub first_failures: Vec<Failure>,
    pub elapsed: Duration,
    pub seeds: usize,
}

/// The seed queries: the corpus's (queries and statements) and those written in the tests.
pub struct Seeds {
    pub boolean: Vec<String>,
    pub statements: Vec<String>,
    /// Words to generate queries from: the seeds' words and the sample's.
    pub words: Vec<String>,
}

impl Seeds {
    pub fn load() -> Seeds {
        let text = std::fs::read_to_string(CORPUS).expect("shared/corpus must sit beside the checkout");
        let mut boolean = Vec::new();
        let mut statements = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            boolean.push(v["query"].as_str().unwrap().to_string());
            if let Some(t) = v["topic_text"].as_str() {
                statements.push(t.to_string());
            }
        }
        for source in WRITTEN {
            for lit in string_literals(source) {
                if (1..=600).contains(&lit.chars().count())
                    && lit.chars().any(char::is_alphanumeric)
                    && !lit.contains("{}")
                    && !boolean.contains(&lit)
                {
                    boolean.push(lit);
                }
            }
        }
        let mut words: Vec<String> = boolean
            .iter()
            .chain(PARAGRAPHS.iter().map(|p| (*p).to_string()).collect::<Vec<_>>().iter())
            .flat_map(|q| lexica_query::text::words(q))
            .filter(|w| !["and", "or", "not", "but"].contains(&w.as_str()))
            .collect();
        words.sort();
        words.dedup();
        Seeds { boolean, statements, words }
    }

    pub fn count(&self) -> usize {
        self.boolean.len() + self.statements.len()
    }
}

/// The string literals of Rust source (plain `"…"` ones, escapes read).
fn string_literals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = source.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        // Skip char literals such as '"' and raw strings' prefixes are rare enough to ignore.
        if c == '"' && prev != '\'' && prev != 'r' && prev != '#' {
            let mut lit = String::new();
            while let Some(d) = chars.next() {
                match d {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => lit.push('\n'),
                        Some('t') => lit.push('\t'),
                        Some('u') => {
                            let code: String = chars.by_ref().skip(1).take_while(|&x| x != '}').collect();
                            if let Some(ch) = u32::from_str_radix(&code, 16).ok().and_then(char::from_u32) {
                                lit.push(ch);
                            }
                        }
                        Some('\n') => {
                            while chars.peek().is_some_and(|x| x.is_whitespace()) {
                                chars.next();
                            }
                        }
                        Some(x) => lit.push(x),
                        None => break,
                    },
                    _ => lit.push(d),
                }
            }
            out.push(lit);
            prev = '"';
            continue;
        }
        prev = c;
    }
    out
}

/// SplitMix64: tiny, fast, and one case's stream depends only on the seed and the case number.
pub struct Rng(u64);

impl Rng {
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut r = Rng(seed ^ 0x6A09_E667_F3BC_C909);
        let mixed = r.next();
        Rng(mixed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CONNECTORS: &[&str] = &[
    " AND ",
    " & ",
    " and ",
    " OR ",
    " or ",
    " ",
    " BUT NOT ",
    " % ",
    " AND NOT ",
    " /s ",
    " /p ",
    " +s ",
    " +p ",
    " w/s ",
    " w/p ",
    " W/S ",
    " PRE/P ",
];
const FIELDS: &[&str] = &["ti", "name", "co", "ci"];
const DATES: &[&str] = &[
    "da(aft 2010)",
    "da(bef 3/15/2012)",
    "da(2014)",
    "da(bet 2001 and 2003)",
    "da(aft 1999 & bef 2005)",
    "da(2012-05)",
    "da(5/2011)",
    "da(2012-02-30)",
    "da(soon)",
    "da(1200)",
    "da(",
];
/// Text the mutator inserts: pieces of the language, and characters that have broken parsers.
const INSERTS: &[&str] = &[
    "(",
    ")",
    "\"",
    "\u{201C}",
    "\u{201D}",
    "!",
    "*",
    "/",
    "+",
    "&",
    "%",
    "-",
    "'",
    "\u{2019}",
    "§",
    "/3",
    "/0",
    "/256",
    "/99999999999999999999",
    "+1",
    "w/",
    "pre/",
    "/x",
    " AND ",
    " OR ",
    " BUT NOT ",
    "()",
    "\"\"",
    "ti(",
    "da(aft 2010)",
    "\u{0301}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{202E}",
    "\0",
    "\n",
    "\t",
    "\u{1F600}",
    "İ",
    "ß",
    "ﬁ",
    "Ω",
    "٣",
    "¼",
    "a-b-c",
    "U.S.C.",
    "24/7",
    "and/or",
    "contract/3",
    "episode-in-suit",
    "obj!",
];

/// A query from the grammar (SPEC.md): mostly well formed, sometimes just over a limit.
fn generate(rng: &mut Rng, words: &[String], depth: u32) -> String {
    let atom = |rng: &mut Rng| -> String {
        let w = rng.pick(words).clone();
        match rng.below(12) {
            0 => format!("\"{w}\""),
            1 => format!("\"{w} {}\"", rng.pick(words)),
            2 => format!("\u{201C}{w} {} {}\u{201D}", rng.pick(words), rng.pick(words)),
            3 if w.chars().count() >= 3 => format!("{w}!"),
            4 if w.chars().count() >= 3 => format!("{}*", w.chars().take(3 + rng.below(3)).collect::<String>()),
            5 => format!("{w}-{}", rng.pick(words)),
            6 => w.to_uppercase(),
            _ => w,
        }
    };
    if depth == 0 || rng.chance(3) {
        return atom(rng);
    }
    let left = generate(rng, words, depth - 1);
    let right = generate(rng, words, depth - 1);
    let joined = match rng.below(10) {
        0 => format!("{left} /{} {right}", 1 + rng.below(255)),
        1 => format!("{left} +{} {right}", 1 + rng.below(255)),
        2 => format!("{left} w/{} {right}", 1 + rng.below(30)),
        3 => format!("{left} pre/{} {right}", 1 + rng.below(30)),
        4 => format!("{}({left})", rng.pick(FIELDS)),
        _ => format!("{left}{}{right}", rng.pick(CONNECTORS)),
    };
    let mut out = if rng.chance(2) { format!("({joined})") } else { joined };
    if rng.chance(12) {
        out = format!("{out} & {}", rng.pick(DATES));
    }
    out
}

/// A soup of the language's tokens (as `tests/parser_props.rs`), mostly malformed.
fn soup(rng: &mut Rng, words: &[String]) -> String {
    let n = rng.below(30);
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        parts.push(match rng.below(5) {
            0 | 1 => rng.pick(words).clone(),
            2 => rng.pick(CONNECTORS).trim().to_string(),
            3 => rng.pick(INSERTS).to_string(),
            _ => rng.pick(DATES).to_string(),
        });
    }
    parts.join(if rng.chance(4) { "" } else { " " })
}

/// The byte offsets of `s`'s character boundaries (0 and `s.len()` included).
fn boundaries(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len())).collect()
}

/// One to four edits of a seed: deletions, insertions, duplications, swaps, truncations,
/// changed numbers and case, growth towards the length limit.
fn mutate(rng: &mut Rng, seed: &str, words: &[String]) -> String {
    let mut s = seed.to_string();
    for _ in 0..1 + rng.below(4) {
        let b = boundaries(&s);
        let at = b[rng.below(b.len())];
        let to = b[rng.below(b.len())];
        let (lo, hi) = (at.min(to), at.max(to));
        match rng.below(11) {
            0 => s.replace_range(lo..hi, ""),
            1 => {
                let piece: &&str = rng.pick(INSERTS);
                s.insert_str(at, piece);
            }
            2 => s.insert_str(at, &format!(" {} ", rng.pick(words))),
            3 => {
                let piece = s[lo..hi].to_string();
                s.insert_str(hi, &piece);
            }
            4 => s.truncate(at),
            5 => s = format!("({s})"),
            6 => s = s.to_uppercase(),
            7 => {
                // A connector swapped for another.
                let c = rng.pick(CONNECTORS);
                if let Some(i) = s.find(c.trim()).filter(|_| !c.trim().is_empty()) {
                    let other = rng.pick(CONNECTORS);
                    s.replace_range(i..i + c.trim().len(), other.trim());
                }
            }
            8 => {
                // A number made odd.
                let n = ["0", "1", "255", "256", "4294967296", "-3", "007"][rng.below(7)];
                s.insert_str(at, &format!("/{n}"));
            }
            9 => {
                // Grown by repetition: towards (and past) the length, term and depth limits.
                let times = 1 + rng.below(40);
                s = vec![s.as_str(); times].join(*rng.pick(CONNECTORS));
            }
            _ => s.insert_str(at, &format!("{} ", rng.pick(DATES))),
        }
        if s.len() > 20_000 {
            let b = boundaries(&s);
            let cut = b[b.partition_point(|&x| x <= 20_000) - 1];
            s.truncate(cut);
        }
    }
    s
}

/// Case `case` of `seed`: its mode and text.
pub fn make_case(seed: u64, case: u64, seeds: &Seeds) -> (Mode, String) {
    let mut rng = Rng::for_case(seed, case);
    match rng.below(20) {
        0..=6 => {
            let depth = 1 + rng.below(6) as u32;
            (Mode::Boolean, generate(&mut rng, &seeds.words, depth))
        }
        7..=14 => {
            let s = rng.pick(&seeds.boolean).clone();
            (Mode::Boolean, mutate(&mut rng, &s, &seeds.words))
        }
        15..=17 => (Mode::Boolean, soup(&mut rng, &seeds.words)),
        _ => {
            let s = rng.pick(&seeds.statements).clone();
            let text = if rng.chance(3) { s } else { mutate(&mut rng, &s, &seeds.words) };
            (Mode::Statements, text)
        }
    }
}

fn statement_bytes(plan: &Plan) -> usize {
    plan.sql.len()
        + plan
            .binds
            .iter()
            .map(|b| match b {
                BindValue::Text(s) => s.len(),
                BindValue::Int(_) => 8,
            })
            .sum::<usize>()
        + plan.paragraph_filter.len()
}

/// What one case gave, when it held.
#[derive(Default)]
struct Outcome {
    parsed: bool,
    matched: bool,
    over_budget: bool,
    printed_too_long: bool,
    postgres: usize,
    sqlite: usize,
}

/// Runs one case; `Err` says which property broke.
fn exercise(mode: Mode, input: &str) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let q = match parse(input, mode) {
        Err(e) => {
            let len = input.len();
            if !(e.start <= e.end && e.end <= len) {
                return Err(format!("error span {}..{} outside the input ({len} bytes): {e:?}", e.start, e.end));
            }
            if !input.is_char_boundary(e.start) || !input.is_char_boundary(e.end) {
                return Err(format!("error span {}..{} not on character boundaries: {e:?}", e.start, e.end));
            }
            let (cs, ce) = (input[..e.start].chars().count(), input[..e.end].chars().count());
            if (e.char_start, e.char_end) != (cs, ce) {
                return Err(format!("character span {}..{} but bytes say {cs}..{ce}: {e:?}", e.char_start, e.char_end));
            }
            if e.message.is_empty() || e.fix.is_empty() {
                return Err(format!("error without a message or a fix: {e:?}"));
            }
            let _ = e.to_string();
            return Ok(out);
        }
        Ok(q) => q,
    };
    out.parsed = true;
    if mode == Mode::Boolean {
        let printed = q.to_string();
        match parse(&printed, Mode::Boolean) {
            Ok(again) if again == q => {}
            Ok(_) => return Err(format!("printed as `{printed}`, which parses to another tree")),
            // The canonical form spells out what typing leaves implicit (`a b` is `a OR b`), so
            // a query near the length limit may print past it: the limit is on what is typed.
            Err(e) if e.kind == ErrorKind::TooLong && printed.chars().count() > lexica_query::MAX_QUERY_CHARS => {
                out.printed_too_long = true;
            }
            Err(e) => return Err(format!("printed as `{printed}`, which does not parse: {e}")),
        }
    }
    for filters in [Filters::default(), Filters { near_misses: 2, ..Filters::default() }] {
        let (p, s) = (postgres::compile(&q, &filters), sqlite::compile(&q, &filters));
        let (pb, sb) = (statement_bytes(&p), statement_bytes(&s));
        if pb > STATEMENT_BUDGET_BYTES {
            return Err(format!("PostgreSQL statement of {pb} bytes (budget {STATEMENT_BUDGET_BYTES})"));
        }
        if sb > STATEMENT_BUDGET_BYTES {
            return Err(format!("SQLite statement of {sb} bytes (budget {STATEMENT_BUDGET_BYTES})"));
        }
        out.postgres = out.postgres.max(pb);
        out.sqlite = out.sqlite.max(sb);
    }
    let doc = Document {
        case_name: CASE_NAME,
        citation: Some(CITATION),
        court: COURT,
        decided_on: Some("2017-05-22"),
        paragraphs: PARAGRAPHS,
    };
    match check_within(&q, &doc, &mut Budget::default()) {
        Checked::Match => out.matched = true,
        Checked::NoMatch => {}
        Checked::OverBudget => out.over_budget = true,
        Checked::Stopped => return Err("the checker stopped without a stop signal".to_string()),
    }
    Ok(out)
}

/// Case `case` of `seed` alone (for replaying a failure).
pub fn run_one(seed: u64, case: u64, seeds: &Seeds) -> Result<(), Failure> {
    let (mode, query) = make_case(seed, case, seeds);
    match catch_unwind(AssertUnwindSafe(|| exercise(mode, &query))) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(what)) => Err(Failure { case, mode, query, what }),
        Err(_) => Err(Failure { case, mode, query, what: "panic".to_string() }),
    }
}

/// Runs cases `0..count` of `seed`, calling `failed` on each failure as it happens.
pub fn run(count: u64, seed: u64, seeds: &Seeds, failed: &mut dyn FnMut(&Failure)) -> Report {
    // Panics are caught and reported per case; the default hook would print each one's
    // backtrace line as well.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut report = Report { seeds: seeds.count(), ..Report::default() };
    for case in 0..count {
        let (mode, query) = make_case(seed, case, seeds);
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| exercise(mode, &query)));
        let took = t.elapsed();
        if took > report.slowest_case {
            report.slowest_case = took;
            report.slowest_index = case;
            report.slowest_query = query.clone();
        }
        report.cases += 1;
        let what = match result {
            Ok(Ok(o)) => {
                if o.parsed {
                    report.parsed += 1;
                } else {
                    report.rejected += 1;
                }
                report.checked_match += u64::from(o.matched);
                report.checked_over_budget += u64::from(o.over_budget);
                report.printed_too_long += u64::from(o.printed_too_long);
                report.largest_postgres = report.largest_postgres.max(o.postgres);
                report.largest_sqlite = report.largest_sqlite.max(o.sqlite);
                continue;
            }
            Ok(Err(what)) => what,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                format!("panic: {msg}")
            }
        };
        let f = Failure { case, mode, query, what };
        failed(&f);
        report.failures += 1;
        if report.first_failures.len() < 20 {
            report.first_failures.push(f);
        }
    }
    report.elapsed = started.elapsed();
    std::panic::set_hook(hook);
    report
}
