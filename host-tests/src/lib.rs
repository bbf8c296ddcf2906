//! Test support for llm-trace: a proxy-wasm ABI v0.2.1 host on wasmtime that loads the real `.wasm` and drives it
//! the way Envoy does, the exchange file format of `../shared/captures`, replay of exchanges through the filter,
//! OTLP decoding for assertions, and the small servers used by the demo and the end-to-end tests; and the wasi:http
//! host that runs the llm-trace component (`component_host`).

pub mod compile_cache;
pub mod component_host;
pub mod exchange_file;
pub mod host;
pub mod native;
pub mod otlp_json;
pub mod replay;
pub mod servers;
