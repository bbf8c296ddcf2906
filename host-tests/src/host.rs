//! A proxy-wasm ABI v0.2.1 host on wasmtime that loads the real `.wasm` and plays Envoy: header maps, body chunks
//! with Envoy's buffering rules, a clock the test controls, properties, `dispatch_http_call` / gRPC calls
//! (recorded; the test injects the answers), ticks, shared data and queues, metrics and logs.
//!
//! Every `Host` owns its own wasmtime `Store`: no global mutable state, so tests run in parallel. The engine and
//! the compiled module are shared (compiled once per process).

use anyhow::{anyhow, bail, Result};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::OnceLock;
use wasmtime::{Caller, Engine, Extern, Instance, Linker, Memory, Module, Store, TypedFunc};

/// What a filter callback asked the host to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
}

/// An HTTP call the plugin dispatched (`proxy_http_call`), recorded instead of sent.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub token: u32,
    pub upstream: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    pub timeout_ms: u32,
}

/// A unary gRPC call the plugin dispatched (`proxy_grpc_call`).
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcCall {
    pub token: u32,
    pub upstream: String,
    pub service: String,
    pub method: String,
    pub metadata: Vec<(String, Vec<u8>)>,
    pub message: Vec<u8>,
    pub timeout_ms: u32,
}

#[derive(Debug, Clone)]
pub struct HostOptions {
    pub plugin_config: String,
    pub vm_config: String,
    pub start_time_unix_ns: u64,
    pub seed: u64,
    /// Cluster names known to the host; calls to others fail with BadArgument, as in Envoy.
    pub clusters: Vec<String>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            plugin_config: "{}".into(),
            vm_config: String::new(),
            start_time_unix_ns: 1_700_000_000_000_000_000,
            seed: 1,
            clusters: vec!["otel_collector".into()],
        }
    }
}

/// Where the plugin's `.wasm` is: `LLM_TRACE_WASM`, else the workspace's release build.
pub fn wasm_path() -> Result<PathBuf> {
    let path = match std::env::var_os("LLM_TRACE_WASM") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip1/release/llm_trace.wasm"),
    };
    if !path.is_file() {
        bail!(
            "the filter is not built: {} is missing. Build it with `make wasm` \
             (or `cargo build --release --target wasm32-wasip1 -p llm-trace`).",
            path.display()
        );
    }
    Ok(path)
}

fn compiled() -> Result<&'static (Engine, Module)> {
    static COMPILED: OnceLock<std::result::Result<(Engine, Module), String>> = OnceLock::new();
    let result = COMPILED.get_or_init(|| {
        let load = || -> Result<(Engine, Module)> {
            let mut config = wasmtime::Config::new();
            config.consume_fuel(true);
            let engine = Engine::new(&config)?;
            let path = wasm_path()?;
            let module = crate::compile_cache::module(&engine, &path)?;
            Ok((engine, module))
        };
        load().map_err(|e| format!("{e:#}"))
    });
    result.as_ref().map_err(|e| anyhow!("{e}"))
}

// Proxy-wasm ABI constants.
const OK: i32 = 0;
const NOT_FOUND: i32 = 1;
const BAD_ARGUMENT: i32 = 2;
const EMPTY: i32 = 7;
const CAS_MISMATCH: i32 = 8;

const BUFFER_HTTP_REQUEST_BODY: i32 = 0;
const BUFFER_HTTP_RESPONSE_BODY: i32 = 1;
const BUFFER_HTTP_CALL_RESPONSE_BODY: i32 = 4;
const BUFFER_GRPC_RECEIVE: i32 = 5;
const BUFFER_VM_CONFIGURATION: i32 = 6;
const BUFFER_PLUGIN_CONFIGURATION: i32 = 7;

const MAP_REQUEST_HEADERS: i32 = 0;
const MAP_REQUEST_TRAILERS: i32 = 1;
const MAP_RESPONSE_HEADERS: i32 = 2;
const MAP_RESPONSE_TRAILERS: i32 = 3;
const MAP_HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
const MAP_HTTP_CALL_RESPONSE_TRAILERS: i32 = 7;

/// Fuel per callback: enough for any real work, small enough that a runaway loop fails the test, not hangs it.
const FUEL_PER_CALL: u64 = 20_000_000_000;

const ROOT_ID: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug, Clone)]
struct Metric {
    name: String,
    kind: MetricKind,
    value: i64,
    samples: Vec<u64>,
}

#[derive(Debug, Default)]
struct StreamState {
    request_headers: Vec<(String, String)>,
    request_trailers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    response_trailers: Vec<(String, String)>,
    /// Body bytes the current callback sees: the current chunk, or everything buffered since a `Pause`.
    request_body: Vec<u8>,
    response_body: Vec<u8>,
    request_body_paused: bool,
    response_body_paused: bool,
    properties: HashMap<String, Vec<u8>>,
}

#[derive(Debug, Default)]
struct SharedQueue {
    name: String,
    items: VecDeque<Vec<u8>>,
}

