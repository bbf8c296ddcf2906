//! `edge-serve`: serves a `wasi:http/proxy` component on a loopback port the way `wasmtime serve -S cli` does
//! (same crates, same version: wasmtime, wasmtime-wasi, wasmtime-wasi-http 48.0.8), for the end-to-end tests and
//! `make demo-edge` on machines without the `wasmtime` CLI. HTTP/1.1 with keep-alive, a fresh instance per request
//! (`wasmtime serve`'s default), each with `INSTANCE_ID=<n>` and the `--env` variables; the component's stderr
//! goes to ours. Outgoing requests are plain HTTP only (loopback upstreams and collectors; no TLS here).
//!
//! `edge-serve --listen 127.0.0.1:0 --component PATH [--env NAME=VALUE]...` prints `edge-serve listening on ADDR`.

use anyhow::{anyhow, Context as _, Result};
use host_tests::component_host::{component_path, ComponentRuntime, InstanceSetup, LoopbackHooks};
use host_tests::servers::arg;
use hyper::server::conn::http1;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use wasmtime_wasi_http::io::TokioIo;

fn main() -> Result<()> {
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    let path = match arg("--component") {
        Some(p) => PathBuf::from(p),
        None => component_path()?,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut env = Vec::new();
    for pair in args.windows(2).filter(|w| w[0] == "--env").map(|w| &w[1]) {
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            // `--env NAME` inherits NAME, as `wasmtime serve` does.
            None => (pair.clone(), std::env::var(pair).unwrap_or_default()),
        };
        env.push((name, value));
    }
    let runtime = Arc::new(ComponentRuntime::load(&path)?);
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(serve(&listen, runtime, Arc::new(env)))
}

async fn serve(listen: &str, runtime: Arc<ComponentRuntime>, env: Arc<Vec<(String, String)>>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("edge-serve listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let instances = Arc::new(AtomicU64::new(0));
    loop {
        let (connection, _) = listener.accept().await?;
        let (runtime, env, instances) = (Arc::clone(&runtime), Arc::clone(&env), Arc::clone(&instances));
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (runtime, env, instances) = (Arc::clone(&runtime), Arc::clone(&env), Arc::clone(&instances));
                async move {
                    let mut env = (*env).clone();
                    env.push((
                        "INSTANCE_ID".into(),
                        instances.fetch_add(1, Ordering::SeqCst).to_string(),
                    ));
                    let setup = InstanceSetup {
                        env,
                        hooks: Box::new(LoopbackHooks),
                        clock: None,
                        stderr: None,
                    };
                    let (response, task) = runtime.handle(request, setup).await?;
                    // The instance goes on after the response (it exports); its failures are logged, not served.
                    tokio::task::spawn(async move {
                        match task.await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => eprintln!("edge-serve: instance failed: {e:#}"),
                            Err(e) => eprintln!("edge-serve: instance task failed: {e}"),
                        }
                    });
                    Ok::<_, anyhow::Error>(response)
                }
            });
            if let Err(e) = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(connection), service)
                .await
            {
                eprintln!("edge-serve: connection error: {}", anyhow!(e));
            }
        });
    }
}
