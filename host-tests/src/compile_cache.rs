//! Compiled `.wasm` modules and components, cached on disk in the workspace's `target/wasmtime-cache/`.
//!
//! The test binary, every `replay` the tests spawn, `wasm-cost` and `edge-serve` load the same bytes, and Cranelift
//! spends seconds on each compilation of the filter. An artifact is keyed by the bytes and by wasmtime's own
//! compatibility hash of the engine (its version and configuration), so a rebuilt `.wasm` or another engine
//! configuration gets a new entry; wasmtime also refuses, on load, an artifact made by another version or
//! configuration, and a refused or unreadable entry is compiled again and replaced. Writing is best effort
//! (a read-only target directory just means compiling every time).

use anyhow::{Context as _, Result};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// The filter's module compiled for `engine`, from the cache when it holds these bytes.
pub fn module(engine: &Engine, path: &Path) -> Result<Module> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let cached = entry(engine, path, &bytes);
    if let Some(file) = &cached {
        // SAFETY: the file is one this module wrote (below) from these exact bytes with an engine of the same
        // compatibility hash, renamed into place only once complete; wasmtime checks its header, version and
        // configuration before use.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, file) } {
            return Ok(module);
        }
    }
    let module = Module::new(engine, &bytes)
        .map_err(|e| anyhow::Error::from(e).context(format!("compiling {}", path.display())))?;
    if let (Some(file), Ok(artifact)) = (cached, module.serialize()) {
        store(&file, &artifact);
    }
    Ok(module)
}

/// The component compiled for `engine`, from the cache when it holds these bytes.
pub fn component(engine: &Engine, path: &Path) -> Result<Component> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let cached = entry(engine, path, &bytes);
    if let Some(file) = &cached {
        // SAFETY: as in `module`: written by this module from these bytes and this engine's configuration.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, file) } {
            return Ok(component);
        }
    }
    let component = Component::new(engine, &bytes)
        .map_err(|e| anyhow::Error::from(e).context(format!("compiling {}", path.display())))?;
    if let (Some(file), Ok(artifact)) = (cached, component.serialize()) {
        store(&file, &artifact);
    }
    Ok(component)
}

/// `target/wasmtime-cache/<file stem>-<hash>.cwasm`, or None when the directory cannot be made.
fn entry(engine: &Engine, path: &Path, bytes: &[u8]) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasmtime-cache");
    std::fs::create_dir_all(&dir).ok()?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
    Some(dir.join(format!("{stem}-{:016x}.cwasm", hasher.finish())))
}

/// Writes beside the entry, then renames: a concurrent reader sees a whole artifact or none.
fn store(file: &Path, artifact: &[u8]) {
    let partial = file.with_extension(format!("partial-{}", std::process::id()));
    if std::fs::write(&partial, artifact).is_err() || std::fs::rename(&partial, file).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}
