//! Every host test in one binary (`cargo test -p host-tests`; one file's tests: `cargo test -p host-tests captures::`).
//! Each file is a module of its own, as it was a binary of its own; one binary links wasmtime once and compiles the
//! `.wasm` and the component once per run instead of once per file.

#[path = "captures.rs"]
mod captures;
#[path = "component.rs"]
mod component;
#[path = "early_close.rs"]
mod early_close;
#[path = "filter.rs"]
mod filter;
#[path = "fixtures.rs"]
mod fixtures;
#[path = "policy.rs"]
mod policy;
#[path = "quality.rs"]
mod quality;
#[path = "redaction_vectors.rs"]
mod redaction_vectors;
#[path = "replay_cli.rs"]
mod replay_cli;
#[path = "retrieval.rs"]
mod retrieval;
#[path = "runtimes.rs"]
mod runtimes;
