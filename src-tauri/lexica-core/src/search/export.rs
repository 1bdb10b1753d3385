//! The current results as CSV: case name, citation, court, date, docket, source, score, match
//! (exact, or the near miss's missing clauses), snippet.
//! RFC 4180 quoting; cells that a spreadsheet would run as a formula are defused with a leading
//! apostrophe (opinion text is untrusted input).

use super::Hit;

/// The header row, in column order.
pub const CSV_HEADER: [&str; 9] =
    ["case_name", "citation", "court", "decided_on", "docket_number", "sources", "score", "match", "snippet"];

/// The hits as one CSV document (header first, CRLF line ends).
pub fn to_csv(hits: &[Hit]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_HEADER.iter().map(|h| h.to_string()));
    for hit in hits {
        let sources: Vec<&str> = hit.sources.iter().map(|s| s.source_name.as_str()).collect();
        let snippet: String = hit.snippet.iter().map(|p| p.text.as_str()).collect();
        push_row(
            &mut out,
            [
                hit.case_name.clone(),
                hit.citation.clone().unwrap_or_default(),
                hit.court.clone(),
                hit.decided_on.clone().unwrap_or_default(),
                hit.docket_number.clone().unwrap_or_default(),
                sources.join("; "),
                format!("{:.4}", hit.score),
                if hit.missing.is_empty() {
                    "exact".to_string()
                } else {
                    format!("missing: {}", hit.missing.join("; "))
                },
                snippet,
            ]
            .into_iter(),
        );
    }
    out
}

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn cell(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{HitSource, SnippetPart};

    #[test]
    fn quotes_and_defuses() {
        let hit = Hit {
            sources: vec![HitSource {
                source_id: crate::models::SourceId::new(),
                source_name: "ny".into(),
                opinion_id: 1,
            }],
            case_name: "Smith v. \"Jones\", Inc.".into(),
            citation: Some("1 U.S. 2".into()),
            court: "Court".into(),
            decided_on: Some("2001-02-03".into()),
            docket_number: Some("=HYPERLINK(1)".into()),
            snippet: vec![
                SnippetPart { text: "a ".into(), highlight: false },
                SnippetPart { text: "b\nc".into(), highlight: true },
            ],
            score: 1.5,
            jurisdiction: None,
            tier: 1,
            missing: vec!["\"at home\"".into()],
        };
        let csv = to_csv(&[hit]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "case_name,citation,court,decided_on,docket_number,sources,score,match,snippet");
        assert!(lines[1].starts_with(
            "\"Smith v. \"\"Jones\"\", Inc.\",1 U.S. 2,Court,2001-02-03,'=HYPERLINK(1),ny,1.5000,\"missing: \"\"at home\"\"\",\"a b\nc\""
        ), "{}", lines[1]);
    }
}
