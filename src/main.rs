//! The perfmon binary: parse the command line, run the command, print errors as one line and pick
//! the exit status (the command's for `run`; 2 for perfmon's own errors and bad usage).

use clap::Parser;

fn main() {
    let cli = match perfmon::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    std::process::exit(0);
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    std::process::exit(2);
                }
                _ => {
                    eprintln!("perfmon: error: {}", one_line(&e.to_string()));
                    std::process::exit(2);
                }
            }
        }
    };
    let code = match perfmon::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                0
            } else {
                eprintln!("perfmon: error: {e:#}");
                2
            }
        }
    };
    std::process::exit(code);
}

/// A clap error as one line, like perfmon's own errors: its message and details, without the
/// usage and the "For more information" hint (`--help` shows those).
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
