//! The first-load path of the PostgreSQL loader: into a source that held no opinion when the
//! ingest started, every record is new (the reader rejects a `source_id` repeated in the file),
//! so there is nothing to classify. Each batch is COPYed straight into `opinions`,
//! `opinion_paragraphs` and `opinion_lengths` with ids the loader reserves from the table's
//! identity sequence, skipping the staging tables, and batches run on [`WORKERS`] sessions at
//! once, since one PostgreSQL backend parses vectors and compresses text on one core.
//!
//! Each batch is one transaction holding its opinions, paragraphs and statistics. The text is
//! written in parallel; the statistics part of the transactions (corpus row, term rows) runs
//! one batch at a time **in input order** (a turn, held from the corpus row update to the
//! commit), so the averages each batch's impacts use, and so every posting, are the same as a
//! one-session load would compute (and as an SQLite bundle of the same input holds). Taking the
//! turn before touching the shared rows also means two sessions never wait on each other's row
//! locks in different orders (no deadlock).
//!
//! The postings are not written per batch: each committed batch offers them to the load's
//! [`Heads`] (in memory, in turn order), which the loader writes once at the end
//! (`PgSink::finish`). Until then the source says its postings are incomplete
//! (`postings_per_term` NULL), so a load interrupted midway is searched by ranking every match
//! and its postings are rebuilt by the next run.
//!
//! A record the database refuses fails its batch: the worker then waits for the batch's turn
//! and loads its records one per transaction, rejecting only the offending ones.

use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use tokio::sync::{Mutex, MutexGuard, Notify, mpsc};

use super::copy::{COPY_CHUNK_BYTES, push_row, vectors};
use super::{is_record_error, is_statistics_error, write_term_deltas};
use crate::Applied;
use crate::postings::{self as impacts, Heads, Held};
use crate::record::{Prepared, RejectKind, RejectedRecord};
use crate::stats::TermDeltas;
use crate::target::scrub;
use lexica_query::bm25f::BODY;

/// Sessions loading batches at once. Two: this machine class has two cores, and the reader's
/// preparing threads need the rest; more sessions only contend for the turn.
pub(super) const WORKERS: usize = 2;

/// Batches queued per worker beyond the one it is loading.
const QUEUE_PER_WORKER: usize = 1;

/// Reserves `$2` consecutive opinion ids from the identity sequence `$1`; returns the first.
/// Reserved before the batch is sent, so a later ordinary insert (a re-run after an
/// interruption) never reuses one.
const RESERVE_IDS: &str = "SELECT setval($1::regclass, nextval($1::regclass) + $2 - 1) - $2 + 1";
pub(super) const ID_SEQUENCE: &str = "SELECT pg_get_serial_sequence('opinions', 'id')";

const COPY_OPINIONS: &str = "COPY opinions (id, source_id, case_name, citation, court, jurisdiction, decided_on, \
     docket_number, body, search_vector) FROM STDIN";
const COPY_PARAGRAPHS: &str = "COPY opinion_paragraphs (opinion_id, paragraph_no, body, search_vector) FROM STDIN";
const COPY_LENGTHS: &str =
    "COPY opinion_lengths (opinion_id, case_name_words, citation_words, court_words, body_words) FROM STDIN";

/// Adds a batch to the corpus row; returns the totals after it (the impacts' averages).
const ADD_TO_CORPUS: &str = "
UPDATE lexica_corpus_stats
   SET opinions = opinions + $1, case_name_words = case_name_words + $2, citation_words = citation_words + $3,
       court_words = court_words + $4, body_words = body_words + $5, updated_at = now()
 WHERE id = 1
RETURNING opinions, case_name_words, citation_words, court_words, body_words";

/// The opinion count and the four word totals.
type Totals = [i64; 5];

/// What the workers share: the load's postings and whose turn it is.
struct Shared {
    heads: Heads,
    /// The ticket of the batch whose statistics go next.
    turn: u64,
    /// A worker failed: the others stop waiting for turns that will not come.
    failed: bool,
}

struct Job {
    ticket: u64,
    first_id: i64,
    records: Vec<Prepared>,
}

/// Why the first load stopped.
#[derive(Debug)]
pub(super) enum Failure {
    /// The statistics refused a change (see `is_statistics_error`): they were already wrong.
    Statistics,
    /// Anything else, as the driver said it (secrets scrubbed).
    Database(String),
}

/// A batch's outcome, or the error that stops the ingest.
type Outcome = Result<Applied, Failure>;

pub(super) struct Bulk {
    senders: Vec<mpsc::Sender<Job>>,
    results: mpsc::UnboundedReceiver<Outcome>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    shared: Arc<(Mutex<Shared>, Notify)>,
    sequence: String,
    next_ticket: u64,
    in_flight: usize,
}

