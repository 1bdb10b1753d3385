//! A bench's query file: one search per non-empty line. A line that is a JSON object (the
//! corpus's `legal_boolean_queries.jsonl`) gives its `query` field, or with statements mode its
//! `topic_text`; any other line is the query itself. A line that cannot give a query is
//! reported and skipped, never fatal: one bad line must not lose a long run.

use serde::Serialize;

/// One search to time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BenchQuery {
    /// 1-based line in the file.
    pub line: u64,
    pub text: String,
}

/// A line that gave no query (or, later, a query the parser refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub line: u64,
    /// The line's query, when one was read.
    pub query: Option<String>,
    pub reason: String,
}

/// The JSON field a line's query comes from in each mode.
pub fn json_field(statements: bool) -> &'static str {
    if statements { "topic_text" } else { "query" }
}

/// Reads every query of `text` (see the module docs).
pub fn parse(text: &str, statements: bool) -> (Vec<BenchQuery>, Vec<Skipped>) {
    let field = json_field(statements);
    let mut queries = Vec::new();
    let mut skipped = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with('{') {
            queries.push(BenchQuery { line, text: trimmed.to_string() });
            continue;
        }
        let skip = |reason: String| Skipped { line, query: None, reason };
        match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(serde_json::Value::Object(map)) => match map.get(field) {
                Some(serde_json::Value::String(q)) if !q.trim().is_empty() => {
                    queries.push(BenchQuery { line, text: q.trim().to_string() });
                }
                _ => skipped.push(skip(format!("a JSON line without a non-empty string `{field}` field"))),
            },
            Ok(_) => skipped.push(skip("a JSON line that is not an object".into())),
            Err(e) => skipped.push(skip(format!("malformed JSON ({e})"))),
        }
    }
    (queries, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_lines() {
        let file = "court\n\n  hearsay /p object!  \n{\"query\": \"a & b\", \"topic_text\": \"Is it?\"}\n{bad\n{\"other\": 1}\n";
        let (q, s) = parse(file, false);
        let texts: Vec<(u64, &str)> = q.iter().map(|q| (q.line, q.text.as_str())).collect();
        assert_eq!(texts, [(1, "court"), (3, "hearsay /p object!"), (4, "a & b")]);
        assert_eq!(s.iter().map(|s| s.line).collect::<Vec<_>>(), [5, 6]);
        assert!(s[0].reason.starts_with("malformed JSON"), "{}", s[0].reason);
        assert!(s[1].reason.contains("`query`"));
        let (q, _) = parse(file, true);
        assert_eq!(q[2].text, "Is it?");
    }

    #[test]
    fn the_corpus_query_file_gives_every_query() {
        let path = std::path::Path::new(crate::seed::DEFAULT_CORPUS_DIR).join("legal_boolean_queries.jsonl");
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("the shared corpus at {} (see seed::DEFAULT_CORPUS_DIR)", path.display())
        };
        let (q, s) = parse(&text, false);
        assert_eq!((q.len(), s.len()), (195, 0));
        let (q, s) = parse(&text, true);
        assert_eq!((q.len(), s.len()), (195, 0));
    }
}
