//! COPY for the PostgreSQL loader: rows in COPY's text format, and the staging and postings
//! streams built from them.

use std::borrow::Cow;

use sqlx::postgres::PgConnection;

use crate::record::{PgVectors, Prepared};

/// COPY data is sent in pieces of about this size, bounding the client's buffer.
pub(super) const COPY_CHUNK_BYTES: usize = 1024 * 1024;

const COPY_OPINIONS: &str = "COPY lexica_stage_opinions (line, source_id, case_name, citation, court, jurisdiction, \
     decided_on, docket_number, body, doc_vector, case_name_words, citation_words, court_words, body_words) FROM STDIN";
const COPY_PARAGRAPHS: &str = "COPY lexica_stage_paragraphs (source_id, paragraph_no, body, vector) FROM STDIN";

pub(super) async fn copy_opinions(conn: &mut PgConnection, records: &[Prepared]) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_OPINIONS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for r in records {
        let o = &r.opinion;
        let line = r.line.to_string();
        let vectors = vectors(r);
        let [case_name_words, citation_words, court_words, body_words] = r.lengths.columns().map(|n| n.to_string());
        let fields: [Option<&str>; 14] = [
            Some(&line),
            Some(&o.source_id),
            Some(&o.case_name),
            o.citation.as_deref(),
            Some(&o.court),
            o.jurisdiction.as_deref(),
            o.decided_on.as_deref(),
            o.docket_number.as_deref(),
            Some(&o.body),
            Some(&vectors.document),
            Some(&case_name_words),
            Some(&citation_words),
            Some(&court_words),
            Some(&body_words),
        ];
        push_row(&mut buf, &fields);
        if buf.len() >= COPY_CHUNK_BYTES {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

pub(super) async fn copy_paragraphs(conn: &mut PgConnection, records: &[Prepared]) -> Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_PARAGRAPHS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for r in records {
        let vectors = vectors(r);
        for (no, (p, vector)) in r.paragraphs.iter().zip(&vectors.paragraphs).enumerate() {
            let no = no.to_string();
            push_row(&mut buf, &[Some(&r.opinion.source_id), Some(&no), Some(&p.body), Some(vector)]);
            if buf.len() >= COPY_CHUNK_BYTES {
                copy.send(std::mem::take(&mut buf)).await?;
            }
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// The record's vector literals (built on the reader thread; built here if they were not).
pub(super) fn vectors(r: &Prepared) -> Cow<'_, PgVectors> {
    match &r.pg_vectors {
        Some(v) => Cow::Borrowed(v),
        None => {
            let mut r = r.clone();
            r.build_pg_vectors();
            Cow::Owned(r.pg_vectors.unwrap_or(PgVectors { document: String::new(), paragraphs: Vec::new() }))
        }
    }
}

/// One row of COPY's text format: tab-separated, `\N` for NULL, with backslash, tab, newline
/// and carriage return escaped (NUL cannot occur: such records are rejected when read).
pub(super) fn push_row(buf: &mut Vec<u8>, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match field {
            None => buf.extend_from_slice(b"\\N"),
            Some(text) => {
                let bytes = text.as_bytes();
                let mut start = 0;
                for (j, &b) in bytes.iter().enumerate() {
                    let escaped: &[u8] = match b {
                        b'\\' => b"\\\\",
                        b'\t' => b"\\t",
                        b'\n' => b"\\n",
                        b'\r' => b"\\r",
                        _ => continue,
                    };
                    buf.extend_from_slice(&bytes[start..j]);
                    buf.extend_from_slice(escaped);
                    start = j + 1;
                }
                buf.extend_from_slice(&bytes[start..]);
            }
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_specials() {
        let mut buf = Vec::new();
        push_row(&mut buf, &[Some("a\tb\\c\nd\re"), None, Some("")]);
        assert_eq!(buf, b"a\\tb\\\\c\\nd\\re\t\\N\t\n");
    }
}