#[derive(Default)]
struct HostState {
    wall_ns: u64,
    mono_ns: u64,
    rng: u64,
    tick_period_ms: u32,
    logs: Vec<(u32, String)>,
    plugin_config: Vec<u8>,
    vm_config: Vec<u8>,
    clusters: Vec<String>,
    /// Context whose maps and buffers host calls act on.
    effective: u32,
    streams: HashMap<u32, StreamState>,
    global_properties: HashMap<String, Vec<u8>>,
    next_token: u32,
    /// Streams the plugin resumed (`proxy_continue_stream`), by effective context.
    continued: Vec<u32>,
    http_calls: Vec<HttpCall>,
    grpc_calls: Vec<GrpcCall>,
    call_response_headers: Vec<(String, String)>,
    call_response_trailers: Vec<(String, String)>,
    call_response_body: Vec<u8>,
    grpc_response_body: Vec<u8>,
    metrics: Vec<Metric>,
    shared_data: HashMap<String, (Vec<u8>, u32)>,
    queues: Vec<SharedQueue>,
    /// Queue ids with items enqueued since the last delivery of `proxy_on_queue_ready`.
    ready_queues: Vec<u32>,
    memory: Option<Memory>,
    /// Proxy-wasm and WASI imports the plugin called, by name, since the last `take_host_calls`.
    host_calls: BTreeMap<&'static str, u64>,
}

impl HostState {
    fn stream(&mut self) -> Option<&mut StreamState> {
        let id = self.effective;
        self.streams.get_mut(&id)
    }

    fn map(&mut self, map_type: i32) -> Option<&mut Vec<(String, String)>> {
        match map_type {
            MAP_HTTP_CALL_RESPONSE_HEADERS => Some(&mut self.call_response_headers),
            MAP_HTTP_CALL_RESPONSE_TRAILERS => Some(&mut self.call_response_trailers),
            _ => {
                let s = self.stream()?;
                match map_type {
                    MAP_REQUEST_HEADERS => Some(&mut s.request_headers),
                    MAP_REQUEST_TRAILERS => Some(&mut s.request_trailers),
                    MAP_RESPONSE_HEADERS => Some(&mut s.response_headers),
                    MAP_RESPONSE_TRAILERS => Some(&mut s.response_trailers),
                    _ => None,
                }
            }
        }
    }

    fn buffer(&mut self, buffer_type: i32) -> Option<&mut Vec<u8>> {
        match buffer_type {
            BUFFER_HTTP_REQUEST_BODY => self.stream().map(|s| &mut s.request_body),
            BUFFER_HTTP_RESPONSE_BODY => self.stream().map(|s| &mut s.response_body),
            BUFFER_HTTP_CALL_RESPONSE_BODY => Some(&mut self.call_response_body),
            BUFFER_GRPC_RECEIVE => Some(&mut self.grpc_response_body),
            BUFFER_VM_CONFIGURATION => Some(&mut self.vm_config),
            BUFFER_PLUGIN_CONFIGURATION => Some(&mut self.plugin_config),
            _ => None,
        }
    }

    fn next_random(&mut self) -> u64 {
        // SplitMix64: deterministic per seed, so ids in tests are reproducible.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn count_host_call(caller: &mut Caller<'_, HostState>, name: &'static str) {
    *caller.data_mut().host_calls.entry(name).or_default() += 1;
}

// Guest memory helpers. All return a proxy-wasm status on failure.

fn memory(caller: &mut Caller<'_, HostState>) -> Option<Memory> {
    caller.data().memory
}

fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let mem = memory(caller)?;
    let (ptr, len) = (usize::try_from(ptr).ok()?, usize::try_from(len).ok()?);
    mem.data(&*caller).get(ptr..ptr.checked_add(len)?).map(<[u8]>::to_vec)
}

fn read_string(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Option<String> {
    read(caller, ptr, len).and_then(|b| String::from_utf8(b).ok())
}

fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> Option<()> {
    let mem = memory(caller)?;
    let ptr = usize::try_from(ptr).ok()?;
    mem.data_mut(&mut *caller)
        .get_mut(ptr..ptr.checked_add(bytes.len())?)?
        .copy_from_slice(bytes);
    Some(())
}

fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, value: u32) -> Option<()> {
    write(caller, ptr, &value.to_le_bytes())
}

/// Copies `bytes` into memory the guest allocates, and stores pointer and size at the return addresses.
fn return_bytes(caller: &mut Caller<'_, HostState>, bytes: &[u8], ptr_out: i32, size_out: i32) -> i32 {
    let allocate = match caller
        .get_export("proxy_on_memory_allocate")
        .or_else(|| caller.get_export("malloc"))
    {
        Some(Extern::Func(f)) => f,
        _ => return BAD_ARGUMENT,
    };
    let Ok(allocate) = allocate.typed::<i32, i32>(&*caller) else {
        return BAD_ARGUMENT;
    };
    let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    let Ok(ptr) = allocate.call(&mut *caller, len.max(1)) else {
        return BAD_ARGUMENT;
    };
    let ok = write(caller, ptr, bytes).is_some()
        && write_u32(caller, ptr_out, ptr as u32).is_some()
        && write_u32(caller, size_out, bytes.len() as u32).is_some();
    if ok {
        OK
    } else {
        BAD_ARGUMENT
    }
}

