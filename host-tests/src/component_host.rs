//! The wasi:http host of the llm-trace component: the embedding `wasmtime serve` uses (wasmtime, wasmtime-wasi and
//! wasmtime-wasi-http 48.0.8, every WASI interface linked as with `-S cli`), a fresh instance per request.
//!
//! The component's outgoing requests leave through a [`WasiHttpHooks`]: [`LoopbackHooks`] sends them over plain
//! HTTP (the `edge-serve` binary; everything here is loopback, so no TLS), and [`replay_component`] answers them
//! from a recorded exchange, with a clock the replay drives the way [`crate::replay`] drives the proxy-wasm host,
//! so the component's spans can be compared with the filter's.

use crate::exchange_file::ExchangeFile;
use crate::otlp_json;
use crate::replay::{chunk_sizes, Played, ReplayOptions};
use anyhow::{anyhow, bail, Context as _, Result};
use bytes::Bytes;
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Body;
use serde_json::Value;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

/// Authority of the collector in replays: export calls to it are decoded, never sent.
pub const REPLAY_COLLECTOR: &str = "collector.replay";

/// Where the component is: `LLM_TRACE_COMPONENT`, else the workspace's release build.
pub fn component_path() -> Result<PathBuf> {
    let path = match std::env::var_os("LLM_TRACE_COMPONENT") {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release/llm_trace_component.wasm")
        }
    };
    if !path.is_file() {
        bail!(
            "the component is not built: {} is missing. Build it with `make component` \
             (or `cargo build --release --target wasm32-wasip2 -p llm-trace-component`).",
            path.display()
        );
    }
    Ok(path)
}

/// One instance's store data.
pub struct InstanceData {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Box<dyn WasiHttpHooks>,
}

impl WasiView for InstanceData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceData {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut *self.hooks,
        }
    }
}

/// How one instance is set up: its environment, where its requests go, its clock and its stderr.
pub struct InstanceSetup {
    pub env: Vec<(String, String)>,
    pub hooks: Box<dyn WasiHttpHooks>,
    /// `None`: the host's clocks.
    pub clock: Option<TestClock>,
    /// `None`: inherit the host's stderr.
    pub stderr: Option<MemoryOutputPipe>,
}

/// The compiled component, ready to instantiate once per request.
pub struct ComponentRuntime {
    component: Component,
    pre: ProxyPre<InstanceData>,
}

impl ComponentRuntime {
    /// Compiles the component at `path` and links every WASI interface (as `wasmtime serve -S cli`) and wasi:http.
    pub fn load(path: &Path) -> Result<ComponentRuntime> {
        let engine = Engine::new(&wasmtime::Config::new())?;
        let component = crate::compile_cache::component(&engine, path)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        Ok(ComponentRuntime { component, pre })
    }

    /// The workspace's component, compiled once per process.
    pub fn shared() -> Result<&'static ComponentRuntime> {
        static RUNTIME: OnceLock<std::result::Result<ComponentRuntime, String>> = OnceLock::new();
        RUNTIME
            .get_or_init(|| {
                component_path()
                    .and_then(|p| ComponentRuntime::load(&p))
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// The interfaces the component imports, e.g. `wasi:http/types@0.2.12`, sorted.
    pub fn imports(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .component
            .component_type()
            .imports(self.pre.engine())
            .map(|(name, _)| name.to_string())
            .collect();
        names.sort();
        names
    }

    /// Hands one request to a fresh instance. Returns the response head and body as soon as the component sets
    /// them, and the task still running the instance (it goes on after the response, to export).
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        setup: InstanceSetup,
    ) -> Result<(hyper::Response<HyperOutgoingBody>, tokio::task::JoinHandle<Result<()>>)>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<HttpError>,
    {
        let mut wasi = WasiCtx::builder();
        for (name, value) in &setup.env {
            wasi.env(name, value);
        }
        match setup.stderr {
            Some(pipe) => wasi.stderr(pipe),
            None => wasi.inherit_stderr(),
        };
        if let Some(clock) = setup.clock {
            wasi.wall_clock(WallReading(clock.clone()));
            wasi.monotonic_clock(MonotonicReading(clock));
        }
        let data = InstanceData {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: setup.hooks,
        };
        let mut store = Store::new(self.pre.engine(), data);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await?;
            Ok::<(), anyhow::Error>(())
        });
        match receiver.await {
            Ok(Ok(response)) => Ok((response, task)),
            Ok(Err(code)) => bail!("the component answered with an error instead of a response: {code:?}"),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("the component returned without setting a response"),
                Ok(Err(e)) => Err(e.context("the component failed before setting a response")),
                Err(e) => Err(anyhow!("the component's task failed: {e}")),
            },
        }
    }
}

