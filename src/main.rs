//! The `ontleed` command-line tool: see `ontleed --help`.

fn main() {
    std::process::exit(ontleed::cli::main());
}
