//! llm-trace: a proxy-wasm filter that records every LLM API call passing through Envoy as an OpenTelemetry span
//! (GenAI semantic conventions) and ships it over OTLP to a collector cluster.
//!
//! This crate is the proxy-wasm adapter of [`llm_trace_core`] and nothing else: it reads what the core asks for
//! through host calls ([`host`]), maps the callbacks of the root context ([`root`]: configuration, tick, export
//! answers) and of each HTTP stream ([`stream`]) onto the core's [`Tracer`](llm_trace_core::Tracer) and
//! [`Exchange`](llm_trace_core::Exchange), and applies the edits, metrics ([`stats`]) and log lines it returns.
//! Every decision is the core's. Only the `.wasm` build has code; a native build is an empty library.

#[cfg(target_arch = "wasm32")]
mod headers;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod root;
#[cfg(target_arch = "wasm32")]
mod stats;
#[cfg(target_arch = "wasm32")]
mod stream;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|context_id| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(root::Root::new(context_id))
    });
}}
