//! One file per subcommand: the only place that wires the layers together. Converts clap types
//! into typed options before calling below.

pub mod check;
pub mod compare;
pub mod docs;
pub mod export;
pub mod gc;
pub mod group;
pub mod history;
pub mod list;
pub mod load;
pub mod parse;
pub mod push;
pub mod report;
pub mod run;
pub mod select;

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::model::{Direction, DirectionFrom};
use crate::store::Location;

/// The `[directions]` table of perfmon.toml.
fn config_directions() -> Result<Vec<(String, Direction)>> {
    Ok(crate::config::load()?.directions()?)
}

/// Runs the parsed command line; returns the process exit status.
pub fn dispatch(cli: Cli) -> Result<i32> {
    // The generated docs need no database (nor a place for one: HOME may be unset).
    let db = match cli.command {
        Command::Completions(_) | Command::Man(_) => Location::File(PathBuf::new()),
        _ => db_location(cli.db.clone())?,
    };
    match cli.command {
        Command::Run(a) => {
            let budget = match a.budget {
                Some(b) => b.0,
                None => crate::config::load()?.budget()?.unwrap_or_default(),
            };
            if a.budget_kill && budget.is_empty() {
                anyhow::bail!(
                    "--budget-kill needs a budget: --budget SPEC or [run] budget in perfmon.toml"
                );
            }
            let from = |rules: Vec<_>, by| rules.into_iter().map(move |(n, d)| (n, d, by));
            let directions = from(a.directions, DirectionFrom::Option)
                .chain(from(config_directions()?, DirectionFrom::Config))
                .collect();
            run::run(run::RunOptions {
                spool: match &db {
                    Location::File(p) => p.clone(),
                    Location::Postgres(_) => local_db_path()?,
                },
                db,
                argv: a.command,
                interval: a.interval,
                name: a.name,
                tags: a.tags,
                quiet: a.quiet,
                strip: a.strip,
                pty: match (a.pty, a.no_pty) {
                    (true, _) => crate::runner::PtyMode::Always,
                    (_, true) => crate::runner::PtyMode::Never,
                    _ => crate::runner::PtyMode::Auto,
                },
                parse: crate::parse::ParseConfig {
                    auto: !a.no_auto_progress,
                    regexes: a.progress,
                    explain: a.explain_progress,
                },
                env: a.env,
                gpu: !a.no_gpu,
                repeat: a.repeat,
                warmup: a.warmup,
                budget,
                budget_kill: a.budget_kill,
                directions,
            })
        }
        Command::List(a) => list::list(&db, &a),
        Command::Report(a) => report::report(&db, &a),
        Command::Parse(a) => parse::parse(&a),
        Command::Check(a) => check::check(&db, &a),
        Command::Compare(a) => compare::compare(&db, &a),
        Command::History(a) => history::history(&db, &a),
        Command::Rm(a) => gc::rm(&db, &a),
        Command::Gc(a) => gc::gc(&db, &a),
        Command::Doctor(a) => gc::doctor(&db, &a),
        Command::Export(a) => export::export(&db, &a),
        Command::Import(a) => export::import(&db, &a),
        Command::Push(a) => push::push(&db, &a),
        Command::Completions(a) => docs::completions(&a),
        Command::Man(a) => docs::man(&a),
    }
}

/// `--db`, else `$PERFMON_DB`, else the local file ([`local_db_path`]). A `postgres://` or
/// `postgresql://` URL names a PostgreSQL database; anything else a SQLite file.
pub fn db_location(flag: Option<PathBuf>) -> Result<Location> {
    if let Some(p) = flag {
        return Ok(Location::parse(p.as_os_str()));
    }
    if let Some(p) = std::env::var_os("PERFMON_DB").filter(|v| !v.is_empty()) {
        return Ok(Location::parse(&p));
    }
    Ok(Location::File(local_db_path()?))
}

/// The local SQLite file: `$PERFMON_DB` when it names one, else
/// `$XDG_DATA_HOME/perfmon/perfmon.db`, else `~/.local/share/perfmon/perfmon.db`. Runs recorded
/// for a PostgreSQL database are kept here until the server has them.
pub fn local_db_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PERFMON_DB").filter(|v| !v.is_empty()) {
        if let Location::File(p) = Location::parse(&p) {
            return Ok(p);
        }
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("perfmon").join("perfmon.db"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/perfmon/perfmon.db")),
        None => anyhow::bail!("cannot find a place for the database: set --db or PERFMON_DB"),
    }
}

/// The error of a read-only command finding no database at `db`: none yet (`perfmon run`
/// makes one), or none ever (a path where no file can be created).
pub fn no_database(db: &Location) -> anyhow::Error {
    let Some(db) = db.file() else {
        return anyhow::anyhow!("no database at {db}");
    };
    match crate::store::why_uncreatable(db) {
        Some(why) => anyhow::anyhow!(
            "no database at {}, and none can be created there: {why}",
            db.display()
        ),
        None => anyhow::anyhow!(
            "no database at {}: perfmon run -- CMD records a run",
            db.display()
        ),
    }
}

/// Opens the database at `db` for reading; none there is [`no_database`]'s error.
pub fn open_readonly(db: &Location) -> Result<crate::store::Store> {
    match crate::store::Store::open_readonly(db) {
        Err(crate::store::StoreError::NoDatabase(_)) => Err(no_database(db)),
        r => Ok(r?),
    }
}

/// Writes to stdout; a closed pipe (`perfmon list | head`) is not an error.
pub fn write_stdout(s: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