/// Sends the component's outgoing requests over plain HTTP/1.1 (loopback test servers; `https` is refused).
pub struct LoopbackHooks;

type SendResult = std::result::Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = std::result::Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

impl WasiHttpHooks for LoopbackHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = std::result::Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        Box::new(send_plain_http(request, options))
    }
}

async fn send_plain_http(mut request: http::Request<WasiBody>, options: Option<RequestOptions>) -> SendResult {
    let uri = request.uri().clone();
    if uri.scheme_str() != Some("http") {
        return Err(HttpError::HttpRequestDenied);
    }
    let authority = uri.authority().ok_or(HttpError::HttpRequestUriInvalid)?;
    let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(Duration::from_secs(600));
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(Duration::from_secs(600));
    let stream = match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(&address)).await {
        Ok(stream) => stream.map_err(HttpError::Connect)?,
        Err(_) => return Err(HttpError::ConnectionTimeout),
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)??;
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    Ok((response, Box::new(async { Ok(()) })))
}

/// A clock the replay drives: it moves only when the replay says so, and only after the component has read it
/// since the last move, so every reading the component takes falls where the proxy-wasm replay's would.
#[derive(Clone, Default)]
pub struct TestClock(Arc<ClockState>);

#[derive(Default)]
struct ClockState {
    elapsed_ns: AtomicU64,
    /// Monotonic readings taken by the component.
    readings: AtomicU64,
    readings_at_last_move: AtomicU64,
    read: Notify,
}

/// Wall time of the replay's clock at zero, as the proxy-wasm host's.
const WALL_START_NS: u64 = 1_700_000_000_000_000_000;

