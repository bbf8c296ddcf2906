//! The attributes of a retrieval span (a vector-store query): the GenAI retrieval conventions and the database
//! conventions, this project's `llm.retrieval.*` facts, and in the OpenInference dialect a `RETRIEVER` span with
//! its flattened documents. Document text and metadata appear only under content capture, redacted, then cut.

use super::attributes as attr;
use super::content::{export_content, export_text};
use super::span::{AttrValue, AttributeList, Semconv, SpanOptions};
use super::trace_context::to_hex;
use crate::model::content::CaptureMode;
use crate::model::observation::Observation;
use crate::model::retrieval::{Document, Retrieval};
use crate::policy::capture::metadata_only;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `retrieval {collection}`: the GenAI span name, with the collection's name where known (a Chroma id otherwise).
pub(super) fn span_name(r: &Retrieval) -> String {
    match r.collection_name.as_deref().or(r.data_source_id.as_deref()) {
        Some(collection) => format!("retrieval {collection}"),
        None => "retrieval".to_string(),
    }
}

/// Every attribute of a retrieval span but the ones all spans share (status, attribution, error, redactions).
pub(super) fn retrieval_attributes(
    a: &mut AttributeList,
    obs: &Observation,
    r: &Retrieval,
    options: &SpanOptions<'_>,
    redactions: &mut Vec<(Arc<str>, u32)>,
) {
    let capture = obs.capture;
    let documents: Vec<ExportedDocument> = r
        .documents
        .iter()
        .map(|d| ExportedDocument::of(d, capture, options, redactions))
        .collect();
    let query_text = r
        .query_text
        .as_deref()
        .and_then(|t| export_text(t, capture, options, redactions));
    if options.gen_ai {
        a.str(attr::GEN_AI_OPERATION_NAME, Some(obs.operation));
        a.str(attr::GEN_AI_DATA_SOURCE_ID, r.data_source_id.as_deref());
        a.str(attr::GEN_AI_REQUEST_MODEL, r.request_model.as_deref());
        if let Some(k) = r.single_top_k() {
            match options.semconv {
                Semconv::V1_41 => a.double(attr::GEN_AI_REQUEST_TOP_K, Some(k as f64)),
                Semconv::Latest => a.uint(attr::GEN_AI_REQUEST_TOP_K, Some(k)),
            }
        }
        if r.returned_rows.is_some() {
            let multi = r.query_count > 1;
            let list: Vec<Value> = r
                .documents
                .iter()
                .zip(&documents)
                .map(|(d, e)| e.gen_ai_object(d, multi))
                .collect();
            a.str(attr::GEN_AI_RETRIEVAL_DOCUMENTS, Some(&Value::Array(list).to_string()));
        }
        a.str(attr::GEN_AI_RETRIEVAL_QUERY_TEXT, query_text.as_deref());
    }
    database_attributes(a, obs, r);
    project_attributes(a, r);
    if options.openinference {
        a.str(attr::OPENINFERENCE_SPAN_KIND, Some("RETRIEVER"));
        for (i, (d, e)) in r.documents.iter().zip(&documents).enumerate() {
            let key = |field: &str| format!("{}.{i}.document.{field}", attr::OI_RETRIEVAL_DOCUMENTS);
            if let Some(id) = &d.id {
                a.owned(key("id"), AttrValue::Str(id.clone()));
            }
            if let Some(score) = d.score.filter(|s| s.is_finite()) {
                a.owned(key("score"), AttrValue::Double(score));
            }
            if let Some(content) = &e.content {
                a.owned(key("content"), AttrValue::Str(content.clone()));
            }
            if let Some(metadata) = &e.metadata {
                a.owned(key("metadata"), AttrValue::Str(metadata.clone()));
            }
        }
        if let Some(text) = &query_text {
            a.str(attr::OI_INPUT_VALUE, Some(text));
            a.str(attr::OI_INPUT_MIME_TYPE, Some("text/plain"));
        }
    }
}

