//! Benchmark baseline V2: the cost of *being* a Wasm filter that sees every byte. It copies each request and
//! response body chunk out of the host, as any body-inspecting filter must, and does nothing with it. The gap
//! between this and llm-trace is what tracing itself costs.

#[cfg(target_arch = "wasm32")]
mod filter {
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel};

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot) });
    }}

    struct NoopRoot;
    impl Context for NoopRoot {}
    impl RootContext for NoopRoot {
        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
        fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(NoopStream { bytes_seen: 0 }))
        }
    }

    struct NoopStream {
        bytes_seen: usize,
    }
    impl Context for NoopStream {}
    impl HttpContext for NoopStream {
        fn on_http_request_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
            self.bytes_seen += self.get_http_request_body(0, body_size).map_or(0, |b| b.len());
            Action::Continue
        }
        fn on_http_response_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
            self.bytes_seen += self.get_http_response_body(0, body_size).map_or(0, |b| b.len());
            Action::Continue
        }
    }
}
