//! The `ontleed` command-line tool: see `ontleed --help`. Flags become validated options, the
//! options become calls into the `ontleed` library; this crate adds progress bars and exit codes.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