/// The SDK's header map serialization: count, then (key length, value length) pairs, then NUL-terminated bytes.
fn serialize_map(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn deserialize_map(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let u32_at = |i: usize| {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = u32_at(0)?;
    let mut sizes = Vec::with_capacity(count);
    for i in 0..count {
        sizes.push((u32_at(4 + i * 8)?, u32_at(8 + i * 8)?));
    }
    let mut at = 4 + count * 8;
    let mut pairs = Vec::with_capacity(count);
    for (klen, vlen) in sizes {
        let key = String::from_utf8(bytes.get(at..at + klen)?.to_vec()).ok()?;
        at += klen + 1;
        let value = bytes.get(at..at + vlen)?.to_vec();
        at += vlen + 1;
        pairs.push((key, value));
    }
    Some(pairs)
}

fn to_string_pairs(pairs: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

fn define_imports(linker: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    linker.func_wrap(
        env,
        "proxy_log",
        |mut c: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| -> i32 {
            count_host_call(&mut c, "proxy_log");
            let Some(message) = read_string(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            c.data_mut().logs.push((level as u32, message));
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_log_level",
        |mut c: Caller<'_, HostState>, out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_log_level");
            write_u32(&mut c, out, 0).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_current_time_nanoseconds",
        |mut c: Caller<'_, HostState>, out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_current_time_nanoseconds");
            let now = c.data().wall_ns;
            write(&mut c, out, &now.to_le_bytes()).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_tick_period_milliseconds",
        |mut c: Caller<'_, HostState>, period: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_tick_period_milliseconds");
            c.data_mut().tick_period_ms = period as u32;
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_buffer_bytes",
        |mut c: Caller<'_, HostState>, buffer_type: i32, start: i32, max: i32, ptr_out: i32, size_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_buffer_bytes");
            let Some(buffer) = c.data_mut().buffer(buffer_type) else {
                return NOT_FOUND;
            };
            let start = (start as u32 as usize).min(buffer.len());
            let end = start.saturating_add(max as u32 as usize).min(buffer.len());
            let bytes = buffer[start..end].to_vec();
            return_bytes(&mut c, &bytes, ptr_out, size_out)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>, buffer_type: i32, start: i32, size: i32, ptr: i32, len: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_buffer_bytes");
            let Some(data) = read(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            let Some(buffer) = c.data_mut().buffer(buffer_type) else {
                return NOT_FOUND;
            };
            // Envoy's rules: start=0,size=0 prepends; start ≥ length appends; otherwise replaces [start, start+size).
            let (start, size) = (start as u32 as usize, size as u32 as usize);
            if start == 0 && size == 0 {
                buffer.splice(0..0, data);
            } else if start >= buffer.len() {
                buffer.extend_from_slice(&data);
            } else {
                let end = start.saturating_add(size).min(buffer.len());
                buffer.splice(start..end, data);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map_type: i32, ptr_out: i32, size_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_header_map_pairs");
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            let bytes = serialize_map(map);
            return_bytes(&mut c, &bytes, ptr_out, size_out)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_header_map_pairs",
        |mut c: Caller<'_, HostState>, map_type: i32, ptr: i32, len: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_header_map_pairs");
            let Some(pairs) = read(&mut c, ptr, len).and_then(|b| deserialize_map(&b)) else {
                return BAD_ARGUMENT;
            };
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            *map = to_string_pairs(pairs);
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, kptr: i32, klen: i32, ptr_out: i32, size_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_header_map_value");
            let Some(key) = read_string(&mut c, kptr, klen) else {
                return BAD_ARGUMENT;
            };
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            let Some(value) = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v.clone())
            else {
                return NOT_FOUND;
            };
            return_bytes(&mut c, value.as_bytes(), ptr_out, size_out)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_replace_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, kptr: i32, klen: i32, vptr: i32, vlen: i32| -> i32 {
            count_host_call(&mut c, "proxy_replace_header_map_value");
            let (Some(key), Some(value)) = (read_string(&mut c, kptr, klen), read_string(&mut c, vptr, vlen)) else {
                return BAD_ARGUMENT;
            };
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            map.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            map.push((key.to_ascii_lowercase(), value));
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_add_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, kptr: i32, klen: i32, vptr: i32, vlen: i32| -> i32 {
            count_host_call(&mut c, "proxy_add_header_map_value");
            let (Some(key), Some(value)) = (read_string(&mut c, kptr, klen), read_string(&mut c, vptr, vlen)) else {
                return BAD_ARGUMENT;
            };
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            map.push((key.to_ascii_lowercase(), value));
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_remove_header_map_value",
        |mut c: Caller<'_, HostState>, map_type: i32, kptr: i32, klen: i32| -> i32 {
            count_host_call(&mut c, "proxy_remove_header_map_value");
            let Some(key) = read_string(&mut c, kptr, klen) else {
                return BAD_ARGUMENT;
            };
            let Some(map) = c.data_mut().map(map_type) else {
                return NOT_FOUND;
            };
            map.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32, ptr_out: i32, size_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_property");
            let Some(path) = read(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            let key = String::from_utf8_lossy(&path).replace('\0', ".");
            let state = c.data_mut();
            let value = state
                .stream()
                .and_then(|s| s.properties.get(&key).cloned())
                .or_else(|| state.global_properties.get(&key).cloned());
            match value {
                Some(v) => return_bytes(&mut c, &v, ptr_out, size_out),
                None => NOT_FOUND,
            }
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_property",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32, vptr: i32, vlen: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_property");
            let (Some(path), Some(value)) = (read(&mut c, ptr, len), read(&mut c, vptr, vlen)) else {
                return BAD_ARGUMENT;
            };
            let key = String::from_utf8_lossy(&path).replace('\0', ".");
            match c.data_mut().stream() {
                Some(s) => s.properties.insert(key, value),
                None => c.data_mut().global_properties.insert(key, value),
            };
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_shared_data",
        |mut c: Caller<'_, HostState>, kptr: i32, klen: i32, ptr_out: i32, size_out: i32, cas_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_shared_data");
            let Some(key) = read_string(&mut c, kptr, klen) else {
                return BAD_ARGUMENT;
            };
            let Some((value, cas)) = c.data().shared_data.get(&key).cloned() else {
                return NOT_FOUND;
            };
            if write_u32(&mut c, cas_out, cas).is_none() {
                return BAD_ARGUMENT;
            }
            return_bytes(&mut c, &value, ptr_out, size_out)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_shared_data",
        |mut c: Caller<'_, HostState>, kptr: i32, klen: i32, vptr: i32, vlen: i32, cas: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_shared_data");
            let (Some(key), Some(value)) = (read_string(&mut c, kptr, klen), read(&mut c, vptr, vlen)) else {
                return BAD_ARGUMENT;
            };
            let data = &mut c.data_mut().shared_data;
            let current = data.get(&key).map_or(0, |(_, c)| *c);
            if cas != 0 && cas as u32 != current {
                return CAS_MISMATCH;
            }
            data.insert(key, (value, current + 1));
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_register_shared_queue",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32, id_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_register_shared_queue");
            let Some(name) = read_string(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            let queues = &mut c.data_mut().queues;
            let id = match queues.iter().position(|q| q.name == name) {
                Some(i) => i,
                None => {
                    queues.push(SharedQueue {
                        name,
                        items: VecDeque::new(),
                    });
                    queues.len() - 1
                }
            };
            write_u32(&mut c, id_out, id as u32 + 1).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_resolve_shared_queue",
        |mut c: Caller<'_, HostState>, _vptr: i32, _vlen: i32, ptr: i32, len: i32, id_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_resolve_shared_queue");
            let Some(name) = read_string(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            match c.data().queues.iter().position(|q| q.name == name) {
                Some(i) => write_u32(&mut c, id_out, i as u32 + 1).map_or(BAD_ARGUMENT, |_| OK),
                None => NOT_FOUND,
            }
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_enqueue_shared_queue",
        |mut c: Caller<'_, HostState>, id: i32, ptr: i32, len: i32| -> i32 {
            count_host_call(&mut c, "proxy_enqueue_shared_queue");
            let Some(value) = read(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            let state = c.data_mut();
            let Some(queue) = state.queues.get_mut((id as usize).wrapping_sub(1)) else {
                return NOT_FOUND;
            };
            queue.items.push_back(value);
            if !state.ready_queues.contains(&(id as u32)) {
                state.ready_queues.push(id as u32);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_dequeue_shared_queue",
        |mut c: Caller<'_, HostState>, id: i32, ptr_out: i32, size_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_dequeue_shared_queue");
            let Some(queue) = c.data_mut().queues.get_mut((id as usize).wrapping_sub(1)) else {
                return NOT_FOUND;
            };
            match queue.items.pop_front() {
                Some(item) => return_bytes(&mut c, &item, ptr_out, size_out),
                None => EMPTY,
            }
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_http_call",
        |mut c: Caller<'_, HostState>,
         uptr: i32,
         ulen: i32,
         hptr: i32,
         hlen: i32,
         bptr: i32,
         blen: i32,
         tptr: i32,
         tlen: i32,
         timeout: i32,
         token_out: i32|
         -> i32 {
            count_host_call(&mut c, "proxy_http_call");
            let Some(upstream) = read_string(&mut c, uptr, ulen) else {
                return BAD_ARGUMENT;
            };
            let headers = read(&mut c, hptr, hlen)
                .and_then(|b| deserialize_map(&b))
                .map(to_string_pairs);
            let trailers = read(&mut c, tptr, tlen)
                .and_then(|b| deserialize_map(&b))
                .map(to_string_pairs);
            let (Some(headers), Some(body)) = (headers, read(&mut c, bptr, blen)) else {
                return BAD_ARGUMENT;
            };
            let has = |name: &str| headers.iter().any(|(k, _)| k == name);
            // Envoy refuses unknown clusters and calls without the required pseudo-headers.
            if !c.data().clusters.contains(&upstream) || !has(":method") || !has(":path") || !has(":authority") {
                return BAD_ARGUMENT;
            }
            let state = c.data_mut();
            state.next_token += 1;
            let token = state.next_token;
            state.http_calls.push(HttpCall {
                token,
                upstream,
                headers,
                body,
                trailers: trailers.unwrap_or_default(),
                timeout_ms: timeout as u32,
            });
            write_u32(&mut c, token_out, token).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_grpc_call",
        |mut c: Caller<'_, HostState>,
         uptr: i32,
         ulen: i32,
         sptr: i32,
         slen: i32,
         mptr: i32,
         mlen: i32,
         hptr: i32,
         hlen: i32,
         bptr: i32,
         blen: i32,
         timeout: i32,
         token_out: i32|
         -> i32 {
            count_host_call(&mut c, "proxy_grpc_call");
            let upstream = read_string(&mut c, uptr, ulen);
            let service = read_string(&mut c, sptr, slen);
            let method = read_string(&mut c, mptr, mlen);
            let metadata = read(&mut c, hptr, hlen).and_then(|b| deserialize_map(&b));
            let message = read(&mut c, bptr, blen);
            let (Some(upstream), Some(service), Some(method), Some(metadata), Some(message)) =
                (upstream, service, method, metadata, message)
            else {
                return BAD_ARGUMENT;
            };
            if !c.data().clusters.contains(&upstream) {
                return 4; // ParseFailure: Envoy's answer when the upstream is neither a GrpcService nor a cluster
            }
            let state = c.data_mut();
            state.next_token += 1;
            let token = state.next_token;
            state.grpc_calls.push(GrpcCall {
                token,
                upstream,
                service,
                method,
                metadata,
                message,
                timeout_ms: timeout as u32,
            });
            write_u32(&mut c, token_out, token).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_effective_context",
        |mut c: Caller<'_, HostState>, id: i32| -> i32 {
            count_host_call(&mut c, "proxy_set_effective_context");
            let id = id as u32;
            if id != ROOT_ID && !c.data().streams.contains_key(&id) {
                return BAD_ARGUMENT;
            }
            c.data_mut().effective = id;
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_define_metric",
        |mut c: Caller<'_, HostState>, kind: i32, ptr: i32, len: i32, id_out: i32| -> i32 {
            count_host_call(&mut c, "proxy_define_metric");
            let Some(name) = read_string(&mut c, ptr, len) else {
                return BAD_ARGUMENT;
            };
            let kind = match kind {
                0 => MetricKind::Counter,
                1 => MetricKind::Gauge,
                2 => MetricKind::Histogram,
                _ => return BAD_ARGUMENT,
            };
            let metrics = &mut c.data_mut().metrics;
            // Defining the same name again binds to the same stat, as in Envoy.
            let id = match metrics.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    metrics.push(Metric {
                        name,
                        kind,
                        value: 0,
                        samples: Vec::new(),
                    });
                    metrics.len() - 1
                }
            };
            write_u32(&mut c, id_out, id as u32 + 1).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_increment_metric",
        |mut c: Caller<'_, HostState>, id: i32, offset: i64| -> i32 {
            count_host_call(&mut c, "proxy_increment_metric");
            let Some(m) = c.data_mut().metrics.get_mut((id as usize).wrapping_sub(1)) else {
                return NOT_FOUND;
            };
            if m.kind == MetricKind::Counter && offset <= 0 {
                return BAD_ARGUMENT; // Envoy counters only go up
            }
            m.value += offset;
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_record_metric",
        |mut c: Caller<'_, HostState>, id: i32, value: i64| -> i32 {
            count_host_call(&mut c, "proxy_record_metric");
            let Some(m) = c.data_mut().metrics.get_mut((id as usize).wrapping_sub(1)) else {
                return NOT_FOUND;
            };
            match m.kind {
                MetricKind::Counter => m.value += value,
                MetricKind::Gauge => m.value = value,
                MetricKind::Histogram => m.samples.push(value as u64),
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_metric",
        |mut c: Caller<'_, HostState>, id: i32, out: i32| -> i32 {
            count_host_call(&mut c, "proxy_get_metric");
            let Some(value) = c.data().metrics.get((id as usize).wrapping_sub(1)).map(|m| m.value) else {
                return NOT_FOUND;
            };
            write(&mut c, out, &value.to_le_bytes()).map_or(BAD_ARGUMENT, |_| OK)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_continue_stream",
        |mut c: Caller<'_, HostState>, _stream: i32| -> i32 {
            count_host_call(&mut c, "proxy_continue_stream");
            let effective = c.data().effective;
            c.data_mut().continued.push(effective);
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_close_stream",
        |mut c: Caller<'_, HostState>, _stream: i32| -> i32 {
            count_host_call(&mut c, "proxy_close_stream");
            OK
        },
    )?;
    linker.func_wrap(env, "proxy_done", |mut c: Caller<'_, HostState>| -> i32 {
        count_host_call(&mut c, "proxy_done");
        OK
    })?;

    let wasi = "wasi_snapshot_preview1";
    linker.func_wrap(
        wasi,
        "fd_write",
        |mut c: Caller<'_, HostState>, fd: i32, iovs: i32, iovs_len: i32, written_out: i32| -> i32 {
            count_host_call(&mut c, "fd_write");
            let mut text = Vec::new();
            for i in 0..iovs_len {
                let Some(iov) = read(&mut c, iovs + i * 8, 8) else {
                    return 21; // EFAULT
                };
                let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                match read(&mut c, ptr, len) {
                    Some(b) => text.extend(b),
                    None => return 21,
                }
            }
            let n = text.len() as u32;
            c.data_mut()
                .logs
                .push((if fd == 2 { 4 } else { 2 }, String::from_utf8_lossy(&text).into_owned()));
            write_u32(&mut c, written_out, n).map_or(21, |_| 0)
        },
    )?;
    linker.func_wrap(
        wasi,
        "clock_time_get",
        |mut c: Caller<'_, HostState>, clock: i32, _precision: i64, out: i32| -> i32 {
            count_host_call(&mut c, "clock_time_get");
            let now = if clock == 0 { c.data().wall_ns } else { c.data().mono_ns };
            write(&mut c, out, &now.to_le_bytes()).map_or(21, |_| 0)
        },
    )?;
    linker.func_wrap(
        wasi,
        "random_get",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32| -> i32 {
            count_host_call(&mut c, "random_get");
            let mut bytes = Vec::with_capacity(len as usize);
            while bytes.len() < len as usize {
                let r = c.data_mut().next_random();
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            bytes.truncate(len as usize);
            write(&mut c, ptr, &bytes).map_or(21, |_| 0)
        },
    )?;
    linker.func_wrap(
        wasi,
        "environ_sizes_get",
        |mut c: Caller<'_, HostState>, count: i32, size: i32| -> i32 {
            count_host_call(&mut c, "environ_sizes_get");
            if write_u32(&mut c, count, 0).is_some() && write_u32(&mut c, size, 0).is_some() {
                0
            } else {
                21 // EFAULT
            }
        },
    )?;
    linker.func_wrap(
        wasi,
        "environ_get",
        |mut c: Caller<'_, HostState>, _environ: i32, _buf: i32| -> i32 {
            count_host_call(&mut c, "environ_get");
            0
        },
    )?;
    linker.func_wrap(
        wasi,
        "args_sizes_get",
        |mut c: Caller<'_, HostState>, count: i32, size: i32| -> i32 {
            count_host_call(&mut c, "args_sizes_get");
            if write_u32(&mut c, count, 0).is_some() && write_u32(&mut c, size, 0).is_some() {
                0
            } else {
                21 // EFAULT
            }
        },
    )?;
    linker.func_wrap(
        wasi,
        "args_get",
        |mut c: Caller<'_, HostState>, _argv: i32, _buf: i32| -> i32 {
            count_host_call(&mut c, "args_get");
            0
        },
    )?;
    linker.func_wrap(wasi, "sched_yield", |mut c: Caller<'_, HostState>| -> i32 {
        count_host_call(&mut c, "sched_yield");
        0
    })?;
    linker.func_wrap(
        wasi,
        "proc_exit",
        |mut c: Caller<'_, HostState>, code: i32| -> wasmtime::Result<()> {
            count_host_call(&mut c, "proc_exit");
            Err(wasmtime::Error::msg(format!("the plugin called proc_exit({code})")))
        },
    )?;
    Ok(())
}

/// One VM with the plugin loaded and configured, plus everything the host recorded.
pub struct Host {
    store: Store<HostState>,
    instance: Instance,
}

type Call3 = TypedFunc<(i32, i32, i32), i32>;

impl Host {
    pub fn new(plugin_config: &str) -> Result<Host> {
        Host::with_options(HostOptions {
            plugin_config: plugin_config.to_string(),
            ..Default::default()
        })
    }

    pub fn with_options(opts: HostOptions) -> Result<Host> {
        let (engine, module) = compiled()?;
        let mut linker = Linker::new(engine);
        define_imports(&mut linker)?;
        linker.define_unknown_imports_as_traps(module)?;
        let state = HostState {
            wall_ns: opts.start_time_unix_ns,
            mono_ns: 1_000_000_000,
            rng: opts.seed,
            plugin_config: opts.plugin_config.into_bytes(),
            vm_config: opts.vm_config.into_bytes(),
            clusters: opts.clusters,
            effective: ROOT_ID,
            ..Default::default()
        };
        let mut store = Store::new(engine, state);
        store.set_fuel(FUEL_PER_CALL)?;
        let instance = linker.instantiate(&mut store, module)?;
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        let mut host = Host { store, instance };
        if let Ok(init) = host.instance.get_typed_func::<(), ()>(&mut host.store, "_initialize") {
            init.call(&mut host.store, ())?;
        } else if let Ok(start) = host.instance.get_typed_func::<(), ()>(&mut host.store, "_start") {
            start.call(&mut host.store, ())?;
        }
        host.call_void2("proxy_on_context_create", ROOT_ID as i32, 0)?;
        let vm_len = host.store.data().vm_config.len() as i32;
        if host.call2("proxy_on_vm_start", ROOT_ID as i32, vm_len)? == 0 {
            bail!("proxy_on_vm_start returned false; logs: {:?}", host.logs());
        }
        let cfg_len = host.store.data().plugin_config.len() as i32;
        if host.call2("proxy_on_configure", ROOT_ID as i32, cfg_len)? == 0 {
            let logs: Vec<String> = host.logs().into_iter().map(|(_, m)| m).collect();
            bail!("the plugin rejected its configuration: {}", logs.join(" | "));
        }
        Ok(host)
    }

    fn prepare(&mut self, context: u32) -> Result<()> {
        self.store.data_mut().effective = context;
        self.store.set_fuel(FUEL_PER_CALL)?;
        Ok(())
    }

    fn trap_context(&self, name: &str, e: impl Into<anyhow::Error>) -> anyhow::Error {
        let e: anyhow::Error = e.into();
        let recent: Vec<&String> = self.store.data().logs.iter().rev().take(5).map(|(_, m)| m).collect();
        anyhow!("`{name}` trapped: {e:#}; recent plugin logs: {recent:?}")
    }

    fn call1(&mut self, name: &str, a: i32) -> Result<i32> {
        let f = self.instance.get_typed_func::<i32, i32>(&mut self.store, name)?;
        f.call(&mut self.store, a).map_err(|e| self.trap_context(name, e))
    }

    fn call_void1(&mut self, name: &str, a: i32) -> Result<()> {
        let f = self.instance.get_typed_func::<i32, ()>(&mut self.store, name)?;
        f.call(&mut self.store, a).map_err(|e| self.trap_context(name, e))
    }

    fn call2(&mut self, name: &str, a: i32, b: i32) -> Result<i32> {
        let f = self.instance.get_typed_func::<(i32, i32), i32>(&mut self.store, name)?;
        f.call(&mut self.store, (a, b)).map_err(|e| self.trap_context(name, e))
    }

    fn call_void2(&mut self, name: &str, a: i32, b: i32) -> Result<()> {
        let f = self.instance.get_typed_func::<(i32, i32), ()>(&mut self.store, name)?;
        f.call(&mut self.store, (a, b)).map_err(|e| self.trap_context(name, e))
    }

    fn call3(&mut self, name: &str, a: i32, b: i32, c: i32) -> Result<i32> {
        let f: Call3 = self.instance.get_typed_func(&mut self.store, name)?;
        f.call(&mut self.store, (a, b, c))
            .map_err(|e| self.trap_context(name, e))
    }

    fn call_void3(&mut self, name: &str, a: i32, b: i32, c: i32) -> Result<()> {
        let f = self
            .instance
            .get_typed_func::<(i32, i32, i32), ()>(&mut self.store, name)?;
        f.call(&mut self.store, (a, b, c))
            .map_err(|e| self.trap_context(name, e))
    }

    /// Delivers `proxy_on_queue_ready` for queues that got items, as Envoy posts it after the current callback.
    fn deliver_queue_ready(&mut self) -> Result<()> {
        for _ in 0..16 {
            let ready = std::mem::take(&mut self.store.data_mut().ready_queues);
            if ready.is_empty() {
                return Ok(());
            }
            for id in ready {
                self.prepare(ROOT_ID)?;
                self.call_void2("proxy_on_queue_ready", ROOT_ID as i32, id as i32)?;
            }
        }
        Ok(())
    }

    fn action(code: i32) -> Action {
        if code == 0 {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.store.data().wall_ns
    }

    /// Moves both the wall and the monotonic clock forward.
    pub fn advance_ns(&mut self, ns: u64) {
        let s = self.store.data_mut();
        s.wall_ns += ns;
        s.mono_ns += ns;
    }

    pub fn advance_ms(&mut self, ms: u64) {
        self.advance_ns(ms * 1_000_000);
    }

    pub fn tick_period_ms(&self) -> u32 {
        self.store.data().tick_period_ms
    }

    pub fn tick(&mut self) -> Result<()> {
        self.prepare(ROOT_ID)?;
        self.call_void1("proxy_on_tick", ROOT_ID as i32)?;
        self.deliver_queue_ready()
    }

    pub fn new_stream(&mut self) -> Result<u32> {
        let id = {
            let s = self.store.data_mut();
            // Stream ids after the root's; skip any still alive.
            let mut id = ROOT_ID + 1;
            while s.streams.contains_key(&id) {
                id += 1;
            }
            let mut stream = StreamState::default();
            stream
                .properties
                .insert("request.time".into(), (s.wall_ns as i64).to_le_bytes().to_vec());
            s.streams.insert(id, stream);
            id
        };
        self.prepare(id)?;
        self.call_void2("proxy_on_context_create", id as i32, ROOT_ID as i32)?;
        Ok(id)
    }

    pub fn set_stream_property(&mut self, stream: u32, path: &[&str], value: Vec<u8>) {
        if let Some(s) = self.store.data_mut().streams.get_mut(&stream) {
            s.properties.insert(path.join("."), value);
        }
    }

    pub fn set_property(&mut self, path: &[&str], value: Vec<u8>) {
        self.store.data_mut().global_properties.insert(path.join("."), value);
    }

    fn stream_mut(&mut self, stream: u32) -> Result<&mut StreamState> {
        self.store
            .data_mut()
            .streams
            .get_mut(&stream)
            .ok_or_else(|| anyhow!("no stream {stream}"))
    }

    fn headers_callback(
        &mut self,
        stream: u32,
        name: &str,
        headers: &[(&str, &str)],
        end_of_stream: bool,
        request: bool,
    ) -> Result<(Action, Vec<(String, String)>)> {
        let pairs: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let n = pairs.len() as i32;
        {
            let s = self.stream_mut(stream)?;
            if request {
                s.request_headers = pairs;
            } else {
                s.response_headers = pairs;
            }
        }
        self.prepare(stream)?;
        let code = self.call3(name, stream as i32, n, i32::from(end_of_stream))?;
        self.deliver_queue_ready()?;
        let s = self.stream_mut(stream)?;
        let out = if request {
            s.request_headers.clone()
        } else {
            s.response_headers.clone()
        };
        Ok((Host::action(code), out))
    }

    /// Request headers; returns the action and the headers as the plugin left them.
    pub fn request_headers(
        &mut self,
        stream: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<(Action, Vec<(String, String)>)> {
        self.headers_callback(stream, "proxy_on_request_headers", headers, end_of_stream, true)
    }

    pub fn response_headers(
        &mut self,
        stream: u32,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Result<(Action, Vec<(String, String)>)> {
        self.headers_callback(stream, "proxy_on_response_headers", headers, end_of_stream, false)
    }

    /// A body chunk, with Envoy's rule: after a `Pause`, the next call sees everything buffered so far.
    /// Returns the action and the bytes forwarded (empty while paused).
    fn body_callback(
        &mut self,
        stream: u32,
        chunk: &[u8],
        end_of_stream: bool,
        request: bool,
    ) -> Result<(Action, Vec<u8>)> {
        let size = {
            let s = self.stream_mut(stream)?;
            let (buffer, paused) = if request {
                (&mut s.request_body, s.request_body_paused)
            } else {
                (&mut s.response_body, s.response_body_paused)
            };
            if !paused {
                buffer.clear();
            }
            buffer.extend_from_slice(chunk);
            buffer.len() as i32
        };
        let name = if request {
            "proxy_on_request_body"
        } else {
            "proxy_on_response_body"
        };
        self.prepare(stream)?;
        let code = self.call3(name, stream as i32, size, i32::from(end_of_stream))?;
        self.deliver_queue_ready()?;
        let action = Host::action(code);
        let s = self.stream_mut(stream)?;
        let (buffer, paused) = if request {
            (&mut s.request_body, &mut s.request_body_paused)
        } else {
            (&mut s.response_body, &mut s.response_body_paused)
        };
        *paused = action == Action::Pause && !end_of_stream;
        let forwarded = if *paused { Vec::new() } else { std::mem::take(buffer) };
        Ok((action, forwarded))
    }

    pub fn request_body(&mut self, stream: u32, chunk: &[u8], end_of_stream: bool) -> Result<(Action, Vec<u8>)> {
        self.body_callback(stream, chunk, end_of_stream, true)
    }

    pub fn response_body(&mut self, stream: u32, chunk: &[u8], end_of_stream: bool) -> Result<(Action, Vec<u8>)> {
        self.body_callback(stream, chunk, end_of_stream, false)
    }

    fn trailers_callback(
        &mut self,
        stream: u32,
        name: &str,
        trailers: &[(&str, &str)],
        request: bool,
    ) -> Result<Action> {
        let pairs: Vec<(String, String)> = trailers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let n = pairs.len() as i32;
        {
            let s = self.stream_mut(stream)?;
            if request {
                s.request_trailers = pairs;
            } else {
                s.response_trailers = pairs;
            }
        }
        self.prepare(stream)?;
        let code = self.call2(name, stream as i32, n)?;
        self.deliver_queue_ready()?;
        Ok(Host::action(code))
    }

    pub fn request_trailers(&mut self, stream: u32, trailers: &[(&str, &str)]) -> Result<Action> {
        self.trailers_callback(stream, "proxy_on_request_trailers", trailers, true)
    }

    pub fn response_trailers(&mut self, stream: u32, trailers: &[(&str, &str)]) -> Result<Action> {
        self.trailers_callback(stream, "proxy_on_response_trailers", trailers, false)
    }

    /// Envoy's access-log phase (`proxy_on_log`), which runs for every finished stream, cut or not.
    pub fn log(&mut self, stream: u32) -> Result<()> {
        self.prepare(stream)?;
        self.call_void1("proxy_on_log", stream as i32)?;
        self.deliver_queue_ready()
    }

    /// `proxy_on_done` then `proxy_on_delete`; the stream is gone afterwards.
    pub fn done(&mut self, stream: u32) -> Result<()> {
        self.prepare(stream)?;
        self.call1("proxy_on_done", stream as i32)?;
        self.call_void1("proxy_on_delete", stream as i32)?;
        self.store.data_mut().streams.remove(&stream);
        self.deliver_queue_ready()
    }

    /// The request headers of `stream` as the plugin left them so far (headers it holds can still change).
    pub fn request_headers_now(&self, stream: u32) -> Vec<(String, String)> {
        self.store
            .data()
            .streams
            .get(&stream)
            .map(|s| s.request_headers.clone())
            .unwrap_or_default()
    }

    /// Streams the plugin resumed since the last call (`proxy_continue_stream`, with the context it made
    /// effective).
    pub fn take_continued(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.store.data_mut().continued)
    }

    pub fn take_http_calls(&mut self) -> Vec<HttpCall> {
        std::mem::take(&mut self.store.data_mut().http_calls)
    }

    pub fn take_grpc_calls(&mut self) -> Vec<GrpcCall> {
        std::mem::take(&mut self.store.data_mut().grpc_calls)
    }

    /// Answers a recorded HTTP call: `proxy_on_http_call_response` on the root context.
    pub fn respond_http_call(&mut self, token: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<()> {
        {
            let s = self.store.data_mut();
            s.call_response_headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            s.call_response_trailers.clear();
            s.call_response_body = body.to_vec();
        }
        self.prepare(ROOT_ID)?;
        let f = self
            .instance
            .get_typed_func::<(i32, i32, i32, i32, i32), ()>(&mut self.store, "proxy_on_http_call_response")?;
        let args = (ROOT_ID as i32, token as i32, headers.len() as i32, body.len() as i32, 0);
        f.call(&mut self.store, args)
            .map_err(|e| self.trap_context("proxy_on_http_call_response", e))?;
        self.deliver_queue_ready()
    }

    /// The call got no answer (timeout, reset, no healthy upstream): `num_headers` is 0.
    pub fn fail_http_call(&mut self, token: u32) -> Result<()> {
        self.respond_http_call(token, &[], b"")
    }

    /// Answers a unary gRPC call: the message on success (status 0), else a close with the status.
    pub fn respond_grpc_call(&mut self, token: u32, status: u32, message: &[u8]) -> Result<()> {
        self.prepare(ROOT_ID)?;
        if status == 0 {
            self.store.data_mut().grpc_response_body = message.to_vec();
            self.call_void3(
                "proxy_on_grpc_receive",
                ROOT_ID as i32,
                token as i32,
                message.len() as i32,
            )?;
        } else {
            self.call_void3("proxy_on_grpc_close", ROOT_ID as i32, token as i32, status as i32)?;
        }
        self.deliver_queue_ready()
    }

    pub fn logs(&self) -> Vec<(u32, String)> {
        self.store.data().logs.clone()
    }

    fn metric(&self, name: &str) -> Option<&Metric> {
        self.store.data().metrics.iter().find(|m| m.name == name)
    }

    pub fn counter(&self, name: &str) -> Option<u64> {
        self.metric(name)
            .filter(|m| m.kind == MetricKind::Counter)
            .map(|m| m.value as u64)
    }

    pub fn gauge(&self, name: &str) -> Option<i64> {
        self.metric(name)
            .filter(|m| m.kind == MetricKind::Gauge)
            .map(|m| m.value)
    }

    pub fn histogram(&self, name: &str) -> Option<Vec<u64>> {
        self.metric(name)
            .filter(|m| m.kind == MetricKind::Histogram)
            .map(|m| m.samples.clone())
    }

    pub fn metric_names(&self) -> Vec<String> {
        self.store.data().metrics.iter().map(|m| m.name.clone()).collect()
    }

    /// Size of the guest's linear memory: the VM's memory footprint.
    pub fn memory_bytes(&mut self) -> usize {
        self.store.data().memory.map_or(0, |m| m.data_size(&self.store))
    }

    pub fn shared_data(&self, key: &str) -> Option<Vec<u8>> {
        self.store.data().shared_data.get(key).map(|(v, _)| v.clone())
    }

    /// Host calls (imports, by name) the plugin made since the last time they were taken.
    pub fn take_host_calls(&mut self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut self.store.data_mut().host_calls)
    }

    /// Fuel the last callback consumed: a deterministic measure of the work it did.
    pub fn fuel_used_by_last_call(&self) -> u64 {
        FUEL_PER_CALL - self.store.get_fuel().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_maps_round_trip() {
        let pairs = vec![
            (":path".to_string(), "/x".to_string()),
            ("k".to_string(), String::new()),
        ];
        let bytes = serialize_map(&pairs);
        let back = to_string_pairs(deserialize_map(&bytes).unwrap());
        assert_eq!(back, pairs);
        assert!(deserialize_map(&[1, 0, 0, 0]).is_none());
    }
}
