//! Opening one opinion from a hit: its fields and its paragraphs, with the search's terms marked
//! so the reader can step from hit to hit.

use serde::Serialize;
use ts_rs::TS;

use super::snippet::{SnippetPart, is_highlighted, word_spans};
use super::{SearchModeInput, query_mode};
use crate::models::{SourceId, User};
use crate::sources::SourcePool;
use crate::{Error, Lexica, Result};

/// One opinion as the reader shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct OpinionDocument {
    pub source_id: SourceId,
    pub source_name: String,
    #[ts(type = "number")]
    pub opinion_id: i64,
    pub case_name: String,
    pub citation: Option<String>,
    pub court: String,
    pub jurisdiction: Option<String>,
    pub decided_on: Option<String>,
    pub docket_number: Option<String>,
    /// Paragraphs in order, each as text runs with the search's terms marked.
    pub paragraphs: Vec<Vec<SnippetPart>>,
    /// How many marked runs there are, for "hit 3 of 17".
    pub highlights: u32,
}

impl Lexica {
    /// Opens opinion `opinion_id` of source `source_id` for `actor`, marking the terms of `query`
    /// (when given). Only sources the actor may search can be read.
    pub async fn open_opinion(
        &self,
        actor: &User,
        source_id: SourceId,
        opinion_id: i64,
        query: Option<(&str, SearchModeInput)>,
    ) -> Result<OpinionDocument> {
        let source = self
            .accessible_sources(actor)
            .await?
            .into_iter()
            .find(|s| s.id == source_id)
            .ok_or_else(|| Error::Refused("that source is not one you can search now".into()))?;
        let terms: Vec<lexica_query::HighlightWord> = match query {
            Some((text, mode)) => super::snippet::body_terms(
                &lexica_query::parse(text, query_mode(mode)).map_err(|e| Error::Query(Box::new(e)))?,
            ),
            None => Vec::new(),
        };
        let pool = self.source_pool_as(actor.id, &source).await?;
        let missing = || Error::NotFound {
            what: "opinion",
            name: opinion_id.to_string(),
            hint: " in that source (was it removed?)",
        };
        let failed = |e: sqlx::Error| Error::Source {
            name: source.name.clone(),
            message: format!("could not read the opinion: {e}"),
        };
        let row: OpinionRow = match &pool {
            SourcePool::Postgres(p) => sqlx::query_as(
                "SELECT case_name, citation, court, jurisdiction, decided_on::text AS decided_on, docket_number, body
                 FROM opinions WHERE id = $1",
            )
            .bind(opinion_id)
            .fetch_optional(p)
            .await
            .map_err(failed)?,
            SourcePool::Sqlite(p) => sqlx::query_as(
                "SELECT case_name, citation, court, jurisdiction, decided_on, docket_number, body FROM opinions WHERE id = ?1",
            )
            .bind(opinion_id)
            .fetch_optional(p)
            .await
            .map_err(failed)?,
        }
        .ok_or_else(missing)?;
        let OpinionRow { case_name, citation, court, jurisdiction, decided_on, docket_number, body } = row;
        let paragraphs: Vec<Vec<SnippetPart>> =
            lexica_query::text::paragraphs(&body).iter().map(|p| mark_all(p, &terms)).collect();
        let highlights = paragraphs.iter().flatten().filter(|p| p.highlight).count();
        Ok(OpinionDocument {
            source_id,
            source_name: source.name,
            opinion_id,
            case_name,
            citation,
            court,
            jurisdiction,
            decided_on,
            docket_number,
            paragraphs,
            highlights: u32::try_from(highlights).unwrap_or(u32::MAX),
        })
    }
}

/// The stored fields of one opinion (the same columns in both kinds of source).
#[derive(sqlx::FromRow)]
struct OpinionRow {
    case_name: String,
    citation: Option<String>,
    court: String,
    jurisdiction: Option<String>,
    decided_on: Option<String>,
    docket_number: Option<String>,
    body: String,
}

/// A whole paragraph as text runs, every highlighted word its own run (line breaks kept).
pub fn mark_all(paragraph: &str, terms: &[lexica_query::HighlightWord]) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut cursor = 0;
    for (start, end, word) in word_spans(paragraph) {
        if is_highlighted(&word, terms) {
            if start > cursor {
                parts.push(SnippetPart { text: paragraph[cursor..start].to_string(), highlight: false });
            }
            parts.push(SnippetPart { text: paragraph[start..end].to_string(), highlight: true });
            cursor = end;
        }
    }
    if cursor < paragraph.len() {
        parts.push(SnippetPart { text: paragraph[cursor..].to_string(), highlight: false });
    }
    parts
}