/// The database conventions, in both dialects: what a DB client span of the same call would say.
fn database_attributes(a: &mut AttributeList, obs: &Observation, r: &Retrieval) {
    a.str(attr::DB_SYSTEM_NAME, Some(r.store.db_system()));
    a.str(attr::DB_COLLECTION_NAME, r.collection_name.as_deref());
    a.str(attr::DB_NAMESPACE, r.namespace.as_deref());
    let batch = r.batch && r.query_count > 1;
    if batch {
        a.owned(
            attr::DB_OPERATION_NAME.to_string(),
            AttrValue::Str(format!("BATCH {}", r.operation)),
        );
        a.uint(attr::DB_OPERATION_BATCH_SIZE, Some(u64::from(r.query_count)));
    } else {
        a.str(attr::DB_OPERATION_NAME, Some(r.operation));
    }
    a.uint(attr::DB_RESPONSE_RETURNED_ROWS, r.returned_rows);
    if let Some(status) = obs.http_status {
        a.owned(
            attr::DB_RESPONSE_STATUS_CODE.to_string(),
            AttrValue::Str(status.to_string()),
        );
    }
    a.str(attr::SERVER_ADDRESS, obs.server_address.as_deref());
    a.int(attr::SERVER_PORT, obs.server_port);
}

/// This project's facts: what the scores mean, the query's shape, what was left out, and the embeddings call the
/// query vector came from.
fn project_attributes(a: &mut AttributeList, r: &Retrieval) {
    a.str(attr::LLM_RETRIEVAL_SCORE_KIND, r.score_kind.map(|k| k.name()));
    a.str(attr::LLM_RETRIEVAL_DISTANCE_METRIC, r.distance_metric.as_deref());
    a.uint(attr::LLM_RETRIEVAL_QUERY_COUNT, Some(u64::from(r.query_count)));
    a.uint(
        attr::LLM_RETRIEVAL_QUERY_VECTOR_DIMENSION,
        r.vector_dimension.map(u64::from),
    );
    if r.filter {
        a.bool(attr::LLM_RETRIEVAL_FILTER, true);
    }
    if r.top_k.len() > 1 && r.single_top_k().is_none() {
        let per_query = Value::Array(r.top_k.iter().map(|k| json!(k)).collect());
        a.str(attr::LLM_RETRIEVAL_TOP_K_PER_QUERY, Some(&per_query.to_string()));
    }
    if r.documents_dropped > 0 {
        a.uint(attr::LLM_RETRIEVAL_DOCUMENTS_DROPPED, Some(r.documents_dropped));
    }
    if r.content_omitted > 0 {
        a.uint(attr::LLM_RETRIEVAL_CONTENT_OMITTED, Some(r.content_omitted));
    }
    if let Some(origin) = r.query_embedding {
        a.str(
            attr::LLM_RETRIEVAL_QUERY_EMBEDDING_TRACE_ID,
            Some(&to_hex(&origin.trace_id)),
        );
        a.str(
            attr::LLM_RETRIEVAL_QUERY_EMBEDDING_SPAN_ID,
            Some(&to_hex(&origin.span_id)),
        );
    }
}

/// A document's text and metadata as they may leave: redacted then cut (full capture), their shape only
/// (metadata capture), or nothing.
struct ExportedDocument {
    content: Option<String>,
    /// JSON text (cut with the marker when over the limit).
    metadata: Option<String>,
}

impl ExportedDocument {
    fn of(
        d: &Document,
        capture: CaptureMode,
        options: &SpanOptions<'_>,
        redactions: &mut Vec<(Arc<str>, u32)>,
    ) -> Self {
        let content = d
            .content
            .as_deref()
            .and_then(|t| export_text(t, capture, options, redactions));
        let metadata = d
            .metadata
            .as_deref()
            .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
            .and_then(|v| {
                // Metadata is all content, whatever its keys are called: in metadata mode every value becomes its
                // length.
                let shaped = match capture {
                    CaptureMode::Metadata => metadata_only(&json!({ "content": v })).get("content").cloned()?,
                    _ => v,
                };
                export_content(&shaped, capture, options, redactions)
            });
        ExportedDocument { content, metadata }
    }

    /// The document in `gen_ai.retrieval.documents`: the id as a string, the score as on the wire, the query it
    /// answers when the call had several.
    fn gen_ai_object(&self, d: &Document, multi_query: bool) -> Value {
        let mut o = Map::new();
        if let Some(id) = &d.id {
            o.insert("id".into(), json!(id));
        }
        if let Some(score) = d.score.filter(|s| s.is_finite()) {
            o.insert("score".into(), json!(score));
        }
        if multi_query {
            o.insert("query".into(), json!(d.query));
        }
        if let Some(content) = &self.content {
            o.insert("content".into(), json!(content));
        }
        if let Some(metadata) = &self.metadata {
            let value = serde_json::from_str(metadata).unwrap_or_else(|_| Value::String(metadata.clone()));
            o.insert("metadata".into(), value);
        }
        Value::Object(o)
    }
}
