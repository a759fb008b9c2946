//! The perfmon binary: parse the command line, run the command, print errors as one line and pick
//! the exit status (the command's for `run`; 2 for perfmon's own errors and bad usage).

use perfmon::cli::message::{clap_line, error_line};

fn main() {
    let cli = match perfmon::cli::parse() {
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
                kind => {
                    let missing = kind == ErrorKind::MissingRequiredArgument;
                    eprintln!("perfmon: error: {}", clap_line(&e.to_string(), missing));
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
                eprintln!("perfmon: error: {}", error_line(&e));
                2
            }
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
