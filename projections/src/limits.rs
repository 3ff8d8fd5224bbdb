//! Every bound of the projections, with the relations between them checked at compile time.

use std::time::Duration;

/// Events the live runner applies in one commit together with the checkpoint, made of the
/// log's whole stored batches, which hold whole appends (a batch larger than this, up to the
/// log's own `COMMIT_EVENTS_MAX`, is applied alone and whole). Each batch's write set is held in memory
/// until it commits.
pub const COMMIT_EVENTS_MAX: usize = 1_024;
/// Items one page of a list may hold; a larger requested `limit` is capped to this.
pub const PAGE_LIMIT_MAX: usize = 200;
/// Items a page holds when the caller asks for 0.
pub const PAGE_LIMIT_DEFAULT: usize = 50;
/// Rows a filtered list (search, status) examines for one page: past it, the page comes back
/// short with a cursor, so a rare filter never turns one request into a full scan.
pub const PAGE_SCAN_ROWS_MAX: usize = 5_000;
/// Characters of a customer search term.
pub const SEARCH_CHARS_MAX: usize = 200;
/// Bytes of a decoded paging cursor (a key suffix: a timestamp, an id or an email, a number).
pub const CURSOR_BYTES_MAX: usize = 512;
/// Longest `wait_for` may wait, whatever the caller asks.
pub const WAIT_TIMEOUT_MAX: Duration = Duration::from_secs(30);
/// sled page cache of the projections database, in bytes.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// sled page cache of the projections database for the offline `rebuild` and `verify`
/// commands. Their appliers read back little (the row cache holds what consecutive commits
/// share), so a small cache costs no time here. Measured on the rebuild bench's 100k orders,
/// peak RSS: 313–321 MB with 64 MiB, 247–261 MB with 16 MiB, 209–217 MB with 8 MiB (log
/// passes of 16 MiB), at the same speed within the machine's noise.
pub const OFFLINE_CACHE_BYTES: u64 = 8 * 1024 * 1024;
/// How often sled flushes the projections in the background. Projections need no flush per
/// commit: after a crash they resume from whatever checkpoint survived, atomically with its state.
pub const FLUSH_INTERVAL_MS: u64 = 500;

/// Ledger entries one JSON read (journal, general ledger) returns; longer periods are refused
/// rather than answered with an unbounded body. The FEC export streams and has no such bound.
pub const LEDGER_ENTRIES_PER_READ_MAX: usize = 20_000;
/// Accounts one page of the general ledger reads: each is a scan of the period's entries (at
/// most `PAGE_SCAN_ROWS_MAX` rows), so this bounds a page's reads when many accounts have few
/// lines; past it the page comes back short, with a cursor.
pub const GENERAL_LEDGER_PAGE_ACCOUNTS_MAX: usize = 8;
/// Balance rows (one per account and month) a general ledger page reads to list the accounts of
/// its period: far more than centuries of a shop's months hold.
pub const LEDGER_BALANCE_ROWS_PER_READ_MAX: usize = 100_000;
/// Optimistic tries of a report's read before it pauses the runner to read
/// (`Projections::snapshot`).
pub const SNAPSHOT_ATTEMPTS: usize = 4;
/// Shops one FEC may gather (the shops of one legal entity).
pub const FEC_SHOPS_MAX: usize = 20;
/// Fiscal years one listing holds: a century of a shop's books.
pub const FISCAL_YEARS_LISTED_MAX: usize = 100;
/// Events a rebuild applies per commit. Measured, not guessed: 8,192 made sled hold a large
/// batch and its garbage at once (rebuild peak RSS ~410 MB for 20k orders against ~250 MB at
/// 1,024) without saving CPU, because the row cache already spares the next commit the rows
/// consecutive commits share.
pub const REBUILD_CHUNK_EVENTS: usize = 1_024;
/// Chunks a rebuild holds ready for each projection's applier beyond the one it applies: one
/// lets a faster applier run ahead by a chunk without letting memory follow the log.
pub const REBUILD_CHUNKS_AHEAD: usize = 1;
/// Events a rebuild's reader decodes and hands over at once: small, so that what it holds ahead
/// of the applier (the piece it builds and `REPLAY_PIECES_AHEAD` in the channel) stays far below
/// a commit's worth of events.
pub const REPLAY_PIECE_EVENTS: usize = 512;
/// Decoded pieces waiting for the applier.
pub const REPLAY_PIECES_AHEAD: usize = 2;

/// Decoded rows a projection keeps between commits (`RowCache`); past it, only the rows the
/// last commit touched stay, so the rows consecutive commits share (an order whose events span
/// both, the day's usage, counters, balances) are read from the tree once.
pub const ROW_CACHE_ROWS_MAX: usize = 16_384;

/// How far behind the runner's checkpoint an online rebuild's fresh trees may be when it pauses
/// the runner to swap them in: the runner (and so reads with `min_position`) waits while these
/// last events are replayed, so about one live commit's worth.
pub const ONLINE_SWAP_LAG_EVENTS: u64 = COMMIT_EVENTS_MAX as u64;
/// Catch-up rounds an online rebuild runs before it pauses the runner however far behind it is:
/// a log growing faster than the rebuild replays must not keep it running for ever.
pub const ONLINE_CATCH_UP_ROUNDS_MAX: u32 = 8;
/// Longest an online rebuild waits for the readers of a replaced tree to finish before leaving
/// the tree to be dropped at the next open (queries hold a tree for one bounded read).
pub const OLD_TREE_READERS_WAIT_MAX: Duration = Duration::from_secs(10);
/// How often it looks whether they are done.
pub const OLD_TREE_READERS_POLL: Duration = Duration::from_millis(5);

const _: () = assert!(REBUILD_CHUNK_EVENTS >= COMMIT_EVENTS_MAX);
const _: () = assert!(PAGE_LIMIT_DEFAULT <= PAGE_LIMIT_MAX);
const _: () = assert!(PAGE_LIMIT_MAX <= PAGE_SCAN_ROWS_MAX);
const _: () = assert!(GENERAL_LEDGER_PAGE_ACCOUNTS_MAX > 0);
const _: () = assert!(SEARCH_CHARS_MAX < CURSOR_BYTES_MAX);
const _: () = assert!(COMMIT_EVENTS_MAX > 0);
// An append always fits in one stored batch, and so in one runner commit.
const _: () = assert!(
    comptoir_eventlog::limits::EVENTS_PER_APPEND_MAX
        <= comptoir_eventlog::limits::COMMIT_EVENTS_MAX
);
const _: () = assert!(REPLAY_PIECES_AHEAD > 0);
const _: () = assert!(REBUILD_CHUNKS_AHEAD > 0);
const _: () = assert!(REPLAY_PIECE_EVENTS <= REBUILD_CHUNK_EVENTS);
const _: () = assert!(ONLINE_CATCH_UP_ROUNDS_MAX > 0);
