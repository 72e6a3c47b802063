//! The shells' tests, in one binary (ripgrep's layout): the `shoebox`
//! command line and `shoebox serve`, run as a user runs them, against real
//! libraries, images, HTTP and processes. One harness (`support::shell`)
//! sets every run up the same way.

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/shell.rs"]
mod harness;

mod cli;
mod contract;
mod crash;
mod dupes;
mod embed;
mod live;
mod serve;
mod tags;