impl Bulk {
    /// Opens the worker sessions (set up like the loader's own: `setup` statements); the load
    /// keeps `per_term` (R) postings per term.
    pub async fn start(
        options: &PgConnectOptions,
        setup: &[&'static str],
        per_term: u32,
        sequence: String,
        secrets: Vec<String>,
    ) -> Result<Self, sqlx::Error> {
        let shared =
            Arc::new((Mutex::new(Shared { heads: Heads::new(per_term), turn: 0, failed: false }), Notify::new()));
        let (done, results) = mpsc::unbounded_channel();
        let mut senders = Vec::with_capacity(WORKERS);
        let mut workers = Vec::with_capacity(WORKERS);
        for _ in 0..WORKERS {
            let mut conn = PgConnection::connect_with(options).await?;
            for sql in setup {
                sqlx::raw_sql(*sql).execute(&mut conn).await?;
            }
            let (tx, rx) = mpsc::channel(QUEUE_PER_WORKER);
            senders.push(tx);
            workers.push(tokio::spawn(work(conn, rx, done.clone(), Arc::clone(&shared), secrets.clone())));
        }
        Ok(Self { senders, results, workers, shared, sequence, next_ticket: 0, in_flight: 0 })
    }

    /// Sends a batch to the next worker (waiting while its queue is full) and returns what the
    /// batches finished so far did. `main` is the loader's own session (it reserves the ids).
    pub async fn send(&mut self, main: &mut PgConnection, records: Vec<Prepared>) -> Result<Applied, Failure> {
        let n = i64::try_from(records.len()).unwrap_or(i64::MAX);
        let first_id: i64 = sqlx::query_scalar(RESERVE_IDS)
            .bind(&self.sequence)
            .bind(n)
            .fetch_one(&mut *main)
            .await
            .map_err(|e| Failure::Database(e.to_string()))?;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let worker = usize::try_from(ticket % WORKERS as u64).unwrap_or(0);
        self.senders[worker]
            .send(Job { ticket, first_id, records })
            .await
            .map_err(|_| Failure::Database("a loading session stopped".into()))?;
        self.in_flight += 1;
        let mut total = Applied::default();
        while let Ok(outcome) = self.results.try_recv() {
            self.in_flight -= 1;
            add(&mut total, outcome?);
        }
        Ok(total)
    }

    /// Waits for every batch sent; returns what they did and the load's postings.
    pub async fn finish(mut self) -> Result<(Applied, Heads), Failure> {
        self.senders.clear(); // the workers end when their queues are empty
        let mut total = Applied::default();
        let mut failure = None;
        while self.in_flight > 0 {
            match self.results.recv().await {
                Some(Ok(applied)) => add(&mut total, applied),
                Some(Err(e)) => {
                    failure.get_or_insert(e);
                }
                None => break,
            }
            self.in_flight -= 1;
        }
        for worker in self.workers {
            let _ = worker.await;
        }
        if let Some(e) = failure {
            return Err(e);
        }
        let heads = std::mem::replace(&mut self.shared.0.lock().await.heads, Heads::new(1));
        Ok((total, heads))
    }
}

fn add(total: &mut Applied, one: Applied) {
    total.inserted += one.inserted;
    total.updated += one.updated;
    total.unchanged += one.unchanged;
    total.paragraphs += one.paragraphs;
    total.refused.extend(one.refused);
}

/// One worker: loads its batches in order until its queue closes or something fails.
async fn work(
    mut conn: PgConnection,
    mut jobs: mpsc::Receiver<Job>,
    done: mpsc::UnboundedSender<Outcome>,
    shared: Arc<(Mutex<Shared>, Notify)>,
    secrets: Vec<String>,
) {
    while let Some(job) = jobs.recv().await {
        let outcome = load(&mut conn, &job, &shared, &secrets).await.map_err(|e| {
            if is_statistics_error(&e) {
                Failure::Statistics
            } else {
                Failure::Database(scrub(&e.to_string(), &secrets))
            }
        });
        let failed = outcome.is_err();
        if failed {
            shared.0.lock().await.failed = true;
            shared.1.notify_waiters();
        }
        if done.send(outcome).is_err() || failed {
            break;
        }
    }
    let _ = conn.close().await;
}

/// The turn of one batch: taken when its statistics part starts, given on when it is done.
struct Gate<'s> {
    ticket: u64,
    shared: &'s (Mutex<Shared>, Notify),
    held: Option<MutexGuard<'s, Shared>>,
}

impl<'s> Gate<'s> {
    /// Waits for this batch's turn (if not already held) and returns the shared state.
    async fn enter(&mut self) -> Result<&mut Shared, sqlx::Error> {
        if self.held.is_none() {
            loop {
                let notified = self.shared.1.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let guard = self.shared.0.lock().await;
                if guard.failed {
                    return Err(sqlx::Error::Protocol("another loading session failed".into()));
                }
                if guard.turn == self.ticket {
                    self.held = Some(guard);
                    break;
                }
                drop(guard);
                notified.await;
            }
        }
        self.held.as_deref_mut().ok_or_else(|| sqlx::Error::Protocol("turn not held".into()))
    }

    /// Gives the turn to the next batch.
    async fn leave(mut self) -> Result<(), sqlx::Error> {
        self.enter().await?.turn += 1;
        self.held = None;
        self.shared.1.notify_waiters();
        Ok(())
    }
}

