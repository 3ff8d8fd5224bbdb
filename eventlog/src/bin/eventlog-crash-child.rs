//! Child process of the crash test: appends in a loop from several tasks and prints every
//! acknowledged append as `ACK <first> <last> <id,id,...>` until it is killed.

use std::io::Write;
use std::sync::Arc;

use clap::Parser;
use comptoir_eventlog::{
    AppendRequest, EventLog, EventMetadata, ExpectedVersion, LogOptions, NewEvent, StreamAppend,
};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    data_dir: std::path::PathBuf,
    #[arg(long, default_value_t = 8)]
    writers: u64,
    /// Padding added to each event's payload: large enough, a group commit is stored as several
    /// batches, which must survive a kill as a whole or not at all.
    #[arg(long, default_value_t = 0)]
    payload_pad_bytes: usize,
}

fn new_event(index: u64, pad: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "CrashProbeRecorded".into(),
        schema_version: 1,
        payload: format!("{{\"index\":{index},\"pad\":\"{pad}\"}}").into_bytes(),
        metadata: EventMetadata::default(),
    }
}

/// Every fifth append spans two streams, to exercise atomic multi-stream commits.
fn request(writer: u64, index: u64, pad: &str) -> AppendRequest {
    let mut streams = vec![StreamAppend {
        stream: format!("crash-{writer}"),
        expected: ExpectedVersion::Any,
        events: vec![new_event(index, pad)],
    }];
    if index.is_multiple_of(5) {
        streams[0].events.push(new_event(index, pad));
        streams.push(StreamAppend {
            stream: "crash-shared".into(),
            expected: ExpectedVersion::Any,
            events: vec![new_event(index, pad)],
        });
    }
    AppendRequest { streams }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let log = match EventLog::open(&args.data_dir, LogOptions::default()) {
        Ok(log) => Arc::new(log),
        Err(error) => {
            eprintln!("open failed: {error}");
            std::process::exit(2);
        }
    };
    println!("READY {}", log.head_position());
    let pad: Arc<str> = "p".repeat(args.payload_pad_bytes).into();
    let tasks: Vec<_> = (0..args.writers)
        .map(|writer| {
            let (log, pad) = (log.clone(), pad.clone());
            tokio::spawn(async move {
                for index in 0.. {
                    let request = request(writer, index, &pad);
                    let ids: Vec<String> = request
                        .streams
                        .iter()
                        .flat_map(|s| s.events.iter().map(|e| e.event_id.to_string()))
                        .collect();
                    let outcome = log.append(request).await.expect("append");
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(
                        out,
                        "ACK {} {} {}",
                        outcome.first_position,
                        outcome.last_position,
                        ids.join(",")
                    );
                    let _ = out.flush();
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}
