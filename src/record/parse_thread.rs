//! The parser's one owner while a run is recorded. The forwarding threads send each chunk of
//! output they have written here ([`ParseFeed`], a [`LineSink`]); one thread splits the chunks
//! into lines, feeds the parser, and hands it back by value when both streams have ended
//! ([`ParseThread::join`]). A live display reads a [`Snapshot`] the thread refreshes, never the
//! parser itself, so nothing else holds the parser when the run ends.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::lines::{LineSplitter, Lines};
use crate::parse::{Parser, Snapshot, Stream};
use crate::runner::LineSink;

/// Chunks in flight between the forwarding threads and the parser (at most 64 KiB each): when
/// the parser falls this far behind, forwarding waits for it, so memory stays bounded.
const IN_FLIGHT: usize = 64;

enum Msg {
    Chunk(Stream, f64, Vec<u8>),
    End(Stream, f64),
}

/// The forwarding threads' end of the channel to the parse thread.
pub struct ParseFeed {
    tx: SyncSender<Msg>,
}

impl LineSink for ParseFeed {
    fn chunk(&self, stream: Stream, t_s: f64, chunk: &[u8]) {
        // A send fails only when the parse thread has died; `ParseThread::join` reports that.
        // The copy allocates per chunk: recycling buffers through a pool was measured and saves
        // 0.4% of perfmon's instructions on 64 MB of output (callgrind), so it is not done.
        let _reported_at_join = self.tx.send(Msg::Chunk(stream, t_s, chunk.to_vec()));
    }

    fn end(&self, stream: Stream, t_s: f64) {
        let _reported_at_join = self.tx.send(Msg::End(stream, t_s));
    }
}

/// The thread that owns the parser during the run.
pub struct ParseThread {
    handle: JoinHandle<Parser>,
}

/// Why the parser could not be handed back.
#[derive(Debug, thiserror::Error)]
#[error("the output parser stopped with an internal error ({0}); timers, series and marks read from the output are lost")]
pub struct ParserLost(String);

impl ParseThread {
    /// Starts the thread; `snapshot`, when given, is refreshed after every chunk. The
    /// [`ParseFeed`] goes to the forwarding threads: the thread ends once every copy of it is
    /// dropped.
    pub fn start(
        parser: Parser,
        snapshot: Option<Arc<Mutex<Snapshot>>>,
    ) -> std::io::Result<(ParseThread, ParseFeed)> {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let handle = std::thread::Builder::new()
            .name("perfmon-parse".into())
            .spawn(move || consume(parser, rx, snapshot))?;
        Ok((ParseThread { handle }, ParseFeed { tx }))
    }

    /// Waits until both streams have ended and returns the parser.
    pub fn join(self) -> Result<Parser, ParserLost> {
        self.handle.join().map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            ParserLost(why)
        })
    }
}

fn consume(
    mut parser: Parser,
    rx: Receiver<Msg>,
    snapshot: Option<Arc<Mutex<Snapshot>>>,
) -> Parser {
    let mut splitters = [LineSplitter::default(), LineSplitter::default()];
    let mut local = Snapshot::default();
    for msg in rx {
        match msg {
            Msg::Chunk(stream, t_s, chunk) => {
                let p = &mut parser;
                splitters[index(stream)].for_each_block(&chunk, |lines| match lines {
                    Lines::One(line, truncated) => p.feed_line(stream, t_s, line, truncated),
                    Lines::Block(block) => p.feed_lines(stream, t_s, block),
                    Lines::States(states) => p.feed_states(t_s, states),
                });
            }
            // The last line had no newline: it still counts.
            Msg::End(stream, t_s) => finish_stream(&mut parser, &mut splitters, stream, t_s),
        }
        if let Some(shared) = &snapshot {
            parser.snapshot_into(&mut local);
            if let Ok(mut s) = shared.lock() {
                s.clone_from(&local);
            }
        }
    }
    parser
}

fn finish_stream(parser: &mut Parser, splitters: &mut [LineSplitter; 2], stream: Stream, t_s: f64) {
    if let Some((line, truncated)) = splitters[index(stream)].finish() {
        parser.feed_line(stream, t_s, &line, truncated);
    }
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse::ParseConfig;

    fn parser() -> Parser {
        Parser::new(&ParseConfig {
            auto: true,
            ..Default::default()
        })
        .unwrap()
    }

    /// Every line of both streams reaches the parser, also a last line without a newline, and
    /// the parser comes back by value while a snapshot reader still holds its snapshot.
    #[test]
    fn hands_back_every_line_and_the_parser() {
        let snap = Arc::new(Mutex::new(Snapshot::default()));
        let (thread, feed) = ParseThread::start(parser(), Some(snap.clone())).unwrap();
        feed.chunk(Stream::Stdout, 0.1, b"@perfmon timer start A\n@perfmon pro");
        feed.chunk(Stream::Stderr, 0.2, b"@perfmon progress iter=1 loss=0.5\n");
        feed.chunk(
            Stream::Stdout,
            0.3,
            b"gress iter=2 loss=0.25\n@perfmon timer stop A",
        );
        feed.end(Stream::Stdout, 0.4);
        feed.end(Stream::Stderr, 0.4);
        drop(feed);
        let parser = thread.join().unwrap();
        let seen = snap.lock().unwrap().clone();
        let r = parser.finish(0.5);
        assert_eq!(r.diagnostics.lines_seen, 4);
        assert_eq!(r.timers.len(), 1);
        assert_eq!(r.timers[0].end_s, 0.4);
        assert_eq!(r.series[0].points.len(), 2);
        assert_eq!(seen.latest, Some(("loss".to_string(), 2, 0.25)));
        assert_eq!(seen.lines_seen, 4);
    }
}