impl TestClock {
    /// Moves the clock `ms` forward once the component has read it since the last move (or after 5 s, so a
    /// component that stops reading makes the comparison fail instead of hanging the test).
    pub async fn advance_after_read(&self, ms: u64) {
        let state = &self.0;
        let wait = async {
            loop {
                let notified = state.read.notified();
                if state.readings.load(Ordering::SeqCst) > state.readings_at_last_move.load(Ordering::SeqCst) {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        state
            .readings_at_last_move
            .store(state.readings.load(Ordering::SeqCst), Ordering::SeqCst);
        state.elapsed_ns.fetch_add(ms * 1_000_000, Ordering::SeqCst);
    }
}

struct MonotonicReading(TestClock);

impl HostMonotonicClock for MonotonicReading {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        let state = &self.0 .0;
        let now = state.elapsed_ns.load(Ordering::SeqCst);
        state.readings.fetch_add(1, Ordering::SeqCst);
        state.read.notify_one();
        now
    }
}

struct WallReading(TestClock);

impl HostWallClock for WallReading {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(WALL_START_NS + self.0 .0.elapsed_ns.load(Ordering::SeqCst))
    }
}

/// A response body fed frame by frame from a channel.
struct ChannelBody(mpsc::Receiver<std::result::Result<Frame<Bytes>, HttpError>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, HttpError>>> {
        self.0.poll_recv(cx)
    }
}

/// Headers in order (pseudo-headers first) and a body.
type HeadersAndBody = (Vec<(String, String)>, Vec<u8>);

/// What the replay's upstream and collector saw.
#[derive(Default)]
struct ReplayRecord {
    /// The request as the component forwarded it: pseudo-headers first, then the headers; and its body.
    forwarded: Option<HeadersAndBody>,
    spans: Vec<Value>,
    export_error: Option<String>,
}

/// Answers the component's upstream request from a recorded exchange, decodes its export calls to
/// [`REPLAY_COLLECTOR`], and refuses connections anywhere else.
struct ReplayHooks {
    /// Authority of the recorded upstream; requests anywhere else but the replay collector are refused.
    upstream: String,
    clock: TestClock,
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Bytes>,
    cut: bool,
    options: ReplayOptions,
    record: Arc<Mutex<ReplayRecord>>,
}

impl WasiHttpHooks for ReplayHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = std::result::Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let record = Arc::clone(&self.record);
        if request.uri().authority().map(|a| a.as_str()) == Some(REPLAY_COLLECTOR) {
            return Box::new(async move {
                let encoding = request
                    .headers()
                    .get("content-encoding")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = request.into_body().collect().await?.to_bytes();
                let decoded = otlp_json::decode_export_request(&body, encoding.as_deref());
                if let Ok(mut record) = record.lock() {
                    match decoded {
                        Ok(request) => record.spans.extend(otlp_json::spans_to_json(&request)),
                        Err(e) => record.export_error = Some(format!("{e:#}")),
                    }
                }
                let response = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/x-protobuf")
                    .body(
                        http_body_util::Empty::<Bytes>::new()
                            .map_err(HttpError::from)
                            .boxed_unsync(),
                    )
                    .map_err(|e| HttpError::InternalError(Some(e.to_string())))?;
                Ok((
                    response,
                    Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
                ))
            });
        }
        if request.uri().authority().map(|a| a.as_str()) != Some(self.upstream.as_str()) {
            return Box::new(async { Err(HttpError::ConnectionRefused) });
        }
        let clock = self.clock.clone();
        let (status, headers, chunks, cut) = (self.status, self.headers.clone(), self.chunks.clone(), self.cut);
        let (latency, interval) = (self.options.upstream_latency_ms, self.options.chunk_interval_ms);
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await?.to_bytes();
            let mut forwarded = vec![
                (":method".to_string(), parts.method.to_string()),
                (
                    ":scheme".to_string(),
                    parts.uri.scheme_str().unwrap_or_default().to_string(),
                ),
                (
                    ":authority".to_string(),
                    parts.uri.authority().map(|a| a.to_string()).unwrap_or_default(),
                ),
                (
                    ":path".to_string(),
                    parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
                ),
            ];
            for (name, value) in &parts.headers {
                forwarded.push((name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
            }
            if let Ok(mut record) = record.lock() {
                record.forwarded = Some((forwarded, body.to_vec()));
            }
            clock.advance_after_read(latency).await;
            let (frames, receiver) = mpsc::channel(1);
            tokio::task::spawn(async move {
                for chunk in chunks {
                    clock.advance_after_read(interval).await;
                    if frames.send(Ok(Frame::data(chunk))).await.is_err() {
                        return;
                    }
                }
                if cut {
                    let _ = frames.send(Err(HttpError::ConnectionTerminated)).await;
                }
            });
            let mut response = http::Response::builder().status(status);
            for (name, value) in &headers {
                response = response.header(name, value);
            }
            let response = response
                .body(ChannelBody(receiver).boxed_unsync())
                .map_err(|e| HttpError::InternalError(Some(e.to_string())))?;
            Ok((
                response,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Headers no HTTP/1.1 hop forwards; a wasi:http guest may not set them.
pub const HOP_BY_HOP: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "te",
    "trailer",
];

/// The recorded exchange as a real peer would send it: `content-length` (when recorded) equal to the body's
/// length. Both runtimes are replayed with this version, so they see the same headers.
pub fn with_true_lengths(exchange: &ExchangeFile) -> Result<ExchangeFile> {
    let mut fixed = exchange.clone();
    let request_len = exchange.request_body()?.len().to_string();
    let response_len = exchange.response_body()?.len().to_string();
    for (headers, len) in [
        (&mut fixed.request.headers, request_len),
        (&mut fixed.response.headers, response_len),
    ] {
        for (name, value) in headers.iter_mut() {
            if name.eq_ignore_ascii_case("content-length") {
                *value = len.clone();
            }
        }
    }
    Ok(fixed)
}

/// What a replay through the component gave: what was forwarded both ways and exported, its stderr, and whether
/// the client's response ended normally.
pub struct ComponentPlayed {
    pub played: Played,
    pub client_status: u16,
    pub client_headers: Vec<(String, String)>,
    pub client_body_complete: bool,
    pub stderr: String,
}

/// The component's configuration for a replay: the filter's, with the replay collector as `exporter.endpoint`.
pub fn component_config(plugin_config: &str) -> Result<String> {
    let mut config: Value = serde_json::from_str(plugin_config).context("the replay configuration is not JSON")?;
    config["exporter"]["endpoint"] = Value::String(format!("http://{REPLAY_COLLECTOR}/v1/traces"));
    Ok(config.to_string())
}

/// Plays one exchange through the component in a fresh instance, on a runtime of its own: the client sends the
/// recorded request; the upstream answers with the recorded response, cut into chunks as `options` say, on the
/// replay's clock; the collector decodes the export.
pub fn replay_component(exchange: &ExchangeFile, options: &ReplayOptions) -> Result<ComponentPlayed> {
    let config = component_config(&options.plugin_config)?;
    replay_with_config(exchange, options, &config)
}

/// [`replay_component`] with `options.plugin_config` given to the component as it is (no endpoint added).
pub fn replay_component_as_configured(exchange: &ExchangeFile, options: &ReplayOptions) -> Result<ComponentPlayed> {
    replay_with_config(exchange, options, &options.plugin_config)
}

fn replay_with_config(exchange: &ExchangeFile, options: &ReplayOptions, config: &str) -> Result<ComponentPlayed> {
    let runtime = ComponentRuntime::shared()?;
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(play(runtime, exchange, options, config))
}

async fn play(
    runtime: &ComponentRuntime,
    exchange: &ExchangeFile,
    options: &ReplayOptions,
    config: &str,
) -> Result<ComponentPlayed> {
    let url = crate::exchange_file::split_url(&exchange.request.url)?;
    let request_body = exchange.request_body()?;
    let response_body = Bytes::from(exchange.response_body()?);
    let mut request = hyper::Request::builder()
        .method(exchange.request.method.to_ascii_uppercase().as_str())
        .uri(format!("http://edge.replay{}", url.path));
    let mut has_length = false;
    for (name, value) in &exchange.request.headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with(':') || lower == "host" {
            continue;
        }
        has_length |= lower == "content-length";
        request = request.header(lower.as_str(), value.as_str());
    }
    if !request_body.is_empty() && !has_length {
        request = request.header("transfer-encoding", "chunked");
    }
    let request = request.body(http_body_util::Full::new(Bytes::from(request_body)))?;
    let mut chunks = Vec::new();
    let mut offset = 0;
    for size in chunk_sizes(response_body.len(), options.chunking) {
        chunks.push(response_body.slice(offset..offset + size));
        offset += size;
    }
    let headers = exchange
        .response_headers()
        .into_iter()
        .filter(|(k, _)| !k.starts_with(':') && !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()))
        .collect();
    let clock = TestClock::default();
    let record = Arc::new(Mutex::new(ReplayRecord::default()));
    let hooks = ReplayHooks {
        upstream: url.authority.clone(),
        clock: clock.clone(),
        status: exchange.response.status,
        headers,
        chunks,
        cut: exchange.cut,
        options: options.clone(),
        record: Arc::clone(&record),
    };
    let stderr = MemoryOutputPipe::new(1 << 20);
    let setup = InstanceSetup {
        env: vec![
            (
                "LLM_TRACE_UPSTREAM".into(),
                format!("{}://{}", url.scheme, url.authority),
            ),
            ("LLM_TRACE_CONFIG".into(), config.to_string()),
        ],
        hooks: Box::new(hooks),
        clock: Some(clock),
        stderr: Some(stderr.clone()),
    };
    let (response, task) = runtime.handle(request, setup).await?;
    let client_status = response.status().as_u16();
    let client_headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = response.into_body();
    let mut client_body = Vec::new();
    let mut client_body_complete = true;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    client_body.extend_from_slice(data);
                }
            }
            Err(_) => {
                client_body_complete = false;
                break;
            }
        }
    }
    drop(body);
    task.await.map_err(|e| anyhow!("the component's task failed: {e}"))??;
    let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
    let record = std::mem::take(&mut *record.lock().map_err(|_| anyhow!("replay record poisoned"))?);
    if let Some(e) = record.export_error {
        bail!("the component's export call did not decode: {e}\n{stderr}");
    }
    let (request_headers, request_body) = record.forwarded.unwrap_or_default();
    Ok(ComponentPlayed {
        played: Played {
            request_headers,
            request_body,
            response_body: client_body,
            spans: record.spans,
        },
        client_status,
        client_headers,
        client_body_complete,
        stderr,
    })
}
