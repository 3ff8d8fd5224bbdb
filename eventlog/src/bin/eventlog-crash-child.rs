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
}

fn new_event(index: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "CrashProbeRecorded".into(),
        schema_version: 1,
        payload: format!("{{\"index\":{index}}}").into_bytes(),
        metadata: EventMetadata::default(),
    }
}

/// Every fifth append spans two streams, to exercise atomic multi-stream commits.
fn request(writer: u64, index: u64) -> AppendRequest {
    let mut streams = vec![StreamAppend {
        stream: format!("crash-{writer}"),
        expected: ExpectedVersion::Any,
        events: vec![new_event(index)],
    }];
    if index.is_multiple_of(5) {
        streams[0].events.push(new_event(index));
        streams.push(StreamAppend {
            stream: "crash-shared".into(),
            expected: ExpectedVersion::Any,
            events: vec![new_event(index)],
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
    let tasks: Vec<_> = (0..args.writers)
        .map(|writer| {
            let log = log.clone();
            tokio::spawn(async move {
                for index in 0.. {
                    let request = request(writer, index);
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