/// Loads one batch: as one transaction, or (a record refused) one transaction per record.
async fn load(
    conn: &mut PgConnection,
    job: &Job,
    shared: &(Mutex<Shared>, Notify),
    secrets: &[String],
) -> Result<Applied, sqlx::Error> {
    let mut gate = Gate { ticket: job.ticket, shared, held: None };
    let items: Vec<(i64, &Prepared)> = job.records.iter().zip(job.first_id..).map(|(r, id)| (id, r)).collect();
    let mut applied = Applied::default();
    match transaction(conn, &items, &mut gate).await {
        Ok(paragraphs) => {
            applied.inserted = items.len() as u64;
            applied.paragraphs = paragraphs;
        }
        Err(e) if is_record_error(&e) => {
            for item in &items {
                match transaction(conn, std::slice::from_ref(item), &mut gate).await {
                    Ok(paragraphs) => {
                        applied.inserted += 1;
                        applied.paragraphs += paragraphs;
                    }
                    Err(e) if is_record_error(&e) => applied.refused.push(RejectedRecord {
                        line: item.1.line,
                        source_id: Some(item.1.opinion.source_id.clone()),
                        kind: RejectKind::RefusedByDatabase,
                        reason: format!("PostgreSQL refused the record: {}", scrub(&e.to_string(), secrets)),
                    }),
                    Err(e) => return Err(e),
                }
            }
        }
        Err(e) => return Err(e),
    }
    gate.leave().await?;
    Ok(applied)
}

/// One transaction for `items` (`(id, record)`); returns the paragraph rows written.
async fn transaction(
    conn: &mut PgConnection,
    items: &[(i64, &Prepared)],
    gate: &mut Gate<'_>,
) -> Result<u64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let paragraphs = copy_text(&mut tx, items).await?;
    // Everything that does not depend on earlier batches is computed before the turn.
    let mut batch = [0i64; 5];
    let mut terms = TermDeltas::default();
    for &(_, r) in items {
        batch[0] += 1;
        for (total, n) in batch[1..].iter_mut().zip(r.lengths.columns()) {
            *total += i64::from(n);
        }
        terms.add_all(r.terms(), 1);
    }

    let shared = gate.enter().await?;
    let row = sqlx::query(ADD_TO_CORPUS)
        .bind(batch[0])
        .bind(batch[1])
        .bind(batch[2])
        .bind(batch[3])
        .bind(batch[4])
        .fetch_one(&mut *tx)
        .await?;
    let totals: Totals = [row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?];
    let average = impacts::averages(totals[0], [totals[1], totals[2], totals[3], totals[4]]);
    write_term_deltas(&mut tx, &terms).await?;
    tx.commit().await?;
    // Offered only once committed (a batch rolled back is retried record by record), still in
    // the turn, so in input order.
    for &(id, r) in items {
        for (term, &tf) in r.terms().zip(&r.tf) {
            let posting = Held { impact: impacts::impact(tf, r.lengths, average), body_tf: tf[BODY], opinion_id: id };
            shared.heads.offer(term, posting);
        }
    }
    Ok(paragraphs)
}

/// COPYs the opinions, their paragraphs and their lengths; returns the paragraph rows.
async fn copy_text(conn: &mut PgConnection, items: &[(i64, &Prepared)]) -> Result<u64, sqlx::Error> {
    let mut copy = conn.copy_in_raw(COPY_OPINIONS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    for &(id, r) in items {
        let o = &r.opinion;
        let id = id.to_string();
        let v = vectors(r);
        let fields: [Option<&str>; 10] = [
            Some(&id),
            Some(&o.source_id),
            Some(&o.case_name),
            o.citation.as_deref(),
            Some(&o.court),
            o.jurisdiction.as_deref(),
            o.decided_on.as_deref(),
            o.docket_number.as_deref(),
            Some(&o.body),
            Some(&v.document),
        ];
        push_row(&mut buf, &fields);
        if buf.len() >= COPY_CHUNK_BYTES {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(std::mem::take(&mut buf)).await?;
    }
    copy.finish().await?;

    let mut copy = conn.copy_in_raw(COPY_PARAGRAPHS).await?;
    let mut paragraphs = 0;
    for &(id, r) in items {
        let id = id.to_string();
        let v = vectors(r);
        for (no, (p, vector)) in r.paragraphs.iter().zip(&v.paragraphs).enumerate() {
            let no = no.to_string();
            push_row(&mut buf, &[Some(&id), Some(&no), Some(&p.body), Some(vector)]);
            paragraphs += 1;
            if buf.len() >= COPY_CHUNK_BYTES {
                copy.send(std::mem::take(&mut buf)).await?;
            }
        }
    }
    if !buf.is_empty() {
        copy.send(std::mem::take(&mut buf)).await?;
    }
    copy.finish().await?;

    let mut copy = conn.copy_in_raw(COPY_LENGTHS).await?;
    for &(id, r) in items {
        let id = id.to_string();
        let [a, b, c, d] = r.lengths.columns().map(|n| n.to_string());
        push_row(&mut buf, &[Some(&id), Some(&a), Some(&b), Some(&c), Some(&d)]);
    }
    copy.send(buf).await?;
    copy.finish().await?;
    Ok(paragraphs)
}
