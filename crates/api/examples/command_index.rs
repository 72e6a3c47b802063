//! Prints docs/api.md's command index from the command table:
//! `cargo run -p shoebox-api --example command_index`.

fn main() {
    print!("{}", shoebox_api::index_markdown());
}
