//! A rebuild's commits stored by a thread of their own.
//!
//! A commit's cost is mostly compressing its rows and sled storing them (`store::commit_rows`),
//! and a rebuild's applier is the slowest of its threads: it waited for each commit before
//! applying the next chunk while a core sat idle. Here the applier encodes the commit's rows to
//! JSON and hands them over, then applies the next chunk while this thread compresses and stores
//! them; it waits for that commit only when it hands over the next one, so at most one commit is
//! in flight. Rows the handed-over commit wrote stay in the row cache until it is stored
//! (`RowCache::handed_over`, `RowCache::evict`): an evicted row is read from the tree again.
//!
//! Only replays into fresh trees commit this way (offline and online rebuilds, verify): their
//! trees count once the replay has ended, after the last commit is stored. The live runner
//! publishes each checkpoint to readers, so it stores its commits itself.

use crate::error::{ProjectionError, ProjectionResult};
use crate::rows::PendingRow;
use std::sync::mpsc;

/// One commit to store: its rows and bookkeeping, in one atomic batch.
struct Job {
    tree: sled::Tree,
    rows: Vec<PendingRow>,
    bookkeeping: Vec<(Vec<u8>, Vec<u8>)>,
}

fn store(job: Job) -> ProjectionResult<()> {
    let mut batch = sled::Batch::default();
    for row in job.rows {
        row.store_into(&mut batch)?;
    }
    for (key, value) in job.bookkeeping {
        batch.insert(key, value);
    }
    job.tree.apply_batch(batch)?;
    Ok(())
}

/// The storing thread and the one commit it may be storing.
pub(crate) struct CommitThread {
    jobs: Option<mpsc::SyncSender<Job>>,
    stored: mpsc::Receiver<ProjectionResult<()>>,
    in_flight: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CommitThread {
    pub fn start() -> ProjectionResult<Self> {
        let (jobs, pending) = mpsc::sync_channel::<Job>(1);
        let (report, stored) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("projection-commits".into())
            .spawn(move || {
                for job in pending {
                    // The applier gone, nobody waits for the outcome.
                    if report.send(store(job)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|error| ProjectionError::Corrupt {
                key: String::new(),
                reason: format!("cannot start the commit thread: {error}"),
            })?;
        Ok(CommitThread {
            jobs: Some(jobs),
            stored,
            in_flight: false,
            thread: Some(thread),
        })
    }

    /// Waits until the commit handed over last is stored; its error if it failed.
    pub fn wait(&mut self) -> ProjectionResult<()> {
        if !std::mem::take(&mut self.in_flight) {
            return Ok(());
        }
        self.stored.recv().unwrap_or_else(|_| Err(stopped()))
    }

    /// Hands a commit over (the previous one must be stored: `wait`).
    pub fn hand_over(
        &mut self,
        tree: &sled::Tree,
        rows: Vec<PendingRow>,
        bookkeeping: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> ProjectionResult<()> {
        let job = Job {
            tree: tree.clone(),
            rows,
            bookkeeping,
        };
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(job).map_err(|_| stopped())?;
        self.in_flight = true;
        Ok(())
    }

    /// Waits for the last commit and ends the thread.
    pub fn finish(&mut self) -> ProjectionResult<()> {
        let outcome = self.wait();
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            thread.join().map_err(|_| stopped())?;
        }
        outcome
    }
}

impl Drop for CommitThread {
    fn drop(&mut self) {
        // Ends the thread after what it was handed (a replay that failed drops it midway).
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> ProjectionError {
    ProjectionError::Corrupt {
        key: String::new(),
        reason: "the commit thread stopped".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rows::{RowCache, Typed};
    use crate::store::{cached_get, commit_rows, get};

    // Proves a cache whose commits the thread stores, trimmed to one row, reads back what it
    // wrote: a counter every commit changes (read by each commit while the one before may still
    // be being stored), one every other commit changes (evicted, then read from the tree), and a
    // row per commit, all stored once it finishes.
    #[test]
    fn commits_stored_in_the_background_read_back_after_eviction() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("t").expect("tree");
        let mut rows = RowCache::with_commit_thread(1).expect("thread");
        let add_one = |rows: &mut RowCache, counter: &[u8]| {
            let value = cached_get::<u64>(&tree, rows, counter).expect("read");
            rows.insert(
                counter.to_vec(),
                Box::new(Typed(value.unwrap_or(0) + 1)),
                true,
            );
        };
        for commit in 0u64..300 {
            add_one(&mut rows, b"every");
            if commit % 2 == 0 {
                add_one(&mut rows, b"every other");
            }
            let own = format!("row{commit:04}").into_bytes();
            rows.insert(own, Box::new(Typed(commit)), true);
            let checkpoint = commit.to_be_bytes();
            commit_rows(&tree, &mut rows, &[(b"\0c", &checkpoint)]).expect("hand over");
        }
        rows.finish_commits().expect("stored");
        assert_eq!(get::<u64>(&tree, b"every").expect("read"), Some(300));
        assert_eq!(get::<u64>(&tree, b"every other").expect("read"), Some(150));
        for commit in 0u64..300 {
            let own = format!("row{commit:04}");
            assert_eq!(
                get::<u64>(&tree, own.as_bytes()).expect("row"),
                Some(commit)
            );
        }
        let checkpoint = tree.get(b"\0c").expect("checkpoint").expect("stored");
        assert_eq!(checkpoint.as_ref(), 299u64.to_be_bytes());
        assert!(!rows.commits_in_background());
    }
}
